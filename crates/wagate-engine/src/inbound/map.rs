//! One received message, as whatsapp-rust delivers it, in the gateway's
//! native `message.received` shape. Pure: the caller says where media will
//! be served and what it knows of the sender's LID, so every kind is tested
//! without a client.

use super::{map_media, map_shared};
use wa::message::protocol_message::Type as ProtocolType;
use wagate_core::events::{
    Edit, InboundKind, InboundMedia, InboundMessage, Location, Poll, PollVote, Reaction, ReplyTo,
    Revoke, Sender,
};
use wagate_core::outbound::ContactCard;
use whatsapp_rust::Jid;
use whatsapp_rust::buffa::{Message as _, MessageField};
use whatsapp_rust::types::message::MessageInfo;
use whatsapp_rust::wacore::proto_helpers::MessageExt;
use whatsapp_rust::waproto::whatsapp as wa;

/// `msg` as the native API reports it, or `None` for what no chat shows:
/// housekeeping between devices (app-state key shares, history sync
/// notices, sender keys on their own) and chat settings such as
/// disappearing messages. Edits and deletions for everyone are content.
///
/// `media_url` says where the gateway will serve a message's file, given
/// the message id. `lid_of_sender` is the sender's LID when the caller
/// knows it from elsewhere; WhatsApp sends it along only sometimes.
pub fn inbound_message(
    msg: &wa::Message,
    info: &MessageInfo,
    media_url: impl Fn(&str) -> String,
    lid_of_sender: Option<String>,
) -> Option<InboundMessage> {
    let msg = base_of(msg);
    let body = match protocol(msg) {
        Some(protocol_body) => protocol_body?,
        None => content(msg, &|| media_url(&info.id))?,
    };
    Some(InboundMessage {
        id: info.id.clone(),
        chat_id: info.source.chat.to_string(),
        is_group: info.source.is_group,
        from: sender(info, lid_of_sender),
        timestamp: info.timestamp.timestamp(),
        kind: body.kind,
        text: body.text,
        media: body.media,
        location: body.location,
        contacts: body.contacts,
        reaction: body.reaction,
        poll: body.poll,
        poll_vote: body.poll_vote,
        edit: body.edit,
        revoke: body.revoke,
        reply_to: context_info(msg).and_then(reply_to),
    })
}

/// What one kind fills in of an [`InboundMessage`]; the rest (who, where,
/// when, what it replies to) is the same for every kind.
pub(super) struct Body {
    pub kind: InboundKind,
    pub text: Option<String>,
    pub media: Option<InboundMedia>,
    pub location: Option<Location>,
    pub contacts: Option<Vec<ContactCard>>,
    pub reaction: Option<Reaction>,
    pub poll: Option<Poll>,
    pub poll_vote: Option<PollVote>,
    pub edit: Option<Edit>,
    pub revoke: Option<Revoke>,
}

impl Body {
    pub fn new(kind: InboundKind) -> Self {
        Body {
            kind,
            text: None,
            media: None,
            location: None,
            contacts: None,
            reaction: None,
            poll: None,
            poll_vote: None,
            edit: None,
            revoke: None,
        }
    }
}

/// The message inside its envelopes (device-sent copies, disappearing and
/// view-once messages, captioned documents, edits). wacore's
/// `get_base_message` opens each kind of envelope once, in a fixed order;
/// repeating it until nothing changes also opens nestings in another order.
pub(crate) fn base_of(msg: &wa::Message) -> &wa::Message {
    let mut current = msg;
    loop {
        let inner = current.get_base_message();
        if std::ptr::eq(inner, current) {
            return current;
        }
        current = inner;
    }
}

/// The text a person reads in a message: its body or its media caption.
/// What an edit changes a message to, and what a reply quotes.
pub(super) fn text_of(msg: &wa::Message) -> Option<String> {
    let msg = base_of(msg);
    msg.text_content()
        .or_else(|| msg.get_caption())
        .map(str::to_string)
}

