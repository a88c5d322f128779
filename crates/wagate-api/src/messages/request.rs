//! The send request as clients write it, checked field by field into the
//! queue's [`OutboundBody`]. Media is resolved separately (it may need a
//! download or an upload stream); everything else is checked here.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use wagate_core::outbound::{ContactCard, Content, LinkPreview, MediaKind};

/// WhatsApp's practical limit for one text, as the seed gateways enforce.
pub const MAX_TEXT_CHARS: usize = 4096;
/// A caption is shown under media; WhatsApp cuts longer ones.
pub const MAX_CAPTION_CHARS: usize = 1024;
pub const MAX_POLL_OPTIONS: usize = 12;
pub const MAX_CONTACTS: usize = 20;

/// Every message kind in one object: `type` says which fields apply.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Phone number with country code (`+` and separators allowed) or a
    /// JID such as `123@g.us`. In a bulk request, given per recipient.
    #[schema(example = "5511999999999")]
    #[serde(default)]
    pub to: String,
    /// `text` (default), `image`, `video`, `audio`, `voice`, `document`,
    /// `sticker`, `location`, `contacts`, `reaction`, `edit`, `delete`, `poll`.
    #[serde(rename = "type")]
    #[schema(example = "text")]
    pub kind: Option<String>,
    /// The text of a `text` or `edit` message (1-4096 characters).
    #[schema(example = "Hello from the gateway!")]
    pub text: Option<String>,
    /// Same as `text`, the name the seed gateways use.
    pub message: Option<String>,
    /// Show a preview of the first link in the text.
    pub link_preview: Option<bool>,
    /// Preview title and description, when you want to set them.
    pub preview: Option<PreviewRequest>,
    /// The file of a media message.
    pub media: Option<MediaRequest>,
    pub caption: Option<String>,
    pub location: Option<LocationRequest>,
    pub contacts: Option<Vec<ContactRequest>>,
    /// The message a `reaction`, `edit` or `delete` is about.
    pub message_id: Option<String>,
    /// The reaction; an empty string removes an earlier one.
    pub emoji: Option<String>,
    pub poll: Option<PollRequest>,
    /// Quote an earlier message of the chat.
    pub reply_to: Option<String>,
    /// Send at this time (RFC 3339) instead of now.
    pub send_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewRequest {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// One of `url` (fetched by the gateway) or `base64`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaRequest {
    pub url: Option<String>,
    pub base64: Option<String>,
    pub mimetype: Option<String>,
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationRequest {
    pub latitude: f64,
    pub longitude: f64,
    pub name: Option<String>,
    pub address: Option<String>,
}

/// A card from a name and phone number, or a full vCard.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactRequest {
    pub name: String,
    pub phone: Option<String>,
    pub vcard: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PollRequest {
    pub name: String,
    pub options: Vec<String>,
    /// How many options one person may pick (default 1).
    pub selectable_count: Option<u32>,
}

/// What the request asks for, before targets and media are looked up.
pub enum Draft {
    Ready(Content),
    Media {
        kind: MediaKind,
        caption: Option<String>,
    },
    /// Needs the target message: reaction, edit or delete.
    Targeted {
        target: String,
        make: Targeted,
    },
}

pub enum Targeted {
    Reaction(String),
    Edit(String),
    Delete,
}

pub const KINDS: &str = "text, image, video, audio, voice, document, sticker, location, contacts, reaction, edit, delete, poll";

fn chars_between(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > max {
        return Err(ApiError::validation(
            field,
            format!("must be 1-{max} characters (got {n})"),
        ));
    }
    Ok(())
}

fn required<'a, T>(field: &str, v: &'a Option<T>, kind: &str) -> Result<&'a T, ApiError> {
    v.as_ref()
        .ok_or_else(|| ApiError::validation(field, format!("is required for a {kind} message")))
}

impl SendMessageRequest {
    pub fn kind_name(&self) -> &str {
        self.kind.as_deref().unwrap_or("text")
    }

    fn text_field(&self) -> Option<&String> {
        self.text.as_ref().or(self.message.as_ref())
    }

