//! One test per kind a person sends: media, places, cards, reactions,
//! polls and votes.

use super::map_tests::{ID, map, media_url, text};
use wagate_core::events::{
    InboundKind, InboundMedia, Location, MediaStatus, Poll, PollVote, Reaction,
};
use wagate_core::outbound::{ContactCard, MediaKind};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

const HASH: [u8; 32] = [0xab; 32];

fn pending(kind: MediaKind, mimetype: &str, size: u64) -> InboundMedia {
    InboundMedia {
        kind,
        mimetype: mimetype.into(),
        file_name: None,
        size: Some(size),
        sha256: Some("ab".repeat(32)),
        url: media_url(ID),
        public_url: None,
        status: MediaStatus::Pending,
        error: None,
    }
}

#[test]
fn an_image_with_its_caption() {
    let msg = map(&wa::Message {
        image_message: MessageField::some(m::ImageMessage {
            mimetype: Some("image/jpeg".into()),
            caption: Some("look".into()),
            file_sha256: Some(HASH.to_vec()),
            file_length: Some(2048),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        (msg.kind, msg.text.as_deref()),
        (InboundKind::Image, Some("look"))
    );
    assert_eq!(
        msg.media,
        Some(pending(MediaKind::Image, "image/jpeg", 2048))
    );
}

#[test]
fn a_view_once_video_and_a_video_note() {
    let video = m::VideoMessage {
        mimetype: Some("video/mp4".into()),
        file_sha256: Some(HASH.to_vec()),
        file_length: Some(9000),
        ..Default::default()
    };
    let view_once = wa::Message {
        view_once_message_v2: MessageField::some(m::FutureProofMessage {
            message: MessageField::some(wa::Message {
                video_message: MessageField::some(video.clone()),
                ..Default::default()
            }),
        }),
        ..Default::default()
    };
    let note = wa::Message {
        ptv_message: MessageField::some(video),
        ..Default::default()
    };
    for msg in [view_once, note] {
        let msg = map(&msg);
        assert_eq!((msg.kind, msg.text), (InboundKind::Video, None));
        assert_eq!(
            msg.media,
            Some(pending(MediaKind::Video, "video/mp4", 9000))
        );
    }
}

#[test]
fn push_to_talk_audio_is_a_voice_note() {
    let audio = |ptt| wa::Message {
        audio_message: MessageField::some(m::AudioMessage {
            mimetype: Some("audio/ogg; codecs=opus".into()),
            file_sha256: Some(HASH.to_vec()),
            file_length: Some(512),
            ptt,
            ..Default::default()
        }),
        ..Default::default()
    };
    let voice = map(&audio(Some(true)));
    assert_eq!(voice.kind, InboundKind::Voice);
    assert_eq!(voice.media.unwrap().kind, MediaKind::Voice);
    let music = map(&audio(None));
    assert_eq!(music.kind, InboundKind::Audio);
    assert_eq!(music.media.unwrap().kind, MediaKind::Audio);
}

#[test]
fn a_captioned_document_in_its_envelope() {
    let document = wa::Message {
        document_message: MessageField::some(m::DocumentMessage {
            mimetype: Some("application/pdf".into()),
            file_name: Some("report.pdf".into()),
            caption: Some("Q3".into()),
            file_sha256: Some(HASH.to_vec()),
            file_length: Some(100_000),
            ..Default::default()
        }),
        ..Default::default()
    };
    let msg = map(&wa::Message {
        document_with_caption_message: MessageField::some(m::FutureProofMessage {
            message: MessageField::some(document),
        }),
        ..Default::default()
    });
    assert_eq!(
        (msg.kind, msg.text.as_deref()),
        (InboundKind::Document, Some("Q3"))
    );
    let mut expected = pending(MediaKind::Document, "application/pdf", 100_000);
    expected.file_name = Some("report.pdf".into());
    assert_eq!(msg.media, Some(expected));
}

#[test]
fn a_sticker_without_declarations_gets_the_defaults() {
    let msg = map(&wa::Message {
        sticker_message: MessageField::some(m::StickerMessage::default()),
        ..Default::default()
    });
    assert_eq!(msg.kind, InboundKind::Sticker);
    let media = msg.media.unwrap();
    assert_eq!(media.mimetype, "image/webp");
    assert_eq!(
        (media.size, media.sha256, media.file_name),
        (None, None, None)
    );
    assert_eq!(media.url, media_url(ID));
}

#[test]
fn a_location_and_a_live_one() {
    let msg = map(&wa::Message {
        location_message: MessageField::some(m::LocationMessage {
            degrees_latitude: Some(52.52),
            degrees_longitude: Some(13.405),
            name: Some("Berlin".into()),
            address: Some("Pariser Platz".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(msg.kind, InboundKind::Location);
    let berlin = Location {
        latitude: 52.52,
        longitude: 13.405,
        name: Some("Berlin".into()),
        address: Some("Pariser Platz".into()),
    };
    assert_eq!(msg.location, Some(berlin));

    let live = map(&wa::Message {
        live_location_message: MessageField::some(m::LiveLocationMessage {
            degrees_latitude: Some(1.5),
            degrees_longitude: Some(-2.5),
            caption: Some("on my way".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(live.kind, InboundKind::Location);
    assert_eq!(live.text.as_deref(), Some("on my way"));
    let at = live.location.unwrap();
    assert_eq!((at.latitude, at.longitude, at.name), (1.5, -2.5, None));
}

fn card(name: &str) -> m::ContactMessage {
    m::ContactMessage {
        display_name: Some(name.into()),
        vcard: Some(format!("BEGIN:VCARD\nFN:{name}\nEND:VCARD")),
        ..Default::default()
    }
}

#[test]
fn one_contact_or_several() {
    let one = map(&wa::Message {
        contact_message: MessageField::some(card("Ann")),
        ..Default::default()
    });
    assert_eq!(one.kind, InboundKind::Contacts);
    let ann = ContactCard {
        display_name: "Ann".into(),
        vcard: "BEGIN:VCARD\nFN:Ann\nEND:VCARD".into(),
    };
    assert_eq!(one.contacts, Some(vec![ann]));

    let several = map(&wa::Message {
        contacts_array_message: MessageField::some(m::ContactsArrayMessage {
            display_name: Some("2 contacts".into()),
            contacts: vec![card("Ann"), card("Bob")],
            ..Default::default()
        }),
        ..Default::default()
    });
    let cards = several.contacts.unwrap();
    let names: Vec<_> = cards.iter().map(|c| c.display_name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob"]);
}

fn reaction(emoji: &str) -> wa::Message {
    wa::Message {
        reaction_message: MessageField::some(m::ReactionMessage {
            key: MessageField::some(wa::MessageKey {
                id: Some("3EB0AAAA".into()),
                ..Default::default()
            }),
            text: Some(emoji.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_reaction_and_its_removal() {
    for emoji in ["👍", ""] {
        let msg = map(&reaction(emoji));
        assert_eq!(msg.kind, InboundKind::Reaction);
        let expected = Reaction {
            target_id: "3EB0AAAA".into(),
            emoji: emoji.into(),
        };
        assert_eq!((msg.reaction, msg.text), (Some(expected), None));
    }
}

fn poll(selectable: Option<u32>) -> m::PollCreationMessage {
    let option = |name: &str| m::poll_creation_message::Option {
        option_name: Some(name.into()),
        option_hash: None,
    };
    m::PollCreationMessage {
        name: Some("Lunch?".into()),
        options: vec![option("Pizza"), option("Sushi"), option("Salad")],
        selectable_options_count: selectable,
        ..Default::default()
    }
}

#[test]
fn polls_of_every_version() {
    let single = wa::Message {
        poll_creation_message_v3: MessageField::some(poll(Some(1))),
        ..Default::default()
    };
    let two = wa::Message {
        poll_creation_message: MessageField::some(poll(Some(2))),
        ..Default::default()
    };
    let unlimited = wa::Message {
        poll_creation_message_v2: MessageField::some(poll(Some(0))),
        ..Default::default()
    };
    for (msg, selectable_count) in [(single, 1), (two, 2), (unlimited, 3)] {
        let msg = map(&msg);
        assert_eq!(msg.kind, InboundKind::Poll);
        let expected = Poll {
            name: "Lunch?".into(),
            options: vec!["Pizza".into(), "Sushi".into(), "Salad".into()],
            selectable_count,
        };
        assert_eq!(msg.poll, Some(expected));
    }
}

#[test]
fn a_vote_names_its_poll() {
    let msg = map(&wa::Message {
        poll_update_message: MessageField::some(m::PollUpdateMessage {
            poll_creation_message_key: MessageField::some(wa::MessageKey {
                id: Some("3EB0POLL".into()),
                ..Default::default()
            }),
            vote: MessageField::some(m::PollEncValue {
                enc_payload: Some(vec![1; 16]),
                enc_iv: Some(vec![2; 12]),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(msg.kind, InboundKind::PollVote);
    let vote = PollVote {
        poll_id: "3EB0POLL".into(),
        selected_options: None,
        selected_option_hashes: None,
        reason: Some(super::map_poll_vote::NOT_OPENED.into()),
    };
    assert_eq!(msg.poll_vote, Some(vote));
}

#[test]
fn a_reaction_to_nothing_is_unknown() {
    let mut msg = reaction("👍");
    msg.reaction_message.as_option_mut().unwrap().key = MessageField::none();
    assert_eq!(map(&msg).kind, InboundKind::Unknown);
}

#[test]
fn media_urls_are_only_asked_for_media() {
    let asked = std::cell::Cell::new(0);
    let url = |id: &str| {
        asked.set(asked.get() + 1);
        media_url(id)
    };
    let info = super::map_tests::info();
    super::map::inbound_message(&text("no file"), &info, url, None).unwrap();
    assert_eq!(asked.get(), 0);
}
