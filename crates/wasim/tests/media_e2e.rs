//! Media end to end with the real client: what it uploads and sends, a
//! contact decrypts byte for byte; what a contact sends, the client
//! downloads byte for byte; and the admin API's answers to bad media input.

mod common;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::download::{Downloadable, MediaType};
use whatsapp_rust::types::events::Event;
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

/// Pseudo-random bytes (xorshift), so a shifted or truncated range shows.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A media message of type `$ty` referencing the upload `$up`, plus the
/// fields only that type has.
macro_rules! uploaded {
    ($ty:ident, $up:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let up: UploadResponse = $up;
        MessageField::some(m::$ty {
            url: Some(up.url),
            direct_path: Some(up.direct_path),
            media_key: Some(up.media_key.to_vec()),
            file_sha256: Some(up.file_sha256.to_vec()),
            file_enc_sha256: Some(up.file_enc_sha256.to_vec()),
            file_length: Some(up.file_length),
            media_key_timestamp: Some(up.media_key_timestamp),
            $($field: $value,)*
            ..Default::default()
        })
    }};
}

/// The message the client sends for `kind`, and the inbox fields the
/// contact should show for it besides digest and size.
fn outgoing(kind: &str, up: UploadResponse) -> (wa::Message, Value) {
    let mut msg = wa::Message::default();
    let sidecar = up.streaming_sidecar.clone();
    let expect = match kind {
        "image" => {
            msg.image_message = uploaded!(ImageMessage, up, {
                mimetype: Some("image/jpeg".into()), caption: Some("a picture".into()),
            });
            json!({"mimetype": "image/jpeg", "caption": "a picture"})
        }
        "document" => {
            msg.document_message = uploaded!(DocumentMessage, up, {
                mimetype: Some("application/pdf".into()), caption: Some("the report".into()),
                file_name: Some("report.pdf".into()),
            });
            json!({"mimetype": "application/pdf", "caption": "the report", "filename": "report.pdf"})
        }
        "video" => {
            msg.video_message = uploaded!(VideoMessage, up, {
                mimetype: Some("video/mp4".into()), caption: Some("a clip".into()),
                streaming_sidecar: sidecar,
            });
            json!({"mimetype": "video/mp4", "caption": "a clip"})
        }
        _ => {
            msg.audio_message = uploaded!(AudioMessage, up, {
                mimetype: Some("audio/ogg; codecs=opus".into()), ptt: Some(true),
                streaming_sidecar: sidecar,
            });
            json!({"mimetype": "audio/ogg; codecs=opus", "ptt": true})
        }
    };
    (msg, expect)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_media_is_decrypted_byte_exact_by_the_contact() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let to: whatsapp_rust::Jid = format!("{CONTACT}@s.whatsapp.net").parse().unwrap();
    let kinds = [
        ("image", MediaType::Image, 300_000),
        ("document", MediaType::Document, 200_001),
        ("video", MediaType::Video, 400_017),
        ("audio", MediaType::Audio, 70_000),
    ];
    for (seed, (kind, media_type, len)) in kinds.into_iter().enumerate() {
        let data = noise(len, seed as u64 + 7);
        let up = client
            .client
            .upload(data.clone(), media_type, Default::default())
            .await
            .unwrap_or_else(|e| panic!("{kind} upload: {e:#}"));
        let (msg, expect) = outgoing(kind, up);
        let sent = client.client.send_message(to.clone(), msg).await;
        let id = sent.expect("send").message_id.to_string();
        let entry = inbox_entry(&sim, CONTACT, &id).await;
        assert!(entry.get("error").is_none(), "{kind}: {entry}");
        assert_eq!(entry["type"], kind, "{entry}");
        assert_eq!(entry["from"], ME, "{entry}");
        assert_eq!(
            entry["sha256"],
            hex::encode(Sha256::digest(&data)),
            "{entry}"
        );
        assert_eq!(entry["size"], data.len(), "{entry}");
        for (field, want) in expect.as_object().unwrap() {
            assert_eq!(&entry[field], want, "{kind} {field}: {entry}");
        }
    }

    // Metadata that disagrees with the media is flagged, as a phone would
    // show a broken file, rather than summarized as if it were fine.
    let up = client
        .client
        .upload(noise(5_000, 99), MediaType::Image, Default::default())
        .await
        .expect("upload");
    let (mut lying, _) = outgoing("image", up);
    lying.image_message.as_option_mut().unwrap().file_sha256 = Some(vec![0; 32]);
    let sent = client.client.send_message(to, lying).await;
    let entry = inbox_entry(&sim, CONTACT, &sent.expect("send").message_id.to_string()).await;
    let error = entry["error"].as_str().unwrap_or_default();
    assert!(error.contains("file_sha256"), "{entry}");
}

