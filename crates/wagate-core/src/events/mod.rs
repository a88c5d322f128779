//! The events the gateway reports: what happened (an inbound message, a
//! receipt, a session change), the filters webhooks subscribe with, and
//! the JSON each webhook shape turns an event into.
//!
//! An event is stored once with its native payload ([`EventData`]); the
//! shape of each endpoint is applied only when it is delivered, so one
//! event can go to a native client and to a seed-compatible one alike.

mod data;
mod filter;
mod inbound;
mod shapes;

pub use data::{
    EventData, MessageStatusData, SessionQrData, SessionStatusData, WebhookDisabledData,
};
pub use filter::EventFilter;
pub use inbound::{
    Edit, InboundKind, InboundMedia, InboundMessage, Location, MediaStatus, Poll, PollVote,
    Reaction, ReplyTo, Revoke, Sender,
};
pub use shapes::{WebhookShape, render};

use crate::{CoreError, SessionId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of thing happened; the names are what clients subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// A message arrived in one of the session's chats.
    #[serde(rename = "message.received")]
    MessageReceived,
    /// An outbound message moved on: sent, delivered, read, played, failed.
    #[serde(rename = "message.status")]
    MessageStatus,
    /// The session connected, disconnected, logged out, or is waiting for a scan.
    #[serde(rename = "session.status")]
    SessionStatus,
    /// A new QR is ready to be scanned.
    #[serde(rename = "session.qr")]
    SessionQr,
    /// A webhook endpoint failed too often and was switched off.
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::MessageReceived,
        EventKind::MessageStatus,
        EventKind::SessionStatus,
        EventKind::SessionQr,
        EventKind::WebhookDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MessageReceived => "message.received",
            EventKind::MessageStatus => "message.status",
            EventKind::SessionStatus => "session.status",
            EventKind::SessionQr => "session.qr",
            EventKind::WebhookDisabled => "webhook.disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event's public id: `evt_` and 24 lowercase hex digits (96 random
/// bits). It is also the `webhook-id` of every delivery of the event, so
/// receivers can drop the duplicates an at-least-once delivery makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

impl EventId {
    const PREFIX: &'static str = "evt_";

    pub fn generate() -> Self {
        let bytes: [u8; 12] = rand::random();
        EventId(format!("{}{}", Self::PREFIX, hex::encode(bytes)))
    }

    /// Accepts only the form [`EventId::generate`] makes, so an id from a
    /// URL is checked before it reaches a query.
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let ok = raw.strip_prefix(Self::PREFIX).is_some_and(|rest| {
            rest.len() == 24
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(EventId(raw.to_string()))
        } else {
            Err(CoreError::validation(
                "eventId",
                "must be 'evt_' and 24 lowercase hex digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        EventId::parse(&s)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> String {
        id.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored event, as the webhook dispatcher and the live stream see it.
///
/// Its kind is not a field: it is read from `data`, so the two can never
/// disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The public id, from [`EventId::generate`].
    pub id: String,
    /// Position in the event log; increases with every event written, so
    /// readers resume after the last one they saw.
    pub seq: i64,
    pub tenant: TenantId,
    pub session: SessionId,
    /// When the gateway recorded the event.
    pub created_at: DateTime<Utc>,
    pub data: EventData,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        self.data.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
            assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), kind);
        }
        assert_eq!(EventKind::parse("message_received"), None);
    }

    #[test]
    fn event_ids() {
        let id = EventId::generate();
        assert_eq!(id.as_str().len(), 28);
        assert!(id.as_str().starts_with("evt_"));
        assert_eq!(EventId::parse(id.as_str()).unwrap(), id);
        assert_ne!(EventId::generate(), id);
        assert!(EventId::parse("evt_").is_err());
        assert!(EventId::parse("evt_0123456789ABCDEF01234567").is_err());
        assert!(EventId::parse("msg_0123456789abcdef01234567").is_err());
    }
}
