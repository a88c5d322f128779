//! The native payload of each event kind.

use super::{EventKind, InboundMessage};
use crate::SessionStatus;
use crate::outbound::OutboundStatus;
use serde::{Deserialize, Serialize};

/// The data of `message.status`: a message this session sent moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusData {
    /// The WhatsApp message id the send returned.
    pub id: String,
    /// The JID the message was sent to.
    pub to: String,
    /// `sent`, `delivered`, `read`, `played` or `failed`; the states
    /// before `sent` stay inside the gateway.
    pub status: OutboundStatus,
    /// Why the message failed, when `status` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unix seconds: the receipt's time, or when the gateway saw the change.
    pub timestamp: i64,
}

/// The data of `session.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatusData {
    pub status: SessionStatus,
    /// The linked phone (digits), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// For `disconnected`: whether the gateway will reconnect by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_reconnect: Option<bool>,
    /// Why the session left `connected`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The data of `session.qr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionQrData {
    /// The raw QR string (`2@…`), to be drawn as a QR code by the client.
    pub qr: String,
}

/// The data of `webhook.disabled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDisabledData {
    pub endpoint_id: String,
    pub url: String,
    /// Why it was switched off, e.g. how long it has been failing.
    pub reason: String,
}

/// The payload of an event, one variant per [`EventKind`].
///
/// It serializes as the inner object alone: the kind travels beside it
/// (the `type` of a native webhook, the `kind` column of the store), and
/// [`EventData::from_json`] needs it to read the object back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    // Boxed: a message is many times larger than every other payload.
    MessageReceived(Box<InboundMessage>),
    MessageStatus(MessageStatusData),
    SessionStatus(SessionStatusData),
    SessionQr(SessionQrData),
    WebhookDisabled(WebhookDisabledData),
}

impl EventData {
    pub fn kind(&self) -> EventKind {
        match self {
            EventData::MessageReceived(_) => EventKind::MessageReceived,
            EventData::MessageStatus(_) => EventKind::MessageStatus,
            EventData::SessionStatus(_) => EventKind::SessionStatus,
            EventData::SessionQr(_) => EventKind::SessionQr,
            EventData::WebhookDisabled(_) => EventKind::WebhookDisabled,
        }
    }

    /// Reads the object [`Serialize`] wrote for an event of `kind`.
    pub fn from_json(kind: EventKind, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            EventKind::MessageReceived => EventData::MessageReceived(serde_json::from_value(data)?),
            EventKind::MessageStatus => EventData::MessageStatus(serde_json::from_value(data)?),
            EventKind::SessionStatus => EventData::SessionStatus(serde_json::from_value(data)?),
            EventKind::SessionQr => EventData::SessionQr(serde_json::from_value(data)?),
            EventKind::WebhookDisabled => EventData::WebhookDisabled(serde_json::from_value(data)?),
        })
    }
}

impl From<InboundMessage> for EventData {
    fn from(message: InboundMessage) -> Self {
        EventData::MessageReceived(Box::new(message))
    }
}
