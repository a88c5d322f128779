//! Turns a queued outbound message into the protobuf WhatsApp carries.
//!
//! Only two steps talk to the client: finding which identity the session
//! has in the chat, and uploading media. Everything else is [`assemble`],
//! a pure function, so each kind's wire shape is tested without a client.

use super::{build_changes, build_link, build_media, build_shared};
use async_trait::async_trait;
use wagate_core::outbound::{Content, MediaBlob, MessageRef, OutboundBody, SendFailure};
use whatsapp_rust::Client;
use whatsapp_rust::Jid;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::types::message::AddressingMode;
use whatsapp_rust::wacore::proto_helpers::MessageExt;
use whatsapp_rust::wacore_binary::JidExt;
use whatsapp_rust::waproto::whatsapp as wa;

pub use build_link::{JpegThumbnail, LinkCard};
pub use build_media::Uploaded;

/// Where the bytes of media files live: the gateway's blob store in
/// production, a map in tests. Queued media is read from it; received
/// media is stored in it. Link preview cards come from here too, being
/// the other outside content a message carries.
#[async_trait]
pub trait MediaSource: Send + Sync {
    /// The file's bytes; `ErrorKind::NotFound` when the store lost it.
    async fn read(&self, blob: &MediaBlob) -> std::io::Result<Vec<u8>>;

    /// Keeps a received file; returns its hex SHA-256 and size.
    async fn store(&self, _bytes: &[u8]) -> std::io::Result<(String, u64)> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "this media store keeps no received files",
        ))
    }

    /// The preview card of the page at `url`, fetched now; `None` when
    /// previews are not fetched or the page gave nothing to show (the
    /// source logs why).
    async fn link_card(&self, _url: &str) -> Option<LinkCard> {
        None
    }
}

/// The message to hand to `send_message_with_options` for `body`, sent to
/// chat `to`. Media is uploaded here, so a retry uploads again: WhatsApp
/// media URLs expire, and a fresh media key costs nothing. A link preview
/// the sender did not write is fetched here too.
pub async fn build_message(
    client: &Client,
    to: &Jid,
    body: &OutboundBody,
    media: &dyn MediaSource,
) -> Result<wa::Message, SendFailure> {
    let own = own_jid_in(client, to).await?;
    let uploaded = match &body.content {
        Content::Media { kind, blob, .. } => {
            Some(build_media::upload(client, *kind, blob, media).await?)
        }
        _ => None,
    };
    let card = build_link::fetch_card(&body.content, media).await;
    assemble(to, &own, body, uploaded, card.as_ref())
}

/// The message for `body` once any media is uploaded and any link preview
/// card fetched. `own` is who this session is in the chat: quotes of its
/// own messages and edits name it.
pub fn assemble(
    to: &Jid,
    own: &Jid,
    body: &OutboundBody,
    uploaded: Option<Uploaded>,
    card: Option<&LinkCard>,
) -> Result<wa::Message, SendFailure> {
    let now_ms = whatsapp_rust::wacore::time::now_millis();
    let mut msg = match &body.content {
        Content::Text { text, link_preview } => {
            build_link::text_message(text, link_preview.as_ref(), card)
        }
        Content::Media {
            kind,
            blob,
            caption,
        } => {
            let uploaded = uploaded.ok_or_else(|| {
                SendFailure::Permanent(format!("{} was not uploaded", kind.as_str()))
            })?;
            build_media::media_message(*kind, blob, caption.as_deref(), uploaded)
        }
        Content::Location {
            latitude,
            longitude,
            name,
            address,
        } => build_shared::location(*latitude, *longitude, name, address),
        Content::Contacts { contacts } => build_shared::contacts(contacts)?,
        Content::Poll {
            name,
            options,
            selectable_count,
        } => build_shared::poll(name, options, *selectable_count)?,
        Content::Reaction { target, emoji } => {
            build_changes::reaction(to, own, target, emoji, now_ms)?
        }
        Content::Edit { target, text } => build_changes::edit(to, own, target, text, now_ms)?,
        Content::Delete { target } => build_changes::revoke(to, target)?,
    };
    // Reactions, edits and deletions have no place for a quote; WhatsApp
    // would not show one, so a `reply_to` on them is dropped.
    if let Some(reply) = &body.reply_to
        && !matches!(
            body.content,
            Content::Reaction { .. } | Content::Edit { .. } | Content::Delete { .. }
        )
    {
        attach_quote(&mut msg, quote(to, own, reply));
    }
    Ok(msg)
}

/// Who this session is in chat `to`: its phone-number JID, or its LID in
/// a group that addresses members by LID, as WhatsApp Web's
/// `getMeUserLidOrJidForChat` decides.
async fn own_jid_in(client: &Client, to: &Jid) -> Result<Jid, SendFailure> {
    let pn = client
        .pn()
        .ok_or_else(|| SendFailure::Transient("session is not logged in".into()))?
        .to_non_ad();
    if !to.is_group() {
        return Ok(pn);
    }
    // The send looks the group up anyway (cached), so this costs no extra
    // round trip; when it fails the send fails too and is retried.
    let lid_group = client
        .groups()
        .query_info(to)
        .await
        .is_ok_and(|info| matches!(info.addressing_mode, AddressingMode::Lid));
    Ok(match client.lid() {
        Some(lid) if lid_group => lid.to_non_ad(),
        _ => pn,
    })
}

