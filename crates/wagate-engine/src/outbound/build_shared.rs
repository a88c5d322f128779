//! What a person shares besides text and media: places, contact cards
//! and polls.

use wagate_core::outbound::{ContactCard, SendFailure};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

pub(super) fn location(
    latitude: f64,
    longitude: f64,
    name: &Option<String>,
    address: &Option<String>,
) -> wa::Message {
    wa::Message {
        location_message: MessageField::some(m::LocationMessage {
            degrees_latitude: Some(latitude),
            degrees_longitude: Some(longitude),
            name: name.clone(),
            address: address.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One card travels as a `contact_message`; several as one array, which
/// the chat lists as "N contacts".
pub(super) fn contacts(cards: &[ContactCard]) -> Result<wa::Message, SendFailure> {
    let card = |c: &ContactCard| m::ContactMessage {
        display_name: Some(c.display_name.clone()),
        vcard: Some(c.vcard.clone()),
        ..Default::default()
    };
    match cards {
        [] => Err(SendFailure::Permanent("no contact to send".into())),
        [one] => Ok(wa::Message {
            contact_message: MessageField::some(card(one)),
            ..Default::default()
        }),
        several => Ok(wa::Message {
            contacts_array_message: MessageField::some(m::ContactsArrayMessage {
                display_name: Some(format!("{} contacts", several.len())),
                contacts: several.iter().map(card).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// WhatsApp's limits on a poll; votes are matched by the hash of an
/// option's name, so two options with one name could not be told apart.
const MAX_POLL_OPTIONS: usize = 12;

/// A poll as WhatsApp Web creates one (and whatsapp-rust's `polls()`):
/// v3 when one answer is allowed, v1 when several are, and a fresh
/// `message_secret` that voters derive their vote key from. The sender
/// needs that secret to read votes later: it is in the returned message's
/// `message_context_info`, and the send reuses it instead of minting one.
pub(super) fn poll(
    name: &str,
    options: &[String],
    selectable_count: u32,
) -> Result<wa::Message, SendFailure> {
    check_poll(options, selectable_count).map_err(SendFailure::Permanent)?;
    let creation = m::PollCreationMessage {
        name: Some(name.to_string()),
        options: options
            .iter()
            .map(|option| m::poll_creation_message::Option {
                option_name: Some(option.clone()),
                option_hash: None,
            })
            .collect(),
        selectable_options_count: Some(selectable_count),
        // WhatsApp Web always sets it; TEXT is an ordinary poll.
        poll_content_type: Some(m::PollContentType::TEXT),
        ..Default::default()
    };
    let mut msg = wa::Message::default();
    if selectable_count == 1 {
        msg.poll_creation_message_v3 = MessageField::some(creation);
    } else {
        msg.poll_creation_message = MessageField::some(creation);
    }
    let secret = whatsapp_rust::wacore::reporting_token::generate_message_secret();
    msg.message_context_info = MessageField::some(wa::MessageContextInfo {
        message_secret: Some(secret.to_vec()),
        ..Default::default()
    });
    Ok(msg)
}

fn check_poll(options: &[String], selectable_count: u32) -> Result<(), String> {
    if !(2..=MAX_POLL_OPTIONS).contains(&options.len()) {
        return Err(format!("a poll needs 2 to {MAX_POLL_OPTIONS} options"));
    }
    if selectable_count < 1 || selectable_count as usize > options.len() {
        return Err(format!(
            "selectable count must be 1 to {}, not {selectable_count}",
            options.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = options.iter().find(|o| !seen.insert(o.as_str())) {
        return Err(format!("poll option {twice:?} appears twice"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::outbound::build::tests::{build, target};
    use wagate_core::outbound::{ContactCard, Content, SendFailure};

    fn card(name: &str) -> ContactCard {
        ContactCard {
            display_name: name.into(),
            vcard: format!("BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nEND:VCARD"),
        }
    }

    #[test]
    fn a_location_has_degrees_name_and_address() {
        let content = Content::Location {
            latitude: 52.52,
            longitude: 13.405,
            name: Some("Berlin".into()),
            address: None,
        };
        let msg = build(content, None).unwrap();
        let loc = msg.location_message.as_option().unwrap();
        assert_eq!(loc.degrees_latitude, Some(52.52));
        assert_eq!(loc.degrees_longitude, Some(13.405));
        assert_eq!(loc.name.as_deref(), Some("Berlin"));
        assert_eq!(loc.address, None);
    }

    #[test]
    fn one_card_or_an_array_of_them() {
        let one = build(
            Content::Contacts {
                contacts: vec![card("Ann")],
            },
            None,
        )
        .unwrap();
        let c = one.contact_message.as_option().unwrap();
        assert_eq!(c.display_name.as_deref(), Some("Ann"));
        assert!(c.vcard.as_deref().unwrap().contains("FN:Ann"));

        let two = Content::Contacts {
            contacts: vec![card("Ann"), card("Bob")],
        };
        let msg = build(two, Some(target(true))).unwrap();
        let arr = msg.contacts_array_message.as_option().unwrap();
        assert_eq!(arr.display_name.as_deref(), Some("2 contacts"));
        assert_eq!(arr.contacts.len(), 2);
        assert!(
            arr.context_info.as_option().is_some(),
            "the reply rides along"
        );

        let none = build(Content::Contacts { contacts: vec![] }, None);
        assert!(matches!(none, Err(SendFailure::Permanent(_))));
    }

    fn poll(
        options: &[&str],
        selectable_count: u32,
    ) -> Result<whatsapp_rust::waproto::whatsapp::Message, SendFailure> {
        let content = Content::Poll {
            name: "Lunch?".into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            selectable_count,
        };
        build(content, None)
    }

    #[test]
    fn a_single_choice_poll_is_v3_with_a_secret() {
        let msg = poll(&["Pizza", "Sushi"], 1).unwrap();
        assert!(msg.poll_creation_message.as_option().is_none());
        let p = msg.poll_creation_message_v3.as_option().unwrap();
        assert_eq!(p.name.as_deref(), Some("Lunch?"));
        let names: Vec<_> = p
            .options
            .iter()
            .map(|o| o.option_name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["Pizza", "Sushi"]);
        assert_eq!(p.selectable_options_count, Some(1));
        let secret = msg
            .message_context_info
            .as_option()
            .unwrap()
            .message_secret
            .as_ref();
        assert_eq!(secret.map(Vec::len), Some(32));
    }

    #[test]
    fn a_multiple_choice_poll_is_v1() {
        let msg = poll(&["a", "b", "c"], 2).unwrap();
        let p = msg.poll_creation_message.as_option().unwrap();
        assert_eq!(p.selectable_options_count, Some(2));
        assert!(msg.poll_creation_message_v3.as_option().is_none());
    }

    #[test]
    fn polls_whatsapp_would_refuse_are_permanent_failures() {
        for (options, count) in [
            (&["a"][..], 1),
            (&["a", "b"][..], 3),
            (&["a", "b"][..], 0),
            (&["a", "a"][..], 1),
        ] {
            assert!(
                matches!(poll(options, count), Err(SendFailure::Permanent(_))),
                "{options:?} {count}"
            );
        }
        let thirteen: Vec<String> = (0..13).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = thirteen.iter().map(String::as_str).collect();
        assert!(poll(&refs, 1).is_err());
    }
}
