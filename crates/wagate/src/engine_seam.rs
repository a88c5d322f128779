//! Where the session engine plugs into the binary.
//!
//! `build_engine` is called once by [`crate::run`] after the database is
//! open and before the HTTP server starts: it starts the whatsapp-rust
//! session engine and brings back every linked session.

use crate::{EngineContext, Services};
use std::sync::Arc;
use wagate_core::outbound::MediaBlob;
use wagate_engine::outbound::{JpegThumbnail, LinkCard, MediaSource, OutboundSettings, Outbox};
use wagate_engine::{Engine, EngineConfig};
use wagate_net::link_preview::{PreviewFetcher, PreviewLimits};

/// The engine reads outbound media from the blob store, and fetches link
/// preview cards unless they are turned off.
struct BlobMedia {
    blobs: wagate_store::BlobStore,
    previews: Option<PreviewFetcher>,
}

#[async_trait::async_trait]
impl MediaSource for BlobMedia {
    async fn read(&self, blob: &MediaBlob) -> std::io::Result<Vec<u8>> {
        self.blobs.read(&blob.sha256).await
    }

    async fn store(&self, bytes: &[u8]) -> std::io::Result<(String, u64)> {
        self.blobs.put(bytes).await
    }

    async fn link_card(&self, url: &str) -> Option<LinkCard> {
        let previews = self.previews.as_ref()?;
        let url = match wagate_net::Url::parse(url) {
            Ok(url) => url,
            Err(e) => {
                tracing::info!(error = %e, "link preview not fetched: the link is not a URL");
                return None;
            }
        };
        // The site only: a path or query may carry someone's token.
        let site = url.origin().ascii_serialization();
        match previews.fetch(&url).await {
            Ok(page) => {
                tracing::debug!(%site, thumbnail = page.thumbnail.is_some(), "link preview fetched");
                Some(LinkCard {
                    title: page.title,
                    description: page.description,
                    thumbnail: page.thumbnail.map(|t| JpegThumbnail {
                        jpeg: t.jpeg,
                        width: t.width,
                        height: t.height,
                    }),
                })
            }
            Err(e) => {
                tracing::info!(%site, error = %e, "link preview not fetched; the text goes without a card");
                None
            }
        }
    }
}

/// The link preview fetcher the settings ask for, if any.
fn preview_fetcher(sending: &crate::config::Sending) -> anyhow::Result<Option<PreviewFetcher>> {
    if !sending.preview_fetch {
        return Ok(None);
    }
    let fetcher = PreviewFetcher::new(
        sending.preview_policy(),
        PreviewLimits::default(),
        concat!("wagate/", env!("CARGO_PKG_VERSION"), " (link preview)"),
    )?;
    Ok(Some(fetcher))
}

/// Builds the session engine for `wagate serve`.
pub async fn build_engine(ctx: EngineContext) -> anyhow::Result<Services> {
    build_engine_with(ctx, None).await
}

/// [`build_engine`] with a replacement HTTPS client for media (tests and
/// the demo hand in one that trusts the simulator's media host).
pub async fn build_engine_with(
    ctx: EngineContext,
    http_client: Option<Arc<dyn wagate_engine::HttpClient>>,
) -> anyhow::Result<Services> {
    let settings = OutboundSettings {
        policy: ctx.sending.policy.clone(),
        ack_timeout: ctx.sending.ack_timeout,
        parallel_recipients: ctx.sending.parallel_recipients,
        node: ctx.leases.node.to_string(),
        ..OutboundSettings::default()
    };
    let outbox = Outbox::new(
        ctx.queue.clone(),
        ctx.outcomes.clone(),
        Arc::new(BlobMedia {
            blobs: ctx.blobs.clone(),
            previews: preview_fetcher(&ctx.sending)?,
        }),
        settings,
    );
    let engine = Engine::new(
        Arc::new(ctx.cipher.clone()),
        ctx.store.clone(),
        ctx.metrics.clone(),
        EngineConfig {
            wa_url: ctx.wa_url.clone(),
            client_version: ctx.wa_version,
            http_client,
            public_url: ctx.public_url.clone(),
            media_links: ctx.media_links.clone(),
        },
        outbox,
        ctx.events.clone(),
        ctx.leases.clone(),
    );
    let weak = Arc::downgrade(&engine);
    let wake: Arc<dyn Fn(&wagate_core::SessionKey) + Send + Sync> = Arc::new(move |key| {
        if let Some(engine) = weak.upgrade() {
            engine.wake_if_held(key);
        }
    });
    let on_committed = wake.clone();
    ctx.enqueuer.on_committed(move |key| on_committed(key));
    // Messages accepted by other nodes, for the sessions this one runs.
    let listener = wagate_store::outbound::work_notices::listen(ctx.store.db(), wake.clone());
    let restored = engine.restore().await?;
    tracing::info!(restored, "sessions restored");
    let stopping = engine.clone();
    let counting = Arc::downgrade(&engine);
    let changed = Arc::downgrade(&engine);
    let outcomes = ctx.outcomes.clone();
    Ok(Services::new(engine, async move {
        if let Some(listener) = listener {
            listener.abort();
        }
        stopping.shutdown().await;
        outcomes.flush().await;
    })
    .with_wake(move |key| {
        if let Some(engine) = changed.upgrade() {
            engine.settings_changed(key);
        }
    })
    .with_held(move || {
        counting
            .upgrade()
            .map_or(0, |e| u32::try_from(e.held_count()).unwrap_or(u32::MAX))
    }))
}
