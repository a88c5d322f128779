//! What the API asks of the engine.

use crate::Engine;
use async_trait::async_trait;
use std::sync::Arc;
use wagate_core::{CoreError, SessionControl, SessionKey, SessionStatus};
use whatsapp_rust::Client;
use whatsapp_rust::pair_code::PairCodeOptions;

impl Engine {
    pub(crate) fn client_of(&self, key: &SessionKey) -> Option<Arc<Client>> {
        self.running().get(key).and_then(|r| r.client())
    }

    async fn stop_session(&self, key: &SessionKey) {
        let running = self.running().remove(key);
        if let Some(r) = running {
            r.stop().await;
        }
    }

    /// Unlinks the device from the phone, then stops the session. In this
    /// order because the unlink request needs the connection the stop
    /// closes; a client logged out the other way round stays listed on
    /// the phone.
    async fn unlink_and_stop(&self, key: &SessionKey) {
        if let Some(client) = self.client_of(key)
            && client.is_logged_in()
        {
            client.logout().await;
        }
        self.stop_session(key).await;
    }
}

impl Engine {
    /// Makes sure this node holds `key`'s lease before a command; a
    /// session no node holds is taken. False: another node runs it.
    async fn own(&self, key: &SessionKey) -> Result<bool, CoreError> {
        if self.leases.trusted_epoch(key).is_some() {
            return Ok(true);
        }
        self.claim_session(key, false)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))
    }

    /// Carries `command` out for a session this node runs or can take;
    /// `None` when another node runs it. Answers the pair code of
    /// `pair_code`.
    pub async fn carry_out(
        &self,
        key: &SessionKey,
        command: &str,
        argument: Option<&str>,
    ) -> Result<Option<Option<String>>, CoreError> {
        if command == "connect"
            && let Some(client) = self.client_of(key)
            && client.is_logged_in()
        {
            return Ok(Some(None));
        }
        if !self.own(key).await? {
            return Ok(None);
        }
        let answer = match command {
            "connect" => self.connect_here(key).await.map(|()| None)?,
            "pair_code" => Some(self.pair_code_here(key, argument.unwrap_or("")).await?),
            "logout" => {
                self.unlink_and_stop(key).await;
                self.forget_credentials(key, SessionStatus::LoggedOut).await;
                self.leases.release(key).await;
                None
            }
            "remove" => {
                self.unlink_and_stop(key).await;
                self.leases.release(key).await;
                wagate_store::WaStateBackend::delete_all(
                    self.committer.db(),
                    key.tenant,
                    &key.session,
                )
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))?;
                None
            }
            "move" => {
                self.move_here(key, argument.unwrap_or("")).await?;
                None
            }
            other => {
                return Err(CoreError::Internal(format!(
                    "unknown session command {other}"
                )));
            }
        };
        Ok(Some(answer))
    }

    /// Hands a session this node holds to node `target`: lets what it is
    /// sending finish (up to [`DRAIN`]), stops it, gives the lease up and
    /// has `target` connect it. Should `target` not, the session runs here
    /// again rather than nowhere.
    async fn move_here(&self, key: &SessionKey, target: &str) -> Result<(), CoreError> {
        if *target == *self.leases.settings.node {
            if self.client_of(key).is_none() {
                self.connect_here(key).await?;
            }
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + DRAIN;
        while self.outbox.queue.in_flight(key).await? > 0 && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(DRAIN_LOOK).await;
        }
        let running = self.running().remove(key);
        if let Some(r) = running {
            r.stop().await;
        }
        self.writer.flush().await;
        self.leases.release(key).await;
        let moved = self
            .remote
            .ask_node(key, "connect", None, Some(target))
            .await;
        if moved.is_err() && self.claim_session(key, false).await.unwrap_or(false) {
            tracing::warn!(session = %key.session, target, "the move failed; the session runs here again");
            self.connect_here(key).await?;
        }
        moved.map(drop)
    }

    async fn connect_here(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.start(key.clone())
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        // The caller answers with the session's state: `connecting`.
        self.writer.flush().await;
        Ok(())
    }

    async fn pair_code_here(&self, key: &SessionKey, phone: &str) -> Result<String, CoreError> {
        if self.client_of(key).is_none() {
            self.connect_here(key).await?;
        }
        let client = wait_for_client(self, key)
            .await
            .ok_or_else(|| unavailable("session is not running"))?;
        if client.is_logged_in() {
            return Err(CoreError::Conflict(
                "session is already linked to a phone".into(),
            ));
        }
        let options = PairCodeOptions {
            phone_number: phone.to_string(),
            ..Default::default()
        };
        let code = client
            .pair_with_code(options)
            .await
            .map_err(|e| unavailable(&format!("WhatsApp did not issue a pairing code: {e}")))?;
        self.writer.record(
            key,
            wagate_core::SessionUpdate::PairCode(Some(code.clone())),
        );
        self.writer.flush().await;
        Ok(code)
    }

    /// Here when this node runs (or can take) the session, otherwise on
    /// the node that runs it.
    async fn routed(
        &self,
        key: &SessionKey,
        command: &str,
        argument: Option<&str>,
    ) -> Result<Option<String>, CoreError> {
        match self.carry_out(key, command, argument).await? {
            Some(answer) => Ok(answer),
            None => self.remote.ask(key, command, argument).await,
        }
    }
}

/// How long a move waits for the messages being sent to be acked.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);
const DRAIN_LOOK: std::time::Duration = std::time::Duration::from_millis(50);

fn unavailable(what: &str) -> CoreError {
    CoreError::Unavailable(what.to_string())
}

#[async_trait]
impl SessionControl for Engine {
    async fn connect(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.routed(key, "connect", None).await.map(drop)
    }

    async fn pair_code(&self, key: &SessionKey, phone: &str) -> Result<String, CoreError> {
        self.routed(key, "pair_code", Some(phone))
            .await?
            .ok_or_else(|| CoreError::Internal("a pair code answer without a code".into()))
    }

    async fn logout(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.routed(key, "logout", None).await.map(drop)
    }

    async fn remove(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.routed(key, "remove", None).await.map(drop)
    }

    async fn move_to(&self, key: &SessionKey, node: &str) -> Result<(), CoreError> {
        self.routed(key, "move", Some(node)).await.map(drop)
    }
}

/// A just-started session builds its client within moments.
async fn wait_for_client(engine: &Engine, key: &SessionKey) -> Option<Arc<Client>> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(c) = engine.client_of(key) {
            return Some(c);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
