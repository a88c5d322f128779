//! Every outbound kind, built by `build_message` with a real client and
//! sent to the simulator: the contact's inbox shows what was meant.

mod support;

use serde_json::{Value, json};
use support::{Blobs, inbox_entry, linked_client, noise};
use wagate_core::outbound::{
    ContactCard, Content, LinkPreview, MediaBlob, MediaKind, MessageId, MessageRef, OutboundBody,
    SendFailure,
};
use wagate_engine::outbound::build::build_message;
use whatsapp_rust::{Jid, SendOptions};

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

fn mine(id: &str, text: Option<&str>) -> MessageRef {
    MessageRef {
        id: id.into(),
        from_me: true,
        participant: None,
        text: text.map(str::to_string),
    }
}

fn body(content: Content) -> OutboundBody {
    OutboundBody {
        content,
        reply_to: None,
    }
}

fn media(kind: MediaKind, blob: &MediaBlob, caption: Option<&str>) -> Content {
    Content::Media {
        kind,
        blob: blob.clone(),
        caption: caption.map(str::to_string),
    }
}

/// Sends each body in turn and collects every way an inbox entry differs
/// from what was meant, so one run names every kind the simulator shows
/// differently.
struct Run<'a> {
    sim: &'a wasim::Sim,
    client: &'a whatsapp_rust::Client,
    to: Jid,
    blobs: &'a Blobs,
    mismatches: Vec<String>,
}

