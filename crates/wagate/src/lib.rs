//! The wagate binary as a library: [`run`] starts the whole service on a
//! listener it is given, so tests run the real app on port 0.

pub mod bootstrap;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
mod dispatch;
pub mod engine_seam;
pub mod node;
mod users;

pub use config::Config;

use anyhow::Context;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;
use wagate_core::{Metrics, SessionControl};
use wagate_store::{StateCipher, Store};

/// What the session engine is built from.
#[derive(Debug, Clone)]
pub struct EngineContext {
    /// Also the engine's `SessionRecords`.
    pub store: Store,
    /// Seals WhatsApp state at rest, under the master key.
    pub cipher: StateCipher,
    /// Shared with `/metrics`; the engine counts reconnects here.
    pub metrics: Arc<Metrics>,
    /// WhatsApp Web websocket endpoint.
    pub wa_url: String,
    /// Pinned WhatsApp Web version, if configured.
    pub wa_version: Option<(u32, u32, u32)>,
    /// The outbound queue the engine's senders drain.
    pub queue: wagate_store::Outbound,
    pub outcomes: wagate_store::outbound::OutcomeWriter,
    pub enqueuer: wagate_store::outbound::Enqueuer,
    pub blobs: wagate_store::BlobStore,
    pub sending: config::Sending,
    /// The event outbox: inbound messages and session changes go here.
    pub events: wagate_store::Events,
    /// This gateway's base URL, for links it hands out (received media).
    pub public_url: String,
    /// Signs public links to received media, when they are on.
    pub media_links: Option<wagate_store::blobs::MediaLinks>,
    /// This node's id, and how it holds sessions.
    pub leases: wagate_engine::LeaseSettings,
}

/// A running session engine as the rest of the service sees it.
pub struct Services {
    pub control: Arc<dyn SessionControl>,
    /// Tells a session's sender its sending settings changed.
    pub wake: Arc<dyn Fn(&wagate_core::SessionKey) + Send + Sync>,
    /// Awaited once the HTTP server has drained: stop sessions, flush state.
    pub shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// How many sessions this node holds, for its heartbeat.
    pub held: Arc<dyn Fn() -> u32 + Send + Sync>,
}

impl Services {
    pub fn new(
        control: Arc<dyn SessionControl>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Services {
            control,
            wake: Arc::new(|_| {}),
            shutdown: Box::pin(shutdown),
            held: Arc::new(|| 0),
        }
    }

    pub fn with_held(mut self, held: impl Fn() -> u32 + Send + Sync + 'static) -> Self {
        self.held = Arc::new(held);
        self
    }

    pub fn with_wake(
        mut self,
        wake: impl Fn(&wagate_core::SessionKey) + Send + Sync + 'static,
    ) -> Self {
        self.wake = Arc::new(wake);
        self
    }
}

/// Runs wagate until `shutdown` completes: opens and migrates the
/// database, makes sure an admin key exists, starts the session engine
/// and serves the API on `listener`, then drains requests and stops the
/// engine.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_engine(config, listener, shutdown, engine_seam::build_engine).await
}

