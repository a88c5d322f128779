//! Admin API: a contact sends a message of any kind to an account, sends a
//! burst of texts, or marks messages it received as read. Each group of
//! kinds builds its `Message` in its own module; this one reads the body,
//! adds what every kind shares (reply context, id, push name) and sends.

mod many;
mod media;
mod poll;
mod protocol;
mod read;
mod reply;
mod shared;

pub use many::send_many;
pub use read::read;

use crate::admin::{AdminError, phone};
use crate::phone::Outgoing;
use crate::world::World;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{MethodRouter, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use waproto::whatsapp as wa;

/// Room in a send body for everything but the media: `to`, `caption`,
/// `filename` and the JSON around them.
const BODY_SLACK: usize = 64 * 1024;

/// Every field any kind reads; each kind names the ones it needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    to: String,
    /// `text` (default) or another kind: see the crate's README.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// The message id, for a test that sends one id twice.
    id: Option<String>,
    /// The sender's push name on this message's stanza.
    push_name: Option<String>,
    /// When the phone sent it, Unix seconds (default: now).
    timestamp: Option<u64>,
    quoted: Option<reply::Quoted>,
    text: Option<String>,
    /// Base64 media bytes.
    content: Option<String>,
    mimetype: Option<String>,
    filename: Option<String>,
    caption: Option<String>,
    /// Audio only: a voice note rather than a music file.
    ptt: Option<bool>,
    /// Sticker only.
    animated: Option<bool>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// A location's place name, or a poll's question.
    name: Option<String>,
    address: Option<String>,
    contacts: Option<Vec<shared::Card>>,
    display_name: Option<String>,
    /// The message a reaction, edit, revoke or poll vote is about.
    target_id: Option<String>,
    target_from_me: Option<bool>,
    emoji: Option<String>,
    /// A poll's option names, or the names a vote picks.
    options: Option<Vec<String>>,
    selectable_count: Option<u32>,
}

/// Who sends to whom, and what the builders may use to make the message.
struct Sender<'a> {
    world: &'a World,
    from: &'a str,
    to: &'a str,
    max_media: usize,
}

impl Sender<'_> {
    /// The account's user JID: the chat a contact's message belongs to.
    fn chat(&self) -> String {
        user_jid(self.to)
    }
}

fn user_jid(phone: &str) -> String {
    format!("{phone}@{}", crate::nodes::SERVER)
}

/// `POST /admin/contacts/{phone}/send`, taking media of up to `max_media`
/// decoded bytes. The body limit sits just above that media's base64 size,
/// so a far larger body is refused (413) while it is still being read.
pub fn route(max_media: usize) -> MethodRouter<Arc<World>> {
    let body_limit = max_media.div_ceil(3) * 4 + BODY_SLACK;
    post(
        move |world: State<Arc<World>>,
              from: Path<String>,
              body: Result<Json<SendBody>, JsonRejection>| {
            send(world, from, body, max_media)
        },
    )
    .layer(DefaultBodyLimit::max(body_limit))
}

async fn send(
    State(world): State<Arc<World>>,
    Path(from): Path<String>,
    body: Result<Json<SendBody>, JsonRejection>,
    max_media: usize,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let from = phone(&from, "contactPhone")?;
    let to = phone(&body.to, "to")?;
    let sender = Sender {
        world: &world,
        from: &from,
        to: &to,
        max_media,
    };
    let mut message = build_message(&sender, &body)?;
    if let Some(quoted) = &body.quoted {
        reply::attach(&mut message, quoted)?;
    }
    // The contact may vote on its own poll later, as a creator can.
    let own_poll = (body.kind.as_deref() == Some("poll")).then(|| message.clone());
    let out = Outgoing {
        message,
        id: body.id.as_deref().map(message_id).transpose()?,
        push_name: body.push_name.as_deref().map(push_name).transpose()?,
        sent_at: body.timestamp.map(sent_at).transpose()?,
    };
    let id = crate::phone::send(&world, &from, &to, out)
        .await
        .map_err(|e| AdminError::BadRequest(format!("could not send: {e:#}")))?;
    if let Some(poll) = own_poll {
        crate::phone::remember_poll(&world, &from, &from, &id, &poll);
    }
    Ok(Json(json!({"id": id})))
}

fn build_message(sender: &Sender<'_>, body: &SendBody) -> Result<wa::Message, AdminError> {
    let kind = body.kind.as_deref().unwrap_or("text");
    match kind {
        "text" => Ok(wa::Message {
            conversation: Some(required(&body.text, "text", "a text message")?.into()),
            ..Default::default()
        }),
        "image" | "document" | "video" | "audio" | "sticker" => media::build(sender, body, kind),
        "location" => shared::location(body),
        "contacts" => shared::contacts(body),
        "reaction" => shared::reaction(sender, body),
        "edit" => protocol::edit(sender, body),
        "revoke" => protocol::revoke(sender, body),
        "poll" => poll::create(body),
        "pollVote" => poll::vote(sender, body),
        other => Err(bad(format!("type: unknown message type '{other}'"))),
    }
}

fn bad(message: String) -> AdminError {
    AdminError::BadRequest(message)
}

/// A string field `kind` cannot do without, not empty.
fn required<'a>(value: &'a Option<String>, field: &str, kind: &str) -> Result<&'a str, AdminError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad(format!("{field}: required for {kind}")))
}

/// Ids travel as stanza attributes and in message keys: printable ASCII
/// without spaces, as WhatsApp's own are.
fn message_id(id: &str) -> Result<String, AdminError> {
    if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(id.to_string())
    } else {
        Err(bad(format!(
            "id: '{id}' is not 1-128 printable ASCII characters without spaces"
        )))
    }
}

/// A send time a client can take as one: after 2009 (WhatsApp's start)
/// and not in the future.
fn sent_at(at: u64) -> Result<u64, AdminError> {
    const WHATSAPP_FOUNDED: u64 = 1_230_768_000;
    let now = crate::nodes::now();
    if (WHATSAPP_FOUNDED..=now).contains(&at) {
        Ok(at)
    } else {
        Err(bad(format!(
            "timestamp: {at} is not a Unix time in seconds between 2009 and now"
        )))
    }
}

fn push_name(name: &str) -> Result<String, AdminError> {
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad("pushName: must be 1-100 characters".into()));
    }
    Ok(name.to_string())
}

/// Milliseconds since the epoch, as message keys and edits carry them.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
