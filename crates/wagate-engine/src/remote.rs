//! Commands for sessions this node does not run, through the database:
//! the command is written, the node running the session carries it out
//! and answers in the same row, and the caller waits for the answer. An
//! API-only node sends every command this way.

use async_trait::async_trait;
use std::time::Duration;
use wagate_core::{CoreError, SessionControl, SessionKey};
use wagate_store::Store;

/// How long a caller waits for the running node: long enough for a pair
/// code, which needs WhatsApp to answer first.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);
const ASK_EVERY: Duration = Duration::from_millis(50);

/// Sends commands to whichever node runs a session.
#[derive(Clone)]
pub struct RemoteSessions {
    store: Store,
}

impl RemoteSessions {
    pub fn new(store: Store) -> Self {
        RemoteSessions { store }
    }

    /// Sends `command` for `key` and waits for its answer.
    pub async fn ask(
        &self,
        key: &SessionKey,
        command: &str,
        argument: Option<&str>,
    ) -> Result<Option<String>, CoreError> {
        self.ask_node(key, command, argument, None).await
    }

    /// [`RemoteSessions::ask`], carried out by `node` only when given.
    pub async fn ask_node(
        &self,
        key: &SessionKey,
        command: &str,
        argument: Option<&str>,
        node: Option<&str>,
    ) -> Result<Option<String>, CoreError> {
        let id = self
            .store
            .send_command(key, command, argument, node)
            .await?;
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        loop {
            if let Some(answer) = self.store.command_answer(id).await? {
                return answer;
            }
            if tokio::time::Instant::now() >= deadline {
                self.store.drop_command(id).await?;
                return Err(CoreError::Unavailable(format!(
                    "no node of this gateway carried out {command} for session {} within {}s",
                    key.session,
                    ANSWER_WITHIN.as_secs()
                )));
            }
            tokio::time::sleep(ASK_EVERY).await;
        }
    }
}

#[async_trait]
impl SessionControl for RemoteSessions {
    async fn connect(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.ask(key, "connect", None).await.map(drop)
    }

    async fn pair_code(&self, key: &SessionKey, phone: &str) -> Result<String, CoreError> {
        self.ask(key, "pair_code", Some(phone))
            .await?
            .ok_or_else(|| CoreError::Internal("a pair code answer without a code".into()))
    }

    async fn logout(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.ask(key, "logout", None).await.map(drop)
    }

    async fn remove(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.ask(key, "remove", None).await.map(drop)
    }

    async fn move_to(&self, key: &SessionKey, node: &str) -> Result<(), CoreError> {
        self.ask(key, "move", Some(node)).await.map(drop)
    }
}