/// [`run`] with the engine built by `build_engine` instead of
/// [`engine_seam::build_engine`].
pub async fn run_with_engine<B, F>(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    build_engine: B,
) -> anyhow::Result<()>
where
    B: FnOnce(EngineContext) -> F,
    F: Future<Output = anyhow::Result<Services>>,
{
    let store = open_store(&config).await?;
    let limits = tier_limits(&store, &config.tiers).await?;
    if let Some(secret) = bootstrap::ensure_admin_key(&store, config.admin_key.as_ref()).await? {
        bootstrap::print_admin_key(&secret);
    }
    let master_key = bootstrap::master_key(&config)?;
    let metrics = Arc::new(Metrics::default());
    let cipher = StateCipher::new(master_key.0);
    let (access_ttl, refresh_ttl) = (config.accounts.access_ttl, config.accounts.refresh_ttl);
    let tokens = wagate_api::accounts::tokens::TokenKeys::new(&cipher, access_ttl, refresh_ttl);
    let accounts = wagate_api::accounts::Accounts::new(tokens);
    let media_links = config
        .media
        .public_url_ttl
        .map(|ttl| wagate_store::blobs::MediaLinks::new(&cipher, ttl));
    let committer = wagate_store::Committer::start(store.db().clone());
    let events = wagate_store::Events::new(committer.clone(), Arc::new(cipher.clone())).await?;
    let event_notices = events.listen_to_other_nodes();
    let sweeper = wagate_store::history::RetentionSweeper::start(
        committer.clone(),
        config.history.retention_days,
        config.history.sweep_interval,
    );
    let queue = wagate_store::Outbound::new(committer);
    let enqueuer = wagate_store::outbound::Enqueuer::start(queue.clone()).await?;
    let blobs = config.media.open_store(&config.data_dir).with_context(|| {
        format!(
            "cannot open the media store (media directory in {})",
            config.data_dir.display()
        )
    })?;
    let public_url = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{}", listener.local_addr()?),
    };
    // Registered before the engine starts: its leases name this node.
    let roles = config.cluster.roles;
    let sole_node = store.db().backend() == wagate_store::db::Backend::Sqlite;
    if sole_node && roles != config::Roles::ALL {
        anyhow::bail!(
            "roles can be split only on PostgreSQL: on SQLite one node serves the database, \
             so it must do everything (api, engine, sender, webhooks)"
        );
    }
    let node = node::Node::register(store.clone(), public_url.clone(), roles.names())
        .await
        .context("cannot register this node")?;
    let leases = wagate_engine::LeaseSettings {
        node: node.id().into(),
        ttl: config.cluster.lease_ttl,
        sole_node,
    };
    let context = EngineContext {
        store: store.clone(),
        cipher,
        metrics: metrics.clone(),
        wa_url: config.wa_url.clone(),
        wa_version: config.wa_version,
        queue: queue.clone(),
        outcomes: wagate_store::outbound::OutcomeWriter::start(queue.clone(), events.clone()),
        enqueuer: enqueuer.clone(),
        blobs: blobs.clone(),
        sending: config.sending.clone(),
        events: events.clone(),
        public_url: public_url.clone(),
        media_links: media_links.clone(),
        leases,
    };
    let services = if roles.engine {
        match build_engine(context).await {
            Ok(services) => services,
            Err(err) => {
                node.abandon().await;
                return Err(err.context("cannot start the session engine"));
            }
        }
    } else {
        // Sessions run on the engine nodes; commands reach them there.
        let remote = wagate_engine::RemoteSessions::new(store.clone());
        Services::new(Arc::new(remote), async {})
    };

    let fetch_policy = wagate_net::AddressPolicy::from_allow_list(&config.sending.fetch_allow)?;
    let outgoing = wagate_api::messages::Outgoing {
        queue,
        enqueuer,
        media: wagate_api::messages::MediaIntake::new(
            blobs,
            config.sending.media_limits,
            fetch_policy,
        )?,
        default_policy: config.sending.policy.clone(),
        wake: services.wake.clone(),
    };
    let dispatcher = if roles.webhooks {
        Some(
            dispatch::start(events.clone(), &config.webhooks)
                .context("cannot start the webhook dispatcher")?,
        )
    } else {
        None
    };
    let state = wagate_api::AppState::new(
        store.clone(),
        services.control.clone(),
        metrics,
        outgoing,
        events,
        config.webhooks.policy(),
    )
    .with_media_links(media_links)
    .with_accounts(accounts)
    .with_profiles(config.profiles)
    .with_limits(limits);
    let node = node.beat(services.held.clone());
    let address = listener.local_addr()?;
    tracing::info!(%address, node = node.id(), "wagate listening");
    // Graceful shutdown waits for every response to end; the live event
    // streams end only when told.
    let streams = state.shutdown.clone();
    let shutdown = async move {
        shutdown.await;
        streams.begin();
    };
    let router = if roles.api {
        wagate_api::router(state)
    } else {
        wagate_api::probes_router(state)
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")?;
    tracing::info!("HTTP server drained; stopping the session engine");
    services.shutdown.await;
    node.stop().await;
    if let Some(dispatcher) = dispatcher {
        dispatcher.stop().await;
    }
    sweeper.stop().await;
    if let Some(listener) = event_notices {
        listener.abort();
    }
    tracing::info!("wagate stopped");
    Ok(())
}

/// The tier limits, with the last hour's accepted messages counted again.
/// The configured default tier must be one of the database's tiers.
async fn tier_limits(
    store: &Store,
    tiers: &config::Tiers,
) -> anyhow::Result<Arc<wagate_api::limits::Limits>> {
    if store.tier(&tiers.default_tier).await?.is_none() {
        let known: Vec<String> = store
            .tiers()
            .await?
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        anyhow::bail!(
            "{}: unknown tier '{}' (the tiers are {})",
            tiers.origin,
            tiers.default_tier,
            known.join(", ")
        );
    }
    let limits =
        wagate_api::limits::Limits::start(store.clone(), tiers.default_tier.clone()).await?;
    Ok(Arc::new(limits))
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Opens the database, creating its directory and file on first use, and
/// brings its schema up to date; the default tenant exists afterwards.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if let Some(dir) = config::sqlite_file(&config.database_url)
        .as_deref()
        .and_then(std::path::Path::parent)
        .filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create database directory {}", dir.display()))?;
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = wagate_store::db::Db::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open database {}", redacted(&config.database_url)))?;
    let store = Store::new(db);
    store.default_tenant().await?;
    Ok(store)
}
