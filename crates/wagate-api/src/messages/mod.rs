//! Outbound messages: queue any kind (single, bulk, scheduled), read
//! their status, and set a session's send pacing.

pub mod accept;
pub mod media_in;
pub mod policy;
pub(crate) mod prepare;
pub mod read;
pub mod request;
mod upload;

pub use accept::{BulkRequest, QueuedMessage, send_bulk, send_message};
pub(crate) use accept::{queue_one, read_send_request};
pub use media_in::{MediaIntake, MediaLimits};
pub use policy::{PolicyView, get_policy, put_policy};
pub(crate) use prepare::UploadedPart;
pub use read::{MessagePage, MessageView, get_message, list_messages};
pub use request::{MAX_TEXT_CHARS, SendMessageRequest};

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use wagate_core::SessionKey;
use wagate_core::outbound::SendPolicy;
use wagate_store::Outbound;
use wagate_store::outbound::Enqueuer;

/// What the message routes work with.
pub struct Outgoing {
    pub queue: Outbound,
    pub enqueuer: Enqueuer,
    pub media: MediaIntake,
    /// Pacing for sessions without their own settings.
    pub default_policy: SendPolicy,
    /// Tells the session's sender that something changed.
    pub wake: Arc<dyn Fn(&SessionKey) + Send + Sync>,
}

impl Outgoing {
    pub fn wake(&self, key: &SessionKey) {
        (self.wake)(key)
    }
}

/// A JSON body may carry the largest file in base64 (4 bytes per 3).
pub fn json_limit(limits: &MediaLimits) -> usize {
    (limits.largest() as usize / 3 + 1) * 4 + 64 * 1024
}

pub fn router(limits: &MediaLimits) -> Router<AppState> {
    // Multipart adds headers per part; a few KiB over the file is plenty.
    let body_limit = json_limit(limits).max(limits.largest() as usize + 64 * 1024);
    Router::new()
        .route(
            "/api/v1/sessions/{id}/messages",
            post(send_message).get(list_messages),
        )
        .route("/api/v1/sessions/{id}/messages/bulk", post(send_bulk))
        .route(
            "/api/v1/sessions/{id}/messages/{message_id}",
            get(get_message),
        )
        .route(
            "/api/v1/sessions/{id}/send-policy",
            get(get_policy).put(put_policy),
        )
        .layer(DefaultBodyLimit::max(body_limit))
}
