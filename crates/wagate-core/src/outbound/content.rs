//! What an outbound message says, once the API has checked it. The queue
//! stores this as JSON; the engine turns it into WhatsApp's protobuf.

use serde::{Deserialize, Serialize};

/// Media kinds, each with its own size limit and WhatsApp message field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    /// A voice note (push-to-talk audio), shown with a waveform and
    /// reported `played` when listened to.
    Voice,
    Document,
    Sticker,
}

impl MediaKind {
    pub const ALL: [MediaKind; 6] = [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Voice,
        MediaKind::Document,
        MediaKind::Sticker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The mimetype assumed when the sender gives none.
    pub fn default_mimetype(self) -> &'static str {
        match self {
            MediaKind::Image => "image/jpeg",
            MediaKind::Video => "video/mp4",
            MediaKind::Audio => "audio/mpeg",
            // WhatsApp plays voice notes only as Opus in Ogg.
            MediaKind::Voice => "audio/ogg; codecs=opus",
            MediaKind::Document => "application/octet-stream",
            MediaKind::Sticker => "image/webp",
        }
    }

    /// Whether a mimetype fits this kind. Documents take anything.
    pub fn accepts_mimetype(self, mimetype: &str) -> bool {
        let essence = mimetype
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match self {
            MediaKind::Image => essence.starts_with("image/"),
            MediaKind::Video => essence.starts_with("video/"),
            MediaKind::Audio | MediaKind::Voice => essence.starts_with("audio/"),
            MediaKind::Document => true,
            MediaKind::Sticker => essence == "image/webp",
        }
    }
}

/// A media file the gateway holds: content-addressed by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaBlob {
    /// Hex SHA-256 of the bytes; the name in the blob store.
    pub sha256: String,
    pub size: u64,
    pub mimetype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// One contact card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCard {
    pub display_name: String,
    pub vcard: String,
}

/// A link preview shown under a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreview {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of an outbound message, one variant per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Content {
    #[serde(rename_all = "camelCase")]
    Text {
        text: String,
        /// Set when the sender asked for a preview of the first link.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_preview: Option<LinkPreview>,
    },
    #[serde(rename_all = "camelCase")]
    Media {
        kind: MediaKind,
        blob: MediaBlob,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    },
    Contacts {
        contacts: Vec<ContactCard>,
    },
    /// An emoji on an earlier message; an empty emoji removes it.
    #[serde(rename_all = "camelCase")]
    Reaction {
        target: MessageRef,
        emoji: String,
    },
    /// New text for an earlier message this session sent.
    #[serde(rename_all = "camelCase")]
    Edit {
        target: MessageRef,
        text: String,
    },
    /// Delete for everyone.
    #[serde(rename_all = "camelCase")]
    Delete {
        target: MessageRef,
    },
    #[serde(rename_all = "camelCase")]
    Poll {
        name: String,
        options: Vec<String>,
        selectable_count: u32,
    },
}

/// An earlier message in the same chat, as WhatsApp identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    /// The WhatsApp message id.
    pub id: String,
    /// True when this session sent it; false for a message it received.
    pub from_me: bool,
    /// Who wrote it, when it was received in a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// Its text, shown inside a quote; WhatsApp shows no preview without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Content {
    /// The kind's name in the API and in the queue's `kind` column.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Media { kind, .. } => kind.as_str(),
            Content::Location { .. } => "location",
            Content::Contacts { .. } => "contacts",
            Content::Reaction { .. } => "reaction",
            Content::Edit { .. } => "edit",
            Content::Delete { .. } => "delete",
            Content::Poll { .. } => "poll",
        }
    }

    pub fn blob(&self) -> Option<&MediaBlob> {
        match self {
            Content::Media { blob, .. } => Some(blob),
            _ => None,
        }
    }

    /// A short text for quotes and listings.
    pub fn preview_text(&self) -> Option<&str> {
        match self {
            Content::Text { text, .. } | Content::Edit { text, .. } => Some(text),
            Content::Media { caption, .. } => caption.as_deref(),
            Content::Poll { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// What is queued: the content, and the message it quotes, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundBody {
    #[serde(flatten)]
    pub content: Content,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_as_tagged_json() {
        let body = OutboundBody {
            content: Content::Poll {
                name: "Lunch?".into(),
                options: vec!["Yes".into(), "No".into()],
                selectable_count: 1,
            },
            reply_to: Some(MessageRef {
                id: "3EB0AA".into(),
                from_me: true,
                participant: None,
                text: Some("hi".into()),
            }),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["type"], "poll");
        assert_eq!(json["selectableCount"], 1);
        assert_eq!(json["replyTo"]["fromMe"], true);
        let back: OutboundBody = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn mimetypes_fit_kinds() {
        assert!(MediaKind::Image.accepts_mimetype("image/png"));
        assert!(!MediaKind::Image.accepts_mimetype("application/pdf"));
        assert!(MediaKind::Voice.accepts_mimetype("audio/ogg; codecs=opus"));
        assert!(MediaKind::Sticker.accepts_mimetype("IMAGE/WEBP"));
        assert!(!MediaKind::Sticker.accepts_mimetype("image/png"));
        assert!(MediaKind::Document.accepts_mimetype("whatever/thing"));
    }
}
