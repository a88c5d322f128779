//! Where the session engine plugs into the binary.
//!
//! `build_engine` is called once by [`crate::run`] after the database is
//! open and before the HTTP server starts. Until the whatsapp-rust engine
//! lands it returns [`EngineNotRunning`], which refuses every command with
//! `CoreError::Unavailable`, so the API answers 503 for session actions
//! while everything else (accounts, keys, health) works.

use crate::{EngineContext, Services};
use async_trait::async_trait;
use wagate_core::{CoreError, Recipient, SessionControl, SessionKey};

/// Builds the session engine for `wagate serve`.
pub async fn build_engine(_ctx: EngineContext) -> anyhow::Result<Services> {
    tracing::warn!("no session engine in this build: session actions answer 503");
    Ok(Services::new(
        std::sync::Arc::new(EngineNotRunning),
        async {},
    ))
}

/// Stand-in engine: every command is refused as unavailable.
#[derive(Debug, Clone, Copy)]
pub struct EngineNotRunning;

fn not_running() -> CoreError {
    CoreError::Unavailable("session engine not running".to_string())
}

#[async_trait]
impl SessionControl for EngineNotRunning {
    async fn connect(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(not_running())
    }

    async fn pair_code(&self, _: &SessionKey, _: &str) -> Result<String, CoreError> {
        Err(not_running())
    }

    async fn logout(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(not_running())
    }

    async fn remove(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(not_running())
    }

    async fn send_text(&self, _: &SessionKey, _: &Recipient, _: &str) -> Result<String, CoreError> {
        Err(not_running())
    }
}