/// The reply context for a quote of `reply`: its id, its author, and its
/// text when known (without the text a phone shows an empty quote).
pub(super) fn quote(to: &Jid, own: &Jid, reply: &MessageRef) -> wa::ContextInfo {
    let author = if reply.from_me {
        own.to_non_ad_string()
    } else {
        // In a one-to-one chat the other side wrote it.
        reply
            .participant
            .clone()
            .unwrap_or_else(|| to.to_non_ad_string())
    };
    let quoted = reply.text.as_ref().map(|text| wa::Message {
        conversation: Some(text.clone()),
        ..Default::default()
    });
    wa::ContextInfo {
        stanza_id: Some(reply.id.clone()),
        participant: Some(author),
        quoted_message: quoted.map(MessageField::some).unwrap_or_default(),
        ..Default::default()
    }
}

/// Puts the reply context on the message's content. A captioned document
/// travels inside `document_with_caption_message`, so the context goes on
/// the document inside it; a bare `conversation` becomes extended text.
fn attach_quote(msg: &mut wa::Message, context: wa::ContextInfo) {
    if let Some(inner) = msg
        .document_with_caption_message
        .as_option_mut()
        .and_then(|wrapper| wrapper.message.as_option_mut())
    {
        inner.set_context_info(context);
        return;
    }
    msg.set_context_info(context);
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use wagate_core::outbound::LinkPreview;

    pub fn chat() -> Jid {
        "15550002222@s.whatsapp.net".parse().unwrap()
    }

    pub fn me() -> Jid {
        "15550001111@s.whatsapp.net".parse().unwrap()
    }

    pub fn target(from_me: bool) -> MessageRef {
        MessageRef {
            id: "3EB0AAAA".into(),
            from_me,
            participant: None,
            text: Some("the original".into()),
        }
    }

    pub fn build(
        content: Content,
        reply_to: Option<MessageRef>,
    ) -> Result<wa::Message, SendFailure> {
        assemble(
            &chat(),
            &me(),
            &OutboundBody { content, reply_to },
            None,
            None,
        )
    }

    fn text(text: &str, link_preview: Option<LinkPreview>) -> Content {
        Content::Text {
            text: text.into(),
            link_preview,
        }
    }

    #[test]
    fn plain_text_is_a_conversation() {
        let msg = build(text("hi", None), None).unwrap();
        assert_eq!(msg.conversation.as_deref(), Some("hi"));
        assert!(msg.extended_text_message.as_option().is_none());
    }

    #[test]
    fn a_link_preview_makes_extended_text() {
        let preview = LinkPreview {
            url: "https://example.com/a".into(),
            title: Some("Example".into()),
            description: Some("A page".into()),
        };
        let msg = build(text("see https://example.com/a", Some(preview)), None).unwrap();
        assert!(msg.conversation.is_none());
        let ext = msg.extended_text_message.as_option().unwrap();
        assert_eq!(ext.text.as_deref(), Some("see https://example.com/a"));
        assert_eq!(ext.matched_text.as_deref(), Some("https://example.com/a"));
        assert_eq!(ext.title.as_deref(), Some("Example"));
        assert_eq!(ext.description.as_deref(), Some("A page"));
        assert_eq!(
            ext.preview_type,
            Some(wa::message::extended_text_message::PreviewType::NONE)
        );
    }

    fn context(msg: &wa::Message) -> &wa::ContextInfo {
        let ext = msg
            .extended_text_message
            .as_option()
            .expect("extended text");
        ext.context_info.as_option().expect("context info")
    }

    #[test]
    fn a_reply_to_our_own_message_names_us() {
        let msg = build(text("yes", None), Some(target(true))).unwrap();
        let ctx = context(&msg);
        assert_eq!(ctx.stanza_id.as_deref(), Some("3EB0AAAA"));
        assert_eq!(
            ctx.participant.as_deref(),
            Some("15550001111@s.whatsapp.net")
        );
        let quoted = ctx.quoted_message.as_option().unwrap();
        assert_eq!(quoted.conversation.as_deref(), Some("the original"));
        assert_eq!(
            msg.extended_text_message
                .as_option()
                .unwrap()
                .text
                .as_deref(),
            Some("yes")
        );
    }

    #[test]
    fn a_reply_to_a_received_message_names_its_author() {
        let msg = build(text("ok", None), Some(target(false))).unwrap();
        assert_eq!(
            context(&msg).participant.as_deref(),
            Some("15550002222@s.whatsapp.net")
        );

        let mut in_group = target(false);
        in_group.participant = Some("15550003333@s.whatsapp.net".into());
        in_group.text = None;
        let msg = build(text("ok", None), Some(in_group)).unwrap();
        let ctx = context(&msg);
        assert_eq!(
            ctx.participant.as_deref(),
            Some("15550003333@s.whatsapp.net")
        );
        assert!(ctx.quoted_message.as_option().is_none());
    }

    #[test]
    fn a_reply_keeps_the_link_preview() {
        let preview = LinkPreview {
            url: "https://example.com".into(),
            title: Some("Example".into()),
            ..Default::default()
        };
        let msg = build(
            text("https://example.com", Some(preview)),
            Some(target(true)),
        )
        .unwrap();
        let ext = msg.extended_text_message.as_option().unwrap();
        assert_eq!(ext.matched_text.as_deref(), Some("https://example.com"));
        assert_eq!(context(&msg).stanza_id.as_deref(), Some("3EB0AAAA"));
    }

    #[test]
    fn reactions_carry_no_quote() {
        let content = Content::Reaction {
            target: target(true),
            emoji: "👍".into(),
        };
        let msg = build(content, Some(target(true))).unwrap();
        let reaction = msg.reaction_message.as_option().unwrap();
        assert!(reaction.key.as_option().is_some());
        assert!(msg.extended_text_message.as_option().is_none());
    }
}