impl Run<'_> {
    /// Builds and sends `body` as `label`; checks the contact sees every
    /// field of `want`. Returns the message id.
    async fn send(&mut self, label: &str, body: OutboundBody, want: Value) -> String {
        let msg = build_message(self.client, &self.to, &body, self.blobs)
            .await
            .unwrap_or_else(|e| panic!("{label}: build failed: {e:?}"));
        let id = MessageId::generate().to_string();
        let options = SendOptions::default().with_message_id(id.clone());
        self.client
            .send_message_with_options(self.to.clone(), msg, options)
            .await
            .unwrap_or_else(|e| panic!("{label}: send failed: {e}"));
        let Some(entry) = inbox_entry(self.sim, CONTACT, &id).await else {
            self.mismatches
                .push(format!("{label}: never reached the inbox"));
            return id;
        };
        if let Some(error) = entry.get("error") {
            self.mismatches.push(format!("{label}: {error}"));
        }
        for (field, wanted) in want.as_object().expect("want is an object") {
            if &entry[field] != wanted {
                self.mismatches
                    .push(format!("{label}: {field} is {} not {wanted}", entry[field]));
            }
        }
        id
    }

    /// What a media kind shows besides its own fields: the file itself.
    fn file(&self, blob: &MediaBlob, mut want: Value) -> Value {
        want["sha256"] = json!(blob.sha256);
        want["size"] = json!(blob.size);
        want
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_reaches_the_contact_as_meant() {
    let sim = wasim::Sim::start().await.unwrap();
    let linked = linked_client(&sim, ME).await;
    let mut blobs = Blobs::default();
    let image = blobs.add(noise(30_000, 1), "image/jpeg", None);
    let video = blobs.add(noise(50_017, 2), "video/mp4", None);
    let audio = blobs.add(noise(20_000, 3), "audio/mpeg", None);
    let voice = blobs.add(noise(9_000, 4), "audio/ogg; codecs=opus", None);
    let document = blobs.add(noise(12_345, 5), "application/pdf", Some("report.pdf"));
    let sticker = blobs.add(noise(4_000, 6), "image/webp", None);
    let mut run = Run {
        sim: &sim,
        client: &linked.client,
        to: format!("{CONTACT}@s.whatsapp.net").parse().unwrap(),
        blobs: &blobs,
        mismatches: Vec::new(),
    };
    let me = format!("{ME}@s.whatsapp.net");
    let contact = format!("{CONTACT}@s.whatsapp.net");

    let text = Content::Text {
        text: "hello".into(),
        link_preview: None,
    };
    let want = json!({"type": "text", "text": "hello", "linkPreview": null, "from": ME});
    let hello = run.send("text", body(text), want).await;

    let linked_text = Content::Text {
        text: "read https://example.com/post".into(),
        link_preview: Some(LinkPreview {
            url: "https://example.com/post".into(),
            title: Some("A post".into()),
            description: Some("What it says".into()),
        }),
    };
    let preview = json!({"url": "https://example.com/post", "title": "A post", "description": "What it says"});
    run.send(
        "link preview",
        body(linked_text),
        json!({"type": "text", "linkPreview": preview}),
    )
    .await;

    let reply = OutboundBody {
        content: Content::Text {
            text: "me again".into(),
            link_preview: None,
        },
        reply_to: Some(mine(&hello, Some("hello"))),
    };
    let quoted = json!({"id": hello, "participant": me, "text": "hello"});
    run.send(
        "reply to ours",
        reply,
        json!({"type": "text", "text": "me again", "quoted": quoted}),
    )
    .await;

    let reply = OutboundBody {
        content: Content::Text {
            text: "you said".into(),
            link_preview: None,
        },
        reply_to: Some(MessageRef {
            id: "3EB0C0FFEE".into(),
            from_me: false,
            participant: None,
            text: None,
        }),
    };
    let quoted = json!({"id": "3EB0C0FFEE", "participant": contact, "text": null});
    run.send("reply to theirs", reply, json!({"quoted": quoted}))
        .await;

    let with_reply = OutboundBody {
        content: media(MediaKind::Image, &image, Some("a picture")),
        reply_to: Some(mine(&hello, Some("hello"))),
    };
    let want = json!({"type": "image", "mimetype": "image/jpeg", "caption": "a picture", "quoted": {"id": hello, "participant": me, "text": "hello"}});
    run.send("image", with_reply, run.file(&image, want)).await;
    let want = json!({"type": "video", "mimetype": "video/mp4", "caption": null});
    run.send(
        "video",
        body(media(MediaKind::Video, &video, None)),
        run.file(&video, want),
    )
    .await;
    let want = json!({"type": "audio", "mimetype": "audio/mpeg", "ptt": false});
    run.send(
        "audio",
        body(media(MediaKind::Audio, &audio, None)),
        run.file(&audio, want),
    )
    .await;
    let want = json!({"type": "audio", "mimetype": "audio/ogg; codecs=opus", "ptt": true});
    run.send(
        "voice",
        body(media(MediaKind::Voice, &voice, None)),
        run.file(&voice, want),
    )
    .await;
    let want = json!({"type": "document", "mimetype": "application/pdf", "filename": "report.pdf", "caption": "Q3"});
    let doc = body(media(MediaKind::Document, &document, Some("Q3")));
    run.send("document", doc, run.file(&document, want)).await;
    let want = json!({"type": "sticker", "mimetype": "image/webp"});
    run.send(
        "sticker",
        body(media(MediaKind::Sticker, &sticker, None)),
        run.file(&sticker, want),
    )
    .await;

    let place = Content::Location {
        latitude: 52.52,
        longitude: 13.405,
        name: Some("Berlin".into()),
        address: Some("Pariser Platz".into()),
    };
    let want = json!({"type": "location", "latitude": 52.52, "longitude": 13.405, "name": "Berlin", "address": "Pariser Platz"});
    run.send("location", body(place), want).await;

    let card = |name: &str| ContactCard {
        display_name: name.into(),
        vcard: format!("BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nEND:VCARD"),
    };
    let one = Content::Contacts {
        contacts: vec![card("Ann")],
    };
    let want = json!({"type": "contacts", "contacts": [{"displayName": "Ann", "vcard": card("Ann").vcard}]});
    run.send("one contact", body(one), want).await;
    let two = Content::Contacts {
        contacts: vec![card("Ann"), card("Bob")],
    };
    run.send(
        "two contacts",
        body(two),
        json!({"type": "contacts", "displayName": "2 contacts"}),
    )
    .await;

    let react = Content::Reaction {
        target: mine(&hello, None),
        emoji: "👍".into(),
    };
    let want = json!({"type": "reaction", "targetId": hello, "targetFromMe": true, "emoji": "👍"});
    run.send("reaction", body(react), want).await;

    let edit = Content::Edit {
        target: mine(&hello, None),
        text: "hello, edited".into(),
    };
    let want = json!({"type": "edit", "targetId": hello, "text": "hello, edited"});
    run.send("edit", body(edit), want).await;

    let single = Content::Poll {
        name: "Lunch?".into(),
        options: vec!["Pizza".into(), "Sushi".into()],
        selectable_count: 1,
    };
    let want = json!({"type": "poll", "name": "Lunch?", "options": ["Pizza", "Sushi"], "selectableCount": 1});
    run.send("single-choice poll", body(single), want).await;
    let multiple = Content::Poll {
        name: "Toppings".into(),
        options: vec!["Olives".into(), "Basil".into(), "Chili".into()],
        selectable_count: 2,
    };
    let want =
        json!({"type": "poll", "options": ["Olives", "Basil", "Chili"], "selectableCount": 2});
    run.send("multiple-choice poll", body(multiple), want).await;

    let delete = Content::Delete {
        target: mine(&hello, None),
    };
    run.send(
        "delete",
        body(delete),
        json!({"type": "revoke", "targetId": hello}),
    )
    .await;

    // A blob the store lost can never be sent.
    let mut lost = image.clone();
    lost.sha256 = "00".repeat(32);
    let failed = build_message(
        &linked.client,
        &run.to,
        &body(media(MediaKind::Image, &lost, None)),
        &blobs,
    )
    .await;
    assert!(
        matches!(failed, Err(SendFailure::Permanent(_))),
        "{failed:?}"
    );

    let mismatches = std::mem::take(&mut run.mismatches);
    linked.stop().await;
    assert!(
        mismatches.is_empty(),
        "the contact saw:\n{}",
        mismatches.join("\n")
    );
}
