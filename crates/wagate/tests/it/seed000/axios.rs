//! The document's "Using in Your App" example: axios posting a text and
//! then a `FormData` image to the `default` session with its key
//! `default-key-change-this`, exactly as that client sends them.

use super::{create, gateway, scan, success};
use crate::it::TestApp;
use crate::it::sending::{PNG, assert_same_file, file_of};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const KEY: &str = "default-key-change-this";
const PHONE: &str = "+919812345678";
const CONTACT: &str = "919812345678";
const LINKED: &str = "919800000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axios_example_sends_its_text_and_form_data_image() {
    let app = TestApp::spawn().await;
    // The document's deployment sets a master key for creating sessions:
    // here, the admin key.
    let created = create(
        &app,
        &app.admin_key,
        json!({"sessionId": "default", "name": "Default", "apiKey": KEY}),
    )
    .await;
    assert_eq!(created["sessionId"], "default");
    scan(&app, "default", KEY, LINKED).await;

    // axios.post(url, {to, message}, {headers: {'x-api-key': …}}): a JSON
    // body, the content type set by axios.
    let response = gateway(&app, Method::POST, "/default/send", Some(KEY))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/plain, */*")
        .body(json!({"to": PHONE, "message": "Your meeting is at 10:00"}).to_string())
        .send()
        .await
        .unwrap();
    let text = success(response).await;
    let got = app
        .received(CONTACT, text["messageId"].as_str().unwrap())
        .await;
    assert_eq!(got["text"], "Your meeting is at 10:00");

    // formData.append('image', qrImage) with a Buffer: the part has no
    // file name and the generic type the form-data package gives it.
    let qr_image = file_of(PNG, 9_000, 41);
    let form = Form::new()
        .text("to", PHONE)
        .text("caption", "Your meeting QR code")
        .part(
            "image",
            Part::bytes(qr_image.clone())
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let response = gateway(&app, Method::POST, "/default/send-image", Some(KEY))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let image = success(response).await;
    let got = app
        .received(CONTACT, image["messageId"].as_str().unwrap())
        .await;
    assert_eq!(got["type"], "image", "{got}");
    assert_same_file(&got, &qr_image);
    // Named by its first bytes, as the part said nothing specific.
    assert_eq!(got["mimetype"], "image/png");
    assert_eq!(got["caption"], "Your meeting QR code");
    app.stop().await;
}