    /// Errors about the text name the field the client used.
    fn text_name(&self) -> &'static str {
        if self.text.is_none() && self.message.is_some() {
            "message"
        } else {
            "text"
        }
    }

    /// Checks everything but media and the target message.
    pub fn draft(&self) -> Result<Draft, ApiError> {
        let kind = self.kind_name();
        if let Some(c) = &self.caption {
            chars_between("caption", c, MAX_CAPTION_CHARS)?;
        }
        if let Some(media) = MediaKind::parse(kind) {
            let captionless = matches!(
                media,
                MediaKind::Sticker | MediaKind::Voice | MediaKind::Audio
            );
            if captionless && self.caption.is_some() {
                return Err(ApiError::validation(
                    "caption",
                    format!("is not allowed on a {kind} message"),
                ));
            }
            return Ok(Draft::Media {
                kind: media,
                caption: self.caption.clone(),
            });
        }
        if self.media.is_some() {
            return Err(ApiError::validation(
                "media",
                format!("is not allowed on a {kind} message"),
            ));
        }
        match kind {
            "text" => {
                let text = self.text_field().ok_or_else(|| {
                    ApiError::validation("text", "is required for a text message")
                })?;
                chars_between(self.text_name(), text, MAX_TEXT_CHARS)?;
                let link_preview = self.link_preview(text)?;
                Ok(Draft::Ready(Content::Text {
                    text: text.clone(),
                    link_preview,
                }))
            }
            "location" => {
                let l = required("location", &self.location, kind)?;
                if !(-90.0..=90.0).contains(&l.latitude) {
                    return Err(ApiError::validation(
                        "location.latitude",
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(&l.longitude) {
                    return Err(ApiError::validation(
                        "location.longitude",
                        "must be between -180 and 180",
                    ));
                }
                Ok(Draft::Ready(Content::Location {
                    latitude: l.latitude,
                    longitude: l.longitude,
                    name: l.name.clone(),
                    address: l.address.clone(),
                }))
            }
            "contacts" => {
                let list = required("contacts", &self.contacts, kind)?;
                if list.is_empty() || list.len() > MAX_CONTACTS {
                    return Err(ApiError::validation(
                        "contacts",
                        format!("must hold 1-{MAX_CONTACTS} contacts"),
                    ));
                }
                let cards = list
                    .iter()
                    .enumerate()
                    .map(|(i, c)| card(i, c))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Draft::Ready(Content::Contacts { contacts: cards }))
            }
            "poll" => {
                let p = required("poll", &self.poll, kind)?;
                chars_between("poll.name", &p.name, 255)?;
                if p.options.len() < 2 || p.options.len() > MAX_POLL_OPTIONS {
                    return Err(ApiError::validation(
                        "poll.options",
                        format!("must hold 2-{MAX_POLL_OPTIONS} options"),
                    ));
                }
                for (i, o) in p.options.iter().enumerate() {
                    chars_between(&format!("poll.options[{i}]"), o, 100)?;
                }
                let mut seen = std::collections::HashSet::new();
                if !p.options.iter().all(|o| seen.insert(o.trim())) {
                    return Err(ApiError::validation("poll.options", "must all differ"));
                }
                let selectable = p.selectable_count.unwrap_or(1);
                if selectable == 0 || selectable as usize > p.options.len() {
                    return Err(ApiError::validation(
                        "poll.selectableCount",
                        "must be between 1 and the number of options",
                    ));
                }
                Ok(Draft::Ready(Content::Poll {
                    name: p.name.clone(),
                    options: p.options.clone(),
                    selectable_count: selectable,
                }))
            }
            "reaction" | "edit" | "delete" => {
                let target = required("messageId", &self.message_id, kind)?.clone();
                let make = match kind {
                    "reaction" => {
                        let emoji = required("emoji", &self.emoji, kind)?;
                        if emoji.chars().count() > 10 {
                            return Err(ApiError::validation(
                                "emoji",
                                "must be one emoji (or empty to remove)",
                            ));
                        }
                        Targeted::Reaction(emoji.clone())
                    }
                    "edit" => {
                        let text = self.text_field().ok_or_else(|| {
                            ApiError::validation("text", "is required for an edit message")
                        })?;
                        chars_between("text", text, MAX_TEXT_CHARS)?;
                        Targeted::Edit(text.clone())
                    }
                    _ => Targeted::Delete,
                };
                Ok(Draft::Targeted { target, make })
            }
            other => Err(ApiError::validation(
                "type",
                format!("unknown message type '{other}' (expected one of: {KINDS})"),
            )),
        }
    }

    fn link_preview(&self, text: &str) -> Result<Option<LinkPreview>, ApiError> {
        if self.link_preview != Some(true) {
            return Ok(None);
        }
        let url = text
            .split_whitespace()
            .find(|w| w.starts_with("https://") || w.starts_with("http://"))
            .ok_or_else(|| {
                ApiError::validation(
                    "linkPreview",
                    "needs a link (http:// or https://) in the text",
                )
            })?;
        let preview = self.preview.clone().unwrap_or_default();
        Ok(Some(LinkPreview {
            url: url.to_string(),
            title: preview.title,
            description: preview.description,
        }))
    }
}

fn card(i: usize, c: &ContactRequest) -> Result<ContactCard, ApiError> {
    chars_between(&format!("contacts[{i}].name"), &c.name, 255)?;
    let vcard = match (&c.vcard, &c.phone) {
        (Some(v), _) => {
            if !v.trim_start().starts_with("BEGIN:VCARD") {
                return Err(ApiError::validation(
                    format!("contacts[{i}].vcard"),
                    "must start with BEGIN:VCARD",
                ));
            }
            v.clone()
        }
        (None, Some(p)) => {
            let digits = match wagate_core::Recipient::parse(p) {
                Ok(wagate_core::Recipient::Phone(d)) => d,
                _ => {
                    return Err(ApiError::validation(
                        format!("contacts[{i}].phone"),
                        "must be a phone number with country code",
                    ));
                }
            };
            format!(
                "BEGIN:VCARD\nVERSION:3.0\nFN:{}\nTEL;type=CELL;waid={digits}:+{digits}\nEND:VCARD",
                c.name.replace(['\n', '\r'], " ")
            )
        }
        (None, None) => {
            return Err(ApiError::validation(
                format!("contacts[{i}]"),
                "needs a phone or a vcard",
            ));
        }
    };
    Ok(ContactCard {
        display_name: c.name.clone(),
        vcard,
    })
}