/// `None` when `msg` is no protocol message; `Some(None)` when it is one
/// that no chat shows.
fn protocol(msg: &wa::Message) -> Option<Option<Body>> {
    let pm = msg.protocol_message.as_option()?;
    let target = pm.key.as_option().and_then(|key| key.id.clone());
    let body = match (pm.r#type, target) {
        (Some(ProtocolType::REVOKE), Some(target_id)) => Body {
            revoke: Some(Revoke { target_id }),
            ..Body::new(InboundKind::Revoke)
        },
        (Some(ProtocolType::MESSAGE_EDIT), Some(target_id)) => {
            let text = pm.edited_message.as_option().and_then(text_of);
            Body {
                edit: Some(Edit {
                    target_id,
                    text: text.unwrap_or_default(),
                }),
                ..Body::new(InboundKind::Edit)
            }
        }
        // A person did something, but the message does not say to what.
        (Some(ProtocolType::REVOKE | ProtocolType::MESSAGE_EDIT), None) => {
            Body::new(InboundKind::Unknown)
        }
        // Key shares, history sync, disappearing-message settings, LID
        // migrations and the like: between devices, or about the chat.
        _ => return Some(None),
    };
    Some(Some(body))
}

fn content(msg: &wa::Message, media_url: &dyn Fn() -> String) -> Option<Body> {
    text(msg)
        .or_else(|| map_media::media(msg, media_url))
        .or_else(|| map_shared::shared(msg))
        .or_else(|| carries_content(msg).then(|| Body::new(InboundKind::Unknown)))
}

/// Plain text is a bare `conversation`; a text with a link preview, a
/// quote or mentions is an extended text.
fn text(msg: &wa::Message) -> Option<Body> {
    let text = msg.conversation.clone().or_else(|| {
        let ext = msg.extended_text_message.as_option()?;
        Some(ext.text.clone().unwrap_or_default())
    })?;
    Some(Body {
        text: Some(text),
        ..Body::new(InboundKind::Text)
    })
}

/// Whether anything is left of `msg` without the parts that only ride
/// along with content: a group's sender keys (the first message from a
/// device brings them, and sometimes they come alone), other key material,
/// and the message's secret and device-list metadata.
fn carries_content(msg: &wa::Message) -> bool {
    let mut rest = msg.clone();
    rest.sender_key_distribution_message = MessageField::none();
    rest.fast_ratchet_key_sender_key_distribution_message = MessageField::none();
    rest.group_root_key_share = MessageField::none();
    rest.root_secret_distribute_message = MessageField::none();
    rest.message_context_info = MessageField::none();
    rest.encoded_len() > 0
}

/// Who wrote the message. In a chat addressed by LID the sender is a LID
/// and the phone number, when WhatsApp shares it, is the alternative; in
/// one addressed by phone number it is the other way round.
fn sender(info: &MessageInfo, lid_of_sender: Option<String>) -> Sender {
    let source = &info.source;
    let ids = || std::iter::once(&source.sender).chain(source.sender_alt.as_ref());
    Sender {
        phone: ids()
            .find(|jid| jid.server.is_pn_family())
            .map(|jid| jid.user_base().to_string()),
        // Without the device part: the device a message came from is no
        // address to write back to.
        jid: source.sender.to_non_ad_string(),
        lid: ids()
            .find(|jid| jid.server.is_lid_family())
            .map(Jid::to_non_ad_string)
            .or(lid_of_sender),
        push_name: Some(info.push_name.clone()).filter(|name| !name.is_empty()),
    }
}

/// The quote a reply carries. A context without a quoted message id
/// (a forward, mentions alone) is no reply.
fn reply_to(ctx: &wa::ContextInfo) -> Option<ReplyTo> {
    Some(ReplyTo {
        id: ctx.stanza_id.clone().filter(|id| !id.is_empty())?,
        participant: ctx.participant.clone(),
        text: ctx.quoted_message.as_option().and_then(text_of),
    })
}

/// The context of whichever kind the message is; each kind keeps its own.
fn context_info(msg: &wa::Message) -> Option<&wa::ContextInfo> {
    macro_rules! first_of {
        ($($kind:ident),* $(,)?) => {
            None$(.or_else(|| msg.$kind.as_option()?.context_info.as_option()))*
        };
    }
    first_of!(
        extended_text_message,
        image_message,
        video_message,
        ptv_message,
        audio_message,
        document_message,
        sticker_message,
        location_message,
        live_location_message,
        contact_message,
        contacts_array_message,
        poll_creation_message,
        poll_creation_message_v2,
        poll_creation_message_v3,
        poll_creation_message_v5,
        poll_creation_message_v6,
        group_invite_message,
        event_message,
        buttons_response_message,
        list_response_message,
        template_button_reply_message,
        interactive_response_message,
    )
}
