//! Outbound messages: what is queued, how it moves through its states,
//! and the rules for pacing and retrying sends.

mod content;
mod policy;
mod retry;

pub use content::{
    ContactCard, Content, LinkPreview, MediaBlob, MediaKind, MessageRef, OutboundBody,
};
pub use policy::{SendPolicy, SendPolicyOverrides};
pub use retry::{RetrySchedule, SendFailure};

use crate::CoreError;
use serde::{Deserialize, Serialize};

/// Where an outbound message is. Receipts only move it forward: a late
/// `delivered` never undoes `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    /// A voice note was listened to.
    Played,
    Failed,
}

impl OutboundStatus {
    pub const ALL: [OutboundStatus; 7] = [
        OutboundStatus::Queued,
        OutboundStatus::Sending,
        OutboundStatus::Sent,
        OutboundStatus::Delivered,
        OutboundStatus::Read,
        OutboundStatus::Played,
        OutboundStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboundStatus::Queued => "queued",
            OutboundStatus::Sending => "sending",
            OutboundStatus::Sent => "sent",
            OutboundStatus::Delivered => "delivered",
            OutboundStatus::Read => "read",
            OutboundStatus::Played => "played",
            OutboundStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        OutboundStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A WhatsApp message id, chosen by the gateway when it accepts a message
/// so every retry (and a resend after a crash) is the same message to the
/// recipient.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    /// `3EB0` and 18 hex digits, the form WhatsApp Web uses.
    pub fn generate() -> Self {
        let bytes: [u8; 9] = rand::random();
        MessageId(format!("3EB0{}", hex::encode_upper(bytes)))
    }

    /// Ids come back from clients in URLs and bodies: letters and digits,
    /// at most 64 (WhatsApp's own ids are 16-32).
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let ok =
            !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(MessageId(raw.to_string()))
        } else {
            Err(CoreError::validation(
                "messageId",
                "must be 1-64 letters or digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageId {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        MessageId::parse(&s)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> String {
        id.0
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_whatsapp_web() {
        let id = MessageId::generate();
        assert_eq!(id.as_str().len(), 22);
        assert!(id.as_str().starts_with("3EB0"));
        assert!(MessageId::parse(id.as_str()).is_ok());
        assert!(MessageId::parse("").is_err());
        assert!(MessageId::parse("a/b").is_err());
    }

    #[test]
    fn statuses_order_forward() {
        assert!(OutboundStatus::Sent < OutboundStatus::Delivered);
        assert!(OutboundStatus::Delivered < OutboundStatus::Read);
        assert!(OutboundStatus::Read < OutboundStatus::Played);
        for s in OutboundStatus::ALL {
            assert_eq!(OutboundStatus::parse(s.as_str()), Some(s));
        }
    }
}
