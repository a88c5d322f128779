//! A contact's text, image and document reach one receiver per payload
//! shape (native, seed 000's, seed 003's), each copy signed with its own
//! endpoint's secret and checked by the test's own verifier.

use super::TestApp;
use super::receiver::{Hit, Receiver, verify_signature};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

const SHOP: &str = "15550200031";
const CONTACT: &str = "15550200032";

/// The message id a payload is about, in whichever shape it came.
fn message_id(body: &Value) -> Option<&str> {
    body["data"]["id"]
        .as_str()
        .or(body["data"]["messageId"].as_str())
        .or(body["messageId"].as_str())
}

fn copy_of<'h>(hits: &'h [Hit], id: &str) -> Option<&'h Hit> {
    hits.iter().find(|h| message_id(&h.json()) == Some(id))
}

async fn contact_sends(app: &TestApp, body: Value) -> String {
    let mut body = body;
    body["to"] = SHOP.into();
    let (status, answer) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{CONTACT}/send"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn text_image_and_document_arrive_signed_in_every_shape() {
    let app = TestApp::spawn_with(&[("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32")]).await;
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", SHOP).await;
    let mut receivers = Vec::new();
    for shape in ["native", "seed000", "seed003"] {
        let receiver = Receiver::start(&[]).await;
        let (status, answer) = app
            .call(
                Method::POST,
                "/api/v1/sessions/shop/webhooks",
                Some(json!({"url": receiver.url, "shape": shape,
                            "events": ["message.received"]})),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        let secret = answer["secret"].as_str().unwrap().to_string();
        receivers.push((shape, receiver, secret));
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let photo = b"\xff\xd8\xff\xe0 a small photo".to_vec();
    let pdf = b"%PDF-1.4 the invoice".to_vec();
    let text = contact_sends(&app, json!({"text": "hello shop"})).await;
    let image = contact_sends(
        &app,
        json!({"type": "image", "content": b64(&photo), "mimetype": "image/jpeg",
               "caption": "this one"}),
    )
    .await;
    let document = contact_sends(
        &app,
        json!({"type": "document", "content": b64(&pdf), "mimetype": "application/pdf",
               "filename": "invoice.pdf"}),
    )
    .await;

    for (shape, receiver, secret) in &receivers {
        let ids = [&text, &image, &document];
        let hits = receiver
            .until(&format!("all three in the {shape} shape"), |h| {
                ids.iter().all(|id| copy_of(h, id).is_some())
            })
            .await;
        for id in ids {
            let hit = copy_of(&hits, id).unwrap();
            assert!(verify_signature(secret, hit), "{shape}: {id} not signed");
        }
        let body = |id: &str| copy_of(&hits, id).unwrap().json();
        let (t, i, d) = (body(&text), body(&image), body(&document));
        match *shape {
            "native" => {
                assert_eq!(t["data"]["text"], "hello shop", "{t}");
                assert_eq!(i["data"]["type"], "image", "{i}");
                assert_eq!(i["data"]["text"], "this one", "{i}");
                assert_eq!(i["data"]["media"]["status"], "stored", "{i}");
                assert_eq!(i["data"]["media"]["size"], photo.len(), "{i}");
                assert_eq!(d["data"]["media"]["fileName"], "invoice.pdf", "{d}");
            }
            "seed000" => {
                assert_eq!(t["event"], "message_received", "{t}");
                assert_eq!(t["type"], "conversation", "{t}");
                assert_eq!(t["text"], "hello shop", "{t}");
                assert_eq!(t["hasMedia"], false, "{t}");
                assert_eq!(i["type"], "imageMessage", "{i}");
                assert_eq!(i["hasMedia"], true, "{i}");
                assert!(i["mediaUrl"].is_string(), "{i}");
                assert_eq!(d["type"], "documentMessage", "{d}");
            }
            _ => {
                assert_eq!(t["event"], "message.received", "{t}");
                assert_eq!(t["data"]["from"], CONTACT, "{t}");
                assert_eq!(t["data"]["type"], "text", "{t}");
                assert_eq!(t["data"]["text"], "hello shop", "{t}");
                assert_eq!(i["data"]["type"], "image", "{i}");
                assert!(i["data"]["media"]["url"].is_string(), "{i}");
                assert_eq!(d["data"]["media"]["fileName"], "invoice.pdf", "{d}");
            }
        }
    }
    // The image the receivers were pointed at is the one the contact sent.
    let native = &receivers[0].1;
    let hits = native.hits();
    let url = copy_of(&hits, &image).unwrap().json()["data"]["media"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let file = app.http.get(&url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), photo.as_slice());
}
