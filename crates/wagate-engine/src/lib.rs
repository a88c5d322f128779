//! The session engine: one supervised task per WhatsApp session, each
//! owning a whatsapp-rust client whose credentials live in our database.
//!
//! The engine writes what it learns (status, QR, pair code, phone number,
//! last connected) through [`SessionRecords`]; the API reads the store.
//! A session runs on the node holding its lease (see [`ownership`]); every
//! write the engine makes for it is fenced by that lease's epoch.

mod commands;
mod control;
mod durable_inbound;
mod events;
mod http;
pub mod inbound;
mod lease_keeper;
mod leased_transport;
mod media_fetch;
pub mod outbound;
mod ownership;
mod poll_votes;
mod remote;
mod state_writer;
mod supervisor;

pub use http::SharedHttpClient;
pub use ownership::LeaseSettings;
pub use remote::RemoteSessions;
pub use wacore::net::HttpClient;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wagate_core::{Metrics, SessionKey, SessionRecords, SessionStatus, SessionUpdate};
use wagate_store::{StateCipher, Store};

/// How sessions reach WhatsApp.
#[derive(Clone)]
pub struct EngineConfig {
    /// WhatsApp Web socket URL (`wss://web.whatsapp.com/ws/chat` in
    /// production, the simulator's `ws://` URL in tests).
    pub wa_url: String,
    /// Pins the WhatsApp Web version the client announces; `None` lets the
    /// client look it up from web.whatsapp.com.
    pub client_version: Option<(u32, u32, u32)>,
    /// Replaces the default HTTPS client for media and version lookups.
    pub http_client: Option<Arc<dyn HttpClient>>,
    /// The gateway's own base URL (`http://host:port`), for the media links
    /// in received-message events.
    pub public_url: String,
    /// Signs the public links to received media, when they are on.
    pub media_links: Option<wagate_store::blobs::MediaLinks>,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("wa_url", &self.wa_url)
            .field("client_version", &self.client_version)
            .field("http_client", &self.http_client.is_some())
            .finish()
    }
}

/// Runs every session of this process.
pub struct Engine {
    /// Lets `&self` methods hand an owned engine to session tasks.
    me: std::sync::Weak<Engine>,
    /// The process's database writer (and, through it, the pool).
    committer: wagate_store::Committer,
    cipher: Arc<StateCipher>,
    store: Store,
    /// The sessions this node holds the lease of.
    leases: Arc<ownership::Ownership>,
    metrics: Arc<Metrics>,
    config: EngineConfig,
    writer: state_writer::StateWriter,
    outbox: Arc<outbound::Outbox>,
    /// Where inbound messages and session changes are recorded as events.
    events: wagate_store::Events,
    /// What interrupted media downloads need to run again.
    media_downloads: wagate_store::media_downloads::MediaDownloads,
    sessions: Mutex<HashMap<SessionKey, supervisor::Running>>,
    /// The loop renewing leases and taking over orphaned sessions.
    keeper: Mutex<Option<lease_keeper::Keeper>>,
    /// Carries out commands other nodes wrote for this node's sessions.
    commands: Mutex<Option<commands::Commands>>,
    /// Sends commands for sessions other nodes run.
    remote: RemoteSessions,
}

