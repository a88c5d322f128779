//! Where the session engine plugs into the binary.
//!
//! `build_engine` is called once by [`crate::run`] after the database is
//! open and before the HTTP server starts: it starts the whatsapp-rust
//! session engine and brings back every linked session.

use crate::{EngineContext, Services};
use std::sync::Arc;
use wagate_core::outbound::MediaBlob;
use wagate_engine::outbound::{MediaSource, OutboundSettings, Outbox};
use wagate_engine::{Engine, EngineConfig};

/// The engine reads outbound media from the blob store.
struct BlobMedia(wagate_store::BlobStore);

#[async_trait::async_trait]
impl MediaSource for BlobMedia {
    async fn read(&self, blob: &MediaBlob) -> std::io::Result<Vec<u8>> {
        self.0.read(&blob.sha256).await
    }

    async fn store(&self, bytes: &[u8]) -> std::io::Result<(String, u64)> {
        self.0.put(bytes).await
    }
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
        ..OutboundSettings::default()
    };
    let outbox = Outbox::new(
        ctx.queue.clone(),
        ctx.outcomes.clone(),
        Arc::new(BlobMedia(ctx.blobs.clone())),
        settings,
    );
    let engine = Engine::new(
        Arc::new(ctx.cipher.clone()),
        Arc::new(ctx.store.clone()),
        ctx.metrics.clone(),
        EngineConfig {
            wa_url: ctx.wa_url.clone(),
            client_version: ctx.wa_version,
            http_client,
            public_url: ctx.public_url.clone(),
        },
        outbox,
        ctx.events.clone(),
    );
    let weak = Arc::downgrade(&engine);
    ctx.enqueuer.on_committed(move |key| {
        if let Some(engine) = weak.upgrade() {
            engine.wake_sender(key);
        }
    });
    let restored = engine.restore().await?;
    tracing::info!(restored, "sessions restored");
    let stopping = engine.clone();
    let weak = Arc::downgrade(&engine);
    let outcomes = ctx.outcomes.clone();
    Ok(Services::new(engine, async move {
        stopping.shutdown().await;
        outcomes.flush().await;
    })
    .with_wake(move |key| {
        if let Some(engine) = weak.upgrade() {
            engine.wake_sender(key);
        }
    }))
}
