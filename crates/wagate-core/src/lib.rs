//! Domain types and rules of wagate, free of I/O.
//!
//! Everything that crosses a layer boundary is built here: validated ids,
//! session states, API-key rules, the events the gateway reports and their
//! webhook shapes, and the [`SessionControl`] interface the API uses to
//! command the session engine.

pub mod accounts;
pub mod error;
pub mod events;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod outbound;
pub mod session;
pub mod tiers;

pub use accounts::{Email, Password, PasswordHash, UserRole};
pub use error::CoreError;
pub use events::{Event, EventData, EventFilter, EventId, EventKind, WebhookShape};
pub use ids::{Recipient, SessionId, TenantId};
pub use keys::{ApiKeyScope, KeyDigest, NewApiKey};
pub use metrics::{Metrics, MetricsSnapshot};
pub use session::{
    Fence, SessionControl, SessionKey, SessionRecords, SessionStatus, SessionUpdate, SessionWrite,
};
pub use tiers::{LimitExceeded, LimitKind, TierLimits, TierName};
