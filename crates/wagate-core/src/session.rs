use crate::{CoreError, SessionId, TenantId};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Lifecycle of a WhatsApp session as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Disconnected,
    Connecting,
    /// Waiting for a phone to scan the QR (or enter the pair code).
    Qr,
    Connected,
    /// The phone unlinked this device; credentials are gone, no reconnects.
    LoggedOut,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 5] = [
        SessionStatus::Disconnected,
        SessionStatus::Connecting,
        SessionStatus::Qr,
        SessionStatus::Connected,
        SessionStatus::LoggedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Disconnected => "disconnected",
            SessionStatus::Connecting => "connecting",
            SessionStatus::Qr => "qr",
            SessionStatus::Connected => "connected",
            SessionStatus::LoggedOut => "logged_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        SessionStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A session's identity across the whole system: its tenant and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub tenant: TenantId,
    pub session: SessionId,
}

/// What the API asks of the session engine. The engine records state
/// changes (status, QR, phone, last connected) in the store, so readers go
/// to the store, not to the engine.
#[async_trait]
pub trait SessionControl: Send + Sync {
    /// Starts (or restarts) the session's connection.
    async fn connect(&self, key: &SessionKey) -> Result<(), CoreError>;
    /// Asks WhatsApp for an 8-character pairing code for `phone` (digits).
    async fn pair_code(&self, key: &SessionKey, phone: &str) -> Result<String, CoreError>;
    /// Unlinks the device and ends in `logged_out`.
    async fn logout(&self, key: &SessionKey) -> Result<(), CoreError>;
    /// Stops the session's task and forgets its WhatsApp state.
    async fn remove(&self, key: &SessionKey) -> Result<(), CoreError>;
    /// Moves the session to gateway node `node` (which must run sessions):
    /// its node stops it, letting what it is sending finish, and hands it
    /// over; `node` connects it.
    async fn move_to(&self, key: &SessionKey, node: &str) -> Result<(), CoreError>;
}

/// One change to a session's recorded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionUpdate {
    Status(SessionStatus),
    Qr(Option<String>),
    PairCode(Option<String>),
    Connected {
        phone: String,
        at: chrono::DateTime<chrono::Utc>,
    },
}

/// Which node made a write, under which lease epoch. A fenced write lands
/// only while that node still holds the session at that epoch, so a node
/// that lost a session (frozen, cut off) cannot overwrite what the new
/// owner records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub node: std::sync::Arc<str>,
    pub epoch: i64,
}

/// One update of one session, fenced when the engine that owns it made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    pub key: SessionKey,
    pub update: SessionUpdate,
    pub fence: Option<Fence>,
}

/// Where the engine writes what it learns about a session, and reads which
/// sessions to bring back after a restart. Implemented by the store.
#[async_trait]
pub trait SessionRecords: Send + Sync {
    /// Applies `updates` in order. Stores that can do it in one write
    /// should: a thousand sessions reconnecting at once make a thousand
    /// updates, and one commit each would serialize them on the disk.
    /// Updates to sessions that no longer exist, and fenced updates whose
    /// node no longer holds the session at that epoch, are skipped.
    async fn apply_updates(&self, updates: &[SessionWrite]) -> Result<(), CoreError>;

    async fn set_status(&self, key: &SessionKey, status: SessionStatus) -> Result<(), CoreError>;
    /// The QR string currently shown; `None` clears it.
    async fn set_qr(&self, key: &SessionKey, qr: Option<&str>) -> Result<(), CoreError>;
    /// The pairing code currently offered; `None` clears it.
    async fn set_pair_code(&self, key: &SessionKey, code: Option<&str>) -> Result<(), CoreError>;
    /// Marks the session connected as `phone` (digits) at `at`.
    async fn set_connected(
        &self,
        key: &SessionKey,
        phone: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), CoreError>;
    /// Sessions to start when the process starts: every session that is
    /// not logged out.
    async fn sessions_to_restore(&self) -> Result<Vec<SessionKey>, CoreError>;
}