impl Engine {
    pub fn new(
        cipher: Arc<StateCipher>,
        store: Store,
        metrics: Arc<Metrics>,
        config: EngineConfig,
        outbox: outbound::Outbox,
        events: wagate_store::Events,
        leases: LeaseSettings,
    ) -> Arc<Self> {
        let _ = outbox.metrics.set(metrics.clone());
        let media_downloads = wagate_store::media_downloads::MediaDownloads::new(
            outbox.queue.committer().clone(),
            cipher.clone(),
        );
        let leases = Arc::new(ownership::Ownership::new(leases, &store));
        Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            committer: outbox.queue.committer().clone(),
            cipher,
            writer: state_writer::StateWriter::start(Arc::new(store.clone()), leases.clone()),
            remote: RemoteSessions::new(store.clone()),
            store,
            leases,
            metrics,
            config,
            outbox: Arc::new(outbox),
            media_downloads,
            events,
            sessions: Mutex::new(HashMap::new()),
            keeper: Mutex::new(None),
            commands: Mutex::new(None),
        })
    }

    fn arc(&self) -> Arc<Engine> {
        self.me
            .upgrade()
            .expect("the engine outlives its own method calls")
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, supervisor::Running>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings back every session that is linked to a phone and that no
    /// other live node holds, without a new QR; sessions never linked wait
    /// for an explicit connect. Then keeps the leases: renews them, stops
    /// what it lost, takes over what dead nodes left.
    pub async fn restore(&self) -> anyhow::Result<usize> {
        durable_inbound::settle_interrupted(self).await;
        let keys = self.store.sessions_to_restore().await?;
        let steal = self.leases.settings.sole_node;
        let mut started = 0;
        for key in keys {
            if self.leases.acquire(&key, steal).await?.is_none() {
                continue;
            }
            if self.take_up(key).await? {
                started += 1;
            }
        }
        // Statuses written before the API serves, so nobody reads a stale
        // `connected` from before the restart.
        self.writer.flush().await;
        self.resume_sending().await?;
        let keeper = lease_keeper::Keeper::start(self.arc());
        *self.keeper.lock().unwrap_or_else(|p| p.into_inner()) = Some(keeper);
        let commands = commands::Commands::start(&self.arc());
        *self.commands.lock().unwrap_or_else(|p| p.into_inner()) = Some(commands);
        Ok(started)
    }

    /// Runs a session whose lease this node just took, when it is linked
    /// to a phone; otherwise records it disconnected and lets the lease go.
    async fn take_up(&self, key: SessionKey) -> anyhow::Result<bool> {
        if self.backend(&key).is_paired().await.unwrap_or(false) {
            self.start(key).await?;
            return Ok(true);
        }
        self.writer
            .record(&key, SessionUpdate::Status(SessionStatus::Disconnected));
        self.writer.flush().await;
        self.leases.release(&key).await;
        Ok(false)
    }

    /// Puts back messages a previous process claimed but never finished
    /// (their ids are kept, so a resend is no duplicate) and starts a
    /// sender for every session with work.
    async fn resume_sending(&self) -> anyhow::Result<()> {
        // Alone on the database, whatever is claimed was claimed by a
        // process that is gone. With several nodes, claims go back per
        // session as a node takes it over (see `start`).
        if self.leases.settings.sole_node {
            let released = self.outbox.queue.release_all_claims().await?;
            if released > 0 {
                tracing::info!(
                    released,
                    "messages claimed before the restart are queued again"
                );
            }
        }
        for (tenant, session) in self.outbox.queue.sessions_with_work().await? {
            if let Ok(session) = wagate_core::SessionId::parse(&session) {
                self.wake_sender(&SessionKey {
                    tenant: wagate_core::TenantId(tenant),
                    session,
                });
            }
        }
        Ok(())
    }

    /// New messages for a session (or its connection is back).
    pub fn wake_sender(&self, key: &SessionKey) {
        self.outbox.wake(&self.me, key);
    }

    /// A session's sending settings changed: its sender, if it runs here,
    /// loads them again before it sends more.
    pub fn settings_changed(&self, key: &SessionKey) {
        self.outbox.mark_reload(key);
        self.wake_if_held(key);
    }

    /// New messages for a session, heard of from anywhere: only the node
    /// running it sends them.
    pub fn wake_if_held(&self, key: &SessionKey) {
        if self.leases.trusted_epoch(key).is_some() {
            self.wake_sender(key);
        }
    }

    /// Wakes the sender of every session this node holds that has work: a
    /// net under notifications missed while a listener reconnected.
    pub(crate) async fn wake_held_with_work(&self) -> anyhow::Result<()> {
        for (tenant, session) in self.outbox.queue.sessions_with_work().await? {
            if let Ok(session) = wagate_core::SessionId::parse(&session) {
                self.wake_if_held(&SessionKey {
                    tenant: wagate_core::TenantId(tenant),
                    session,
                });
            }
        }
        Ok(())
    }

    /// Where the gateway serves the file of the received message recorded
    /// as event `id`.
    pub(crate) fn media_url(&self, id: &wagate_core::events::EventId) -> String {
        format!(
            "{}/api/v1/media/{}",
            self.config.public_url.trim_end_matches('/'),
            id.as_str()
        )
    }

    /// A signed link to the same file that needs no API key, when the
    /// gateway hands such links out. Signed now, as the event is made:
    /// the payload is stored once and sent as stored, so its expiry counts
    /// from when the message arrived.
    pub(crate) fn public_media_url(
        &self,
        tenant: wagate_core::TenantId,
        id: &wagate_core::events::EventId,
    ) -> Option<String> {
        let links = self.config.media_links.as_ref()?;
        Some(links.url(
            &self.config.public_url,
            tenant.0,
            id.as_str(),
            chrono::Utc::now().timestamp(),
        ))
    }

    pub fn outbox(&self) -> &outbound::Outbox {
        &self.outbox
    }

    fn backend(&self, key: &SessionKey) -> wagate_store::WaStateBackend {
        wagate_store::WaStateBackend::new(
            self.committer.clone(),
            self.cipher.clone(),
            key.tenant,
            key.session.clone(),
        )
    }

    /// Stops every session, flushing its client state to the database,
    /// and lets its lease run out for another node to take at once.
    pub async fn shutdown(&self) {
        let keeper = self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(keeper) = keeper {
            keeper.stop().await;
        }
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(commands) = commands {
            commands.stop();
        }
        let all: Vec<supervisor::Running> = self.running().drain().map(|(_, r)| r).collect();
        futures::future::join_all(all.into_iter().map(supervisor::Running::stop)).await;
        self.writer.flush().await;
        self.leases.hand_over_all().await;
    }

    /// How many sessions this node holds the lease of.
    pub fn held_count(&self) -> usize {
        self.leases.count()
    }

    /// How many sessions have a live task.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }
}
