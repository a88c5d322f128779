//! Where the session engine plugs into the binary.
//!
//! `build_engine` is called once by [`crate::run`] after the database is
//! open and before the HTTP server starts: it starts the whatsapp-rust
//! session engine and brings back every linked session.

use crate::{EngineContext, Services};
use std::sync::Arc;
use wagate_engine::{Engine, EngineConfig};

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
    let engine = Engine::new(
        ctx.store.pool().clone(),
        Arc::new(ctx.cipher.clone()),
        Arc::new(ctx.store.clone()),
        ctx.metrics.clone(),
        EngineConfig {
            wa_url: ctx.wa_url.clone(),
            client_version: ctx.wa_version,
            http_client,
        },
    );
    let restored = engine.restore().await?;
    tracing::info!(restored, "sessions restored");
    let stopping = engine.clone();
    Ok(Services::new(engine, async move {
        stopping.shutdown().await;
    }))
}
