//! A received message as the native API reports it: the `data` of a
//! `message.received` event. One flat object with a `type` and, per type,
//! one optional object, so a client can read `text` without caring about
//! the kind and look further only when it needs to.

use crate::outbound::{ContactCard, MediaKind};
use serde::{Deserialize, Serialize};

/// The data of `message.received`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// WhatsApp's message id (e.g. `3EB0C7F8F2B1234567`); a reply, reaction
    /// or edit refers to the message by it.
    pub id: String,
    /// The chat's JID: the sender for a direct chat
    /// (`…@s.whatsapp.net` or `…@lid`), the group for a group (`…@g.us`).
    pub chat_id: String,
    /// Whether `chatId` is a group.
    pub is_group: bool,
    /// Who wrote the message; in a group, the participant.
    pub from: Sender,
    /// Unix seconds, when WhatsApp says the message was sent (not when the
    /// gateway received it: messages queued while offline arrive late).
    pub timestamp: i64,
    /// What the message is; says which of the optional objects is set.
    #[serde(rename = "type")]
    pub kind: InboundKind,
    /// The text of a text message, or the caption of media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For image, video, audio, voice, document and sticker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// One card per shared contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<ContactCard>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_vote: Option<PollVote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<Edit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Revoke>,
    /// The message this one quotes, when it is a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
}

/// The author of a received message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    /// Digits, country code first, no `+`. Absent when WhatsApp only gave
    /// a LID (a hidden-number id) and the number is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The JID WhatsApp addressed the message from, as given.
    pub jid: String,
    /// The sender's LID (`…@lid`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lid: Option<String>,
    /// The display name the sender chose in WhatsApp, when sent along.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_name: Option<String>,
}

/// What a received message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InboundKind {
    Text,
    Image,
    Video,
    Audio,
    /// A voice note (push-to-talk audio).
    Voice,
    Document,
    Sticker,
    Location,
    Contacts,
    Reaction,
    Poll,
    PollVote,
    Edit,
    /// Deleted for everyone by its sender.
    Revoke,
    /// A kind the gateway does not decode. Also what a stored event of a
    /// kind added later reads back as, instead of failing.
    #[serde(other)]
    Unknown,
}

impl InboundKind {
    pub const ALL: [InboundKind; 15] = [
        InboundKind::Text,
        InboundKind::Image,
        InboundKind::Video,
        InboundKind::Audio,
        InboundKind::Voice,
        InboundKind::Document,
        InboundKind::Sticker,
        InboundKind::Location,
        InboundKind::Contacts,
        InboundKind::Reaction,
        InboundKind::Poll,
        InboundKind::PollVote,
        InboundKind::Edit,
        InboundKind::Revoke,
        InboundKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Text => "text",
            InboundKind::Image => "image",
            InboundKind::Video => "video",
            InboundKind::Audio => "audio",
            InboundKind::Voice => "voice",
            InboundKind::Document => "document",
            InboundKind::Sticker => "sticker",
            InboundKind::Location => "location",
            InboundKind::Contacts => "contacts",
            InboundKind::Reaction => "reaction",
            InboundKind::Poll => "poll",
            InboundKind::PollVote => "pollVote",
            InboundKind::Edit => "edit",
            InboundKind::Revoke => "revoke",
            InboundKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        InboundKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The file of a media message. The gateway downloads it after recording
/// the event, so the event says where it will be and whether it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMedia {
    pub kind: MediaKind,
    /// As the sender's phone declared it, e.g. `image/jpeg`.
    pub mimetype: String,
    /// The original name; WhatsApp carries one for documents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Bytes, as declared by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hex SHA-256 of the decrypted file, as declared by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Where the gateway serves the file. Fixed when the event is made, so
    /// it is known even while the download is `pending`.
    pub url: String,
    /// A link that serves the file without an API key until it expires;
    /// only when the gateway is set to hand such links out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub status: MediaStatus,
    /// Why the download failed, when `status` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether the gateway holds a media file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaStatus {
    /// Not downloaded yet; the URL answers once it is.
    Pending,
    Stored,
    /// WhatsApp's copy could not be fetched or decrypted (they expire).
    Failed,
}

/// A shared place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// An emoji put on (or taken off) an earlier message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    /// The id of the message reacted to.
    pub target_id: String,
    /// The emoji; empty when the sender removed their reaction.
    pub emoji: String,
}

/// A new poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    /// The question.
    pub name: String,
    pub options: Vec<String>,
    /// How many options a voter may pick; 1 for a single-choice poll.
    pub selectable_count: u32,
}

/// A vote on a poll; a later vote by the same voter replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollVote {
    /// The id of the poll's message.
    pub poll_id: String,
    /// The chosen options by name; empty when the voter took their vote
    /// back. `null` when the gateway cannot tell (see `reason`): the vote
    /// is encrypted with the poll's secret, which only a session that sent
    /// or received the poll holds.
    #[serde(default)]
    pub selected_options: Option<Vec<String>>,
    /// Hex SHA-256 of each chosen option's name, as the vote carries them.
    /// Present whenever the vote could be decrypted, even when the names
    /// are not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_option_hashes: Option<Vec<String>>,
    /// Why `selectedOptions` is `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// New text for an earlier message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    pub target_id: String,
    pub text: String,
}

/// An earlier message deleted for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoke {
    pub target_id: String,
}

/// The message a reply quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyTo {
    pub id: String,
    /// Who wrote the quoted message, when WhatsApp says (always in groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// The quoted text, as the quote shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}
