//! A send the gateway cannot carry out is refused up front, in the API's
//! error shape, naming the field at fault, and leaves nothing in the
//! queue.

use super::sending::{
    JPEG, MESSAGES, PDF, SHOP, base64, file_of, listed, post_form, queue, serve_file, text_to,
};
use super::{TestApp, assert_error};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

const CUSTOMER: &str = "15550200005";
/// WhatsApp's limit for an image, the gateway's default.
const IMAGE_LIMIT: usize = 5 * 1024 * 1024;

/// Sends `body` and checks the answer is `status`/`kind` naming `field`
/// (`None` for errors that are not about one field); returns the error.
async fn refused(
    app: &TestApp,
    body: Value,
    status: u16,
    kind: &str,
    field: Option<&str>,
) -> Value {
    let response = app
        .request(Method::POST, MESSAGES, &app.admin_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let error = assert_error(response, status, kind).await;
    assert_eq!(error["field"].as_str(), field, "{body}: {error}");
    if let Some(field) = field {
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with(field),
            "the message names {field}: {error}"
        );
    }
    error
}

async fn assert_nothing_queued(app: &TestApp) {
    let items = listed(app, "").await;
    assert!(items.is_empty(), "nothing was queued: {items:?}");
}

/// Requests that break one rule each: the field the error must name, and
/// a word its message must contain.
fn invalid_sends(to: &str) -> Vec<(Value, &'static str, &'static str)> {
    let mut cases = vec![
        (
            json!({"to": to, "type": "carousel", "text": "hi"}),
            "type",
            "carousel",
        ),
        (text_to(to, &"x".repeat(4097)), "text", "4096"),
        (
            json!({"to": to, "type": "image",
                   "media": {"base64": "not*base64!", "mimetype": "image/jpeg"}}),
            "media.base64",
            "base64",
        ),
        (
            json!({"to": to, "type": "poll", "poll": {"name": "Lunch?", "options": ["Pizza"]}}),
            "poll.options",
            "2-12",
        ),
        (
            json!({"to": to, "type": "reaction", "emoji": "👍"}),
            "messageId",
            "required",
        ),
        // Only what this session sent can be edited.
        (
            json!({"to": to, "type": "edit", "messageId": "3EB0AAAABBBBCCCCDDDDEE", "text": "fixed"}),
            "messageId",
            "3EB0AAAABBBBCCCCDDDDEE",
        ),
        (
            json!({"to": to, "type": "location", "location": {"latitude": 91.0, "longitude": 13.4}}),
            "location.latitude",
            "90",
        ),
        (
            json!({"to": to, "type": "location", "location": {"latitude": 52.5, "longitude": -180.5}}),
            "location.longitude",
            "180",
        ),
        // A misspelt field would otherwise be dropped without a word.
        (
            json!({"to": to, "text": "hi", "colour": "red"}),
            "colour",
            "unknown field",
        ),
        // Inside an object it is named with its path.
        (
            json!({"to": to, "type": "image", "media": {"base64": base64(JPEG), "fileName": "a.jpg"}}),
            "media.fileName",
            "fileName",
        ),
    ];
    for kind in ["image", "video", "audio", "voice", "document", "sticker"] {
        cases.push((json!({"to": to, "type": kind}), "media", "required"));
    }
    for bad in ["abc", "12345", "+49 (0) abc 123", ""] {
        cases.push((text_to(bad, "hi"), "to", "phone number"));
    }
    cases.push((text_to("123@example.com", "hi"), "to", "JID"));
    cases
}

#[tokio::test]
async fn invalid_sends_name_the_field_and_queue_nothing() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, SHOP).await;
    for (body, field, mention) in invalid_sends(CUSTOMER) {
        let e = refused(&app, body, 400, "Validation Error", Some(field)).await;
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(mention), "mentions {mention}: {e}");
    }
    // An upload whose type does not fit the kind it was sent as.
    let part = Part::bytes(file_of(PDF, 2_000, 1))
        .file_name("menu.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let form = Form::new().text("to", CUSTOMER).part("image", part);
    let e = assert_error(post_form(&app, form).await, 400, "Validation Error").await;
    assert_eq!(e["field"], "media.mimetype", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("application/pdf"),
        "{e}"
    );

    assert_nothing_queued(&app).await;
    // The same session takes a valid message: the refusals were the input's.
    let id = queue(&app, text_to(CUSTOMER, "hi")).await;
    let items = listed(&app, "").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], id);
}

#[tokio::test]
async fn files_over_their_kind_limit_are_413() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, SHOP).await;
    let too_big = file_of(JPEG, IMAGE_LIMIT + 1, 2);

    let body = json!({"to": CUSTOMER, "type": "image",
                      "media": {"base64": base64(&too_big), "mimetype": "image/jpeg"}});
    let e = refused(&app, body, 413, "Payload Too Large", None).await;
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("image") && message.contains(&IMAGE_LIMIT.to_string()),
        "{e}"
    );

    let part = Part::bytes(too_big)
        .file_name("poster.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = Form::new().text("to", CUSTOMER).part("image", part);
    let e = assert_error(post_form(&app, form).await, 413, "Payload Too Large").await;
    assert!(e["message"].as_str().unwrap().contains("image"), "{e}");

    // One byte less is within the limit.
    let fits = file_of(JPEG, IMAGE_LIMIT, 3);
    assert_nothing_queued(&app).await;
    queue(
        &app,
        json!({"to": CUSTOMER, "type": "image", "media": {"base64": base64(&fits)}}),
    )
    .await;
}

#[tokio::test]
async fn media_urls_at_private_addresses_are_refused_unfetched() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, SHOP).await;
    let (local, hits) = serve_file("/photo.jpg", "image/jpeg", file_of(JPEG, 1_000, 4)).await;

    // This machine, and the cloud metadata service an attacker would want.
    let metadata = "http://169.254.169.254/latest/meta-data/";
    for (url, host) in [(local.as_str(), "127.0.0.1"), (metadata, "169.254.169.254")] {
        let body = json!({"to": CUSTOMER, "type": "image", "media": {"url": url}});
        let e = refused(&app, body, 422, "Unprocessable Entity", Some("media.url")).await;
        assert!(e["message"].as_str().unwrap().contains(host), "{e}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the gateway never connected"
    );
    assert_nothing_queued(&app).await;
}
