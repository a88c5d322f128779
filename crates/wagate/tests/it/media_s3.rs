//! Media kept in an S3-compatible bucket (moto's server standing in for
//! S3): a received image lands in the bucket and is served from there; an
//! uploaded file reaches the contact's phone from there.

use super::TestApp;
use super::receiver::Receiver;
use super::sending::{JPEG, PNG, base64, file_of, linked_shop, queue, sha256_hex};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

#[path = "../../../wagate-store/tests/blob_store/moto.rs"]
mod moto;

const BUCKET: &str = "wagate-media";
const PREFIX: &str = "gateway/media";

/// The app keeping media in a fresh bucket on a fresh moto server, with
/// `more` settings; `None` when moto is not installed.
async fn app_on_s3(more: &[(&str, &str)]) -> Option<(TestApp, moto::MotoServer)> {
    let moto = moto::MotoServer::start()?;
    let settings = moto.bucket(BUCKET, PREFIX);
    let endpoint = moto.endpoint();
    let mut env = vec![
        ("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32"),
        ("WAGATE_MEDIA_STORE", "s3"),
        ("WAGATE_S3_BUCKET", BUCKET),
        ("WAGATE_S3_ENDPOINT", endpoint.as_str()),
        ("WAGATE_S3_PREFIX", PREFIX),
        ("WAGATE_S3_ACCESS_KEY_ID", "test-key-id"),
        ("WAGATE_S3_SECRET_ACCESS_KEY", "test-secret"),
    ];
    assert_eq!(settings.bucket, BUCKET);
    env.extend_from_slice(more);
    Some((TestApp::spawn_with(&env).await, moto))
}

/// A contact sends `image` to a linked `shop`; returns the stored
/// `message.received` event's data once its file is stored.
pub async fn received_image(app: &TestApp, image: &[u8]) -> serde_json::Value {
    let admin = app.admin_key.clone();
    app.linked_session(&admin, "shop", "15550200031").await;
    let receiver = Receiver::start(&[]).await;
    let (status, answer) = app
        .call(
            Method::POST,
            "/api/v1/sessions/shop/webhooks",
            Some(json!({"url": receiver.url, "shape": "native", "events": ["message.received"]})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app
        .sim_call(
            Method::POST,
            "/admin/contacts/15550200032/send",
            Some(
                json!({"to": "15550200031", "type": "image", "content": base64(image),
                        "mimetype": "image/jpeg"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let hits = receiver.until("the image", |h| !h.is_empty()).await;
    let data = hits[0].json()["data"].clone();
    assert_eq!(data["media"]["status"], "stored", "{data}");
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_received_image_is_kept_in_the_bucket_and_served_from_it() {
    let Some((app, moto)) = app_on_s3(&[]).await else {
        return;
    };
    let image = file_of(JPEG, 70_000, 7);
    let data = received_image(&app, &image).await;
    let sha = sha256_hex(&image);
    assert_eq!(data["media"]["sha256"], sha, "{data}");

    let object = moto.object(BUCKET, &format!("{PREFIX}/{sha}"));
    assert!(
        object.as_deref() == Some(&image[..]),
        "the bucket holds the image whole"
    );
    let local = std::fs::read_dir(app.data_dir.join("media"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "spool")
        .count();
    assert_eq!(local, 0, "nothing but the spool on the local disk");

    let url = data["media"]["url"].as_str().unwrap();
    let path = &url[url.find("/api/v1/media/").unwrap()..];
    let response = app.get(path, &app.admin_key).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap(), image, "byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_file_is_sent_from_the_bucket() {
    let Some((app, moto)) = app_on_s3(&[]).await else {
        return;
    };
    linked_shop(&app).await;
    let picture = file_of(PNG, 90_000, 8);
    let form = Form::new()
        .text("to", "15550200004")
        .text("type", "image")
        .part(
            "file",
            Part::bytes(picture.clone())
                .file_name("plan.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let id = super::sending::queue_form(&app, form).await;
    let sha = sha256_hex(&picture);
    assert!(
        moto.object(BUCKET, &format!("{PREFIX}/{sha}")).as_deref() == Some(&picture[..]),
        "in the bucket once the send is accepted"
    );
    let got = app.received("15550200004", &id).await;
    assert_eq!(got["type"], "image", "{got}");
    super::sending::assert_same_file(&got, &picture);

    // And a second send of the same file, given inline this time.
    let again = queue(
        &app,
        json!({"to": "15550200004", "type": "image", "media": {"base64": base64(&picture), "mimetype": "image/png"}}),
    )
    .await;
    super::sending::assert_same_file(&app.received("15550200004", &again).await, &picture);
}