/// The media in `msg` as the client downloads it, and what the message says
/// about it.
async fn open(client: &TestClient, msg: &wa::Message) -> (Vec<u8>, Value) {
    let (media, about): (&dyn Downloadable, Value) = if let Some(x) = msg.image_message.as_option()
    {
        let about = json!({"type": "image", "mimetype": x.mimetype, "caption": x.caption});
        (x, about)
    } else if let Some(x) = msg.document_message.as_option() {
        let about = json!({"type": "document", "mimetype": x.mimetype, "caption": x.caption,
                           "filename": x.file_name});
        (x, about)
    } else if let Some(x) = msg.video_message.as_option() {
        let about = json!({"type": "video", "mimetype": x.mimetype, "caption": x.caption});
        (x, about)
    } else if let Some(x) = msg.audio_message.as_option() {
        let about = json!({"type": "audio", "mimetype": x.mimetype, "ptt": x.ptt});
        (x, about)
    } else {
        panic!("not a media message: {msg:?}");
    };
    let bytes = client.client.download(media).await.expect("download");
    assert_eq!(media.file_length(), Some(bytes.len() as u64), "{about}");
    (bytes, about)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_media_downloads_byte_exact_in_the_client() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let cases = [
        json!({"type": "image", "mimetype": "image/png", "caption": "look"}),
        json!({"type": "document", "mimetype": "text/csv", "caption": "figures",
               "filename": "numbers.csv"}),
        json!({"type": "video", "mimetype": "video/mp4", "caption": "moving"}),
        json!({"type": "audio", "mimetype": "audio/ogg; codecs=opus", "ptt": true}),
    ];
    for (seed, about) in cases.into_iter().enumerate() {
        let data = noise(250_000 + seed * 1001, 41 + seed as u64);
        let mut body = about.clone();
        body["to"] = json!(ME);
        body["content"] = json!(BASE64_STANDARD.encode(&data));
        let path = format!("/admin/contacts/{CONTACT}/send");
        let (status, answer) = admin(&sim, Method::POST, &path, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
        let id = answer["id"].as_str().expect("message id").to_string();
        let msg = client
            .wait_for("the contact's media message", |e| match e {
                Event::Messages(batch) => batch
                    .messages
                    .iter()
                    .find(|m| m.info.id.as_str() == id)
                    .map(|m| m.message.clone()),
                _ => None,
            })
            .await;
        let (bytes, seen) = open(&client, &msg).await;
        assert!(bytes == data, "{about}: {} bytes differ", bytes.len());
        assert_eq!(seen, about);
    }
}

/// A raw request, for bodies `admin` cannot send (not JSON).
async fn post_raw(sim: &wasim::Sim, path: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", sim.admin_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("admin request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `status` is `want`, the body names the error, and its message mentions
/// `about`.
fn assert_error(status: u16, body: &Value, want: u16, about: &str) {
    assert_eq!(status, want, "{body}");
    assert!(body["error"].is_string(), "no error name: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(about), "message lacks '{about}': {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_media_input_errors_are_json() {
    init_logs();
    // A small limit makes "too large" cheap to reach.
    let cap = 256 * 1024;
    let config = wasim::SimConfig {
        max_admin_media: cap,
        ..Default::default()
    };
    let sim = wasim::Sim::start_with(config).await.unwrap();
    let send = format!("/admin/contacts/{CONTACT}/send");
    let media = |kind: &str, content: String| {
        Some(json!({"to": ME, "type": kind, "content": content, "mimetype": "image/png"}))
    };
    let small = BASE64_STANDARD.encode(noise(1000, 1));

    let (status, body) = admin(&sim, Method::POST, &send, media("sticker-pack", small)).await;
    assert_error(status, &body, 400, "type");
    let (status, body) = admin(
        &sim,
        Method::POST,
        &send,
        media("image", "no base64!".into()),
    )
    .await;
    assert_error(status, &body, 400, "base64");
    let (status, body) = post_raw(&sim, &send, b"{\"to\": ".to_vec()).await;
    assert_error(status, &body, 400, "JSON");
    let unknown = "/admin/contacts/15559999999/inbox";
    let (status, body) = admin(&sim, Method::GET, unknown, None).await;
    assert_error(status, &body, 404, "15559999999");

    // Media of exactly the limit goes through; one byte more is refused from
    // its encoded length, before any decoding.
    let at_limit = BASE64_STANDARD.encode(noise(cap, 2));
    let (status, body) = admin(&sim, Method::POST, &send, media("image", at_limit)).await;
    assert_eq!(status, 200, "{body}");
    let over = BASE64_STANDARD.encode(noise(cap + 1, 3));
    let (status, body) = admin(&sim, Method::POST, &send, media("document", over)).await;
    assert_error(status, &body, 413, "limit");

    // A body far over the limit is cut off while it is read.
    let huge = BASE64_STANDARD.encode(noise(4 * cap, 4));
    let huge = serde_json::to_vec(&media("image", huge)).unwrap();
    let (status, body) = post_raw(&sim, &send, huge).await;
    assert_error(status, &body, 413, "limit");
}
