//! From a checked request to a queue row: the recipient, the target
//! message of a reaction, edit or delete, the quoted message, the media.

use super::request::{Draft, MediaRequest, SendMessageRequest, Targeted};
use crate::AppState;
use crate::error::ApiError;
use chrono::Utc;
use wagate_core::outbound::{Content, MediaBlob, MessageId, MessageRef, OutboundBody};
use wagate_core::{Recipient, SessionKey};
use wagate_store::outbound::NewOutbound;

/// How far ahead a message may be scheduled.
const MAX_SCHEDULE_DAYS: i64 = 365;

/// Media that arrived as a multipart file part, already stored.
pub struct UploadedPart {
    pub blob: (String, u64),
    pub mimetype: Option<String>,
    pub file_name: Option<String>,
}

pub async fn prepare(
    state: &AppState,
    key: &SessionKey,
    req: &SendMessageRequest,
    upload: Option<UploadedPart>,
    batch_id: Option<String>,
) -> Result<NewOutbound, ApiError> {
    let to = Recipient::parse(&req.to)?.to_jid();
    if let Some(at) = req.send_at
        && at > Utc::now() + chrono::Duration::days(MAX_SCHEDULE_DAYS)
    {
        return Err(ApiError::validation(
            "sendAt",
            format!("must be within {MAX_SCHEDULE_DAYS} days"),
        ));
    }
    let content = match req.draft()? {
        Draft::Ready(c) => c,
        Draft::Media { kind, caption } => {
            let blob = media_blob(state, kind, req.media.as_ref(), upload).await?;
            Content::Media {
                kind,
                blob,
                caption,
            }
        }
        Draft::Targeted { target, make } => {
            let target = find_target(state, key, &to, &target).await?;
            match make {
                Targeted::Reaction(emoji) => Content::Reaction { target, emoji },
                Targeted::Edit(text) => {
                    own_target(&target, "edit")?;
                    Content::Edit { target, text }
                }
                Targeted::Delete => {
                    own_target(&target, "delete")?;
                    Content::Delete { target }
                }
            }
        }
    };
    let reply_to = match &req.reply_to {
        Some(id) => Some(find_target(state, key, &to, id).await?),
        None => None,
    };
    Ok(NewOutbound {
        id: MessageId::generate(),
        recipient: to,
        body: OutboundBody { content, reply_to },
        send_at: req.send_at,
        batch_id,
    })
}

async fn media_blob(
    state: &AppState,
    kind: wagate_core::outbound::MediaKind,
    media: Option<&MediaRequest>,
    upload: Option<UploadedPart>,
) -> Result<MediaBlob, ApiError> {
    let intake = &state.outgoing.media;
    let given = media.cloned().unwrap_or_default();
    if let Some(part) = upload {
        let mimetype = given.mimetype.or(part.mimetype);
        let name = given.filename.or(part.file_name);
        return intake.describe(kind, part.blob, mimetype, name);
    }
    match (&given.base64, &given.url) {
        (Some(_), Some(_)) => Err(ApiError::validation(
            "media",
            "takes either url or base64, not both",
        )),
        (Some(b64), None) => {
            let blob = intake.from_base64(kind, b64).await?;
            intake.describe(kind, blob, given.mimetype, given.filename)
        }
        (None, Some(url)) => {
            let (blob, served_type, served_name) = intake.from_url(kind, url).await?;
            // A server's generic type says less than the kind's default.
            let served_type = served_type.filter(|t| kind.accepts_mimetype(t));
            intake.describe(
                kind,
                blob,
                given.mimetype.or(served_type),
                given.filename.or(served_name),
            )
        }
        (None, None) => Err(ApiError::validation(
            "media",
            format!(
                "is required for a {} message (url, base64 or a file upload)",
                kind.as_str()
            ),
        )),
    }
}

/// An earlier message of this chat: one this session queued (then it is
/// ours), else a message it received.
async fn find_target(
    state: &AppState,
    key: &SessionKey,
    chat: &str,
    raw_id: &str,
) -> Result<MessageRef, ApiError> {
    let id = MessageId::parse(raw_id)?;
    match state.outgoing.queue.get(key, id.as_str()).await? {
        Some(found) if found.recipient != chat => Err(ApiError::validation(
            "messageId",
            format!("message '{id}' belongs to another chat"),
        )),
        Some(found) => Ok(MessageRef {
            id: id.to_string(),
            from_me: true,
            participant: None,
            text: found.body.content.preview_text().map(str::to_string),
        }),
        None => Ok(MessageRef {
            id: id.to_string(),
            from_me: false,
            participant: None,
            text: None,
        }),
    }
}

fn own_target(target: &MessageRef, what: &str) -> Result<(), ApiError> {
    if target.from_me {
        Ok(())
    } else {
        Err(ApiError::validation(
            "messageId",
            format!("no message '{}' sent by this session to {what}", target.id),
        ))
    }
}
