//! The body an endpoint is sent for an event. Endpoints choose a payload
//! shape; the dispatcher only asks for bytes, so shapes can be added
//! without touching delivery.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use wagate_store::events::{Endpoint, StoredEvent};

/// Turns an event into the payload of one endpoint's shape.
pub trait Render: Send + Sync {
    /// The JSON body to sign and send, or `None` when the endpoint's shape
    /// has no form for this event; the delivery is then closed as skipped.
    ///
    /// `dispatched_at` is the time of this attempt, for shapes that carry
    /// one besides the event's own.
    fn render(
        &self,
        endpoint: &Endpoint,
        event: &StoredEvent,
        dispatched_at: DateTime<Utc>,
    ) -> Option<Vec<u8>>;
}

/// The gateway's own shape, the same on every attempt:
/// `{"id", "type", "timestamp", "sessionId", "data"}`.
///
/// Renders endpoints whose shape is `native` only: sending another shape's
/// subscriber a payload it cannot parse would look like a delivery.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeRender;

/// The `shape` of endpoints that take the native payload.
const NATIVE_SHAPE: &str = "native";

impl Render for NativeRender {
    fn render(
        &self,
        endpoint: &Endpoint,
        event: &StoredEvent,
        _dispatched_at: DateTime<Utc>,
    ) -> Option<Vec<u8>> {
        if endpoint.shape != NATIVE_SHAPE {
            return None;
        }
        let payload = json!({
            "id": event.id,
            "type": event.kind,
            "timestamp": event.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "sessionId": event.key.session.as_str(),
            "data": event.data,
        });
        Some(payload.to_string().into_bytes())
    }
}
