//! What a person shares besides text and media: places, contact cards,
//! reactions, polls and votes.

use super::map::Body;
use wagate_core::events::{InboundKind, Location, Poll, PollVote, Reaction};
use wagate_core::outbound::ContactCard;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

/// `None` for any other message, and for a reaction or vote that does not
/// say what it is on (the caller reports those as unknown).
pub(super) fn shared(msg: &wa::Message) -> Option<Body> {
    location(msg)
        .or_else(|| contacts(msg))
        .or_else(|| reaction(msg))
        .or_else(|| poll(msg))
        .or_else(|| poll_vote(msg))
}

fn location(msg: &wa::Message) -> Option<Body> {
    if let Some(m) = msg.location_message.as_option() {
        let location = Location {
            latitude: m.degrees_latitude.unwrap_or_default(),
            longitude: m.degrees_longitude.unwrap_or_default(),
            name: m.name.clone(),
            address: m.address.clone(),
        };
        return Some(Body {
            location: Some(location),
            ..Body::new(InboundKind::Location)
        });
    }
    // A live location starts as a place like any other; the updates that
    // follow it are not followed.
    let m = msg.live_location_message.as_option()?;
    let location = Location {
        latitude: m.degrees_latitude.unwrap_or_default(),
        longitude: m.degrees_longitude.unwrap_or_default(),
        name: None,
        address: None,
    };
    Some(Body {
        text: m.caption.clone().filter(|c| !c.is_empty()),
        location: Some(location),
        ..Body::new(InboundKind::Location)
    })
}

/// One card travels as a `contact_message`, several as an array.
fn contacts(msg: &wa::Message) -> Option<Body> {
    let card = |c: &m::ContactMessage| ContactCard {
        display_name: c.display_name.clone().unwrap_or_default(),
        vcard: c.vcard.clone().unwrap_or_default(),
    };
    let cards = match msg.contact_message.as_option() {
        Some(one) => vec![card(one)],
        None => msg
            .contacts_array_message
            .as_option()?
            .contacts
            .iter()
            .map(card)
            .collect(),
    };
    Some(Body {
        contacts: Some(cards),
        ..Body::new(InboundKind::Contacts)
    })
}

/// An empty emoji is how a sender takes its reaction back.
fn reaction(msg: &wa::Message) -> Option<Body> {
    let m = msg.reaction_message.as_option()?;
    let reaction = Reaction {
        target_id: m.key.as_option()?.id.clone()?,
        emoji: m.text.clone().unwrap_or_default(),
    };
    Some(Body {
        reaction: Some(reaction),
        ..Body::new(InboundKind::Reaction)
    })
}

/// WhatsApp sends a single-choice poll as v3 and a multiple-choice one as
/// v1; the other versions are older and newer senders' forms of the same
/// message.
fn poll(msg: &wa::Message) -> Option<Body> {
    let p = [
        &msg.poll_creation_message,
        &msg.poll_creation_message_v2,
        &msg.poll_creation_message_v3,
        &msg.poll_creation_message_v5,
        &msg.poll_creation_message_v6,
    ]
    .into_iter()
    .find_map(MessageField::as_option)?;
    let options: Vec<String> = p
        .options
        .iter()
        .filter_map(|o| o.option_name.clone())
        .collect();
    let selectable_count = match p.selectable_options_count {
        Some(n) if n > 0 => n,
        // No limit: a voter may pick every option.
        _ => u32::try_from(options.len()).unwrap_or(u32::MAX),
    };
    let poll = Poll {
        name: p.name.clone().unwrap_or_default(),
        options,
        selectable_count,
    };
    Some(Body {
        poll: Some(poll),
        ..Body::new(InboundKind::Poll)
    })
}

fn poll_vote(msg: &wa::Message) -> Option<Body> {
    let m = msg.poll_update_message.as_option()?;
    let vote = PollVote {
        poll_id: m.poll_creation_message_key.as_option()?.id.clone()?,
        // The choice is encrypted with a key derived from the poll's
        // secret, which only the session's store holds; the inbound hook
        // opens the vote and fills the options in.
        selected_options: None,
        selected_option_hashes: None,
        reason: Some(super::map_poll_vote::NOT_OPENED.to_string()),
    };
    Some(Body {
        poll_vote: Some(vote),
        ..Body::new(InboundKind::PollVote)
    })
}
