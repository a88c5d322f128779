//! The JSON a webhook endpoint receives, by the shape it was set up with.
//! An event is stored once; each endpoint's shape is applied when it is
//! delivered, so a change of shape takes effect on the next delivery.

mod seed000;
mod seed003;

use super::Event;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The body format of a webhook endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum WebhookShape {
    /// wagate's own: every event kind, `{id, type, timestamp, sessionId, data}`.
    #[default]
    #[serde(rename = "native")]
    Native,
    /// The Maytapi-style gateway of seed 000: `message_received`,
    /// `connected`, `disconnected` and `qr_code`.
    #[serde(rename = "seed000")]
    Maytapi,
    /// The microservice of seed 003: `message.received` only.
    #[serde(rename = "seed003")]
    Microservice,
}

impl WebhookShape {
    pub const ALL: [WebhookShape; 3] = [
        WebhookShape::Native,
        WebhookShape::Maytapi,
        WebhookShape::Microservice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookShape::Native => "native",
            WebhookShape::Maytapi => "seed000",
            WebhookShape::Microservice => "seed003",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        WebhookShape::ALL.into_iter().find(|sh| sh.as_str() == s)
    }

    /// Whether endpoints of this shape are left out of an event of `kind`
    /// with native `data` recorded at `recorded_at`: they get no delivery
    /// for it at all. Seed 003 does not forward received messages sent
    /// long before they arrived (history a reconnecting phone catches up
    /// on); every other shape gets every event it has a form for.
    pub fn leaves_out(self, kind: &str, data: &Value, recorded_at: DateTime<Utc>) -> bool {
        match self {
            WebhookShape::Microservice => seed003::leaves_out(kind, data, recorded_at),
            WebhookShape::Native | WebhookShape::Maytapi => false,
        }
    }
}

/// The body of `event` for an endpoint of `shape`, or `None` when the
/// shape has no form for the event; then nothing is sent to that endpoint.
///
/// `dispatched_at` is the time of this delivery attempt: seed 003 puts it
/// in its envelope, so a retry carries a later time than the first try.
pub fn render(shape: WebhookShape, event: &Event, dispatched_at: DateTime<Utc>) -> Option<Value> {
    match shape {
        WebhookShape::Native => Some(native(event)),
        WebhookShape::Maytapi => seed000::render(event),
        WebhookShape::Microservice => seed003::render(event, dispatched_at),
    }
}

fn native(event: &Event) -> Value {
    // The payload types hold only strings, numbers, booleans, lists and
    // structs, which always convert.
    let data = serde_json::to_value(&event.data).expect("event data converts to JSON");
    json!({
        "id": event.id,
        "type": event.kind().as_str(),
        "timestamp": iso_millis(event.created_at),
        "sessionId": event.session.as_str(),
        "data": data,
    })
}

/// `2024-01-15T10:35:00.000Z`: the form JavaScript's `toISOString` gives,
/// which seed 003 clients parse, and RFC 3339 for native ones.
fn iso_millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
