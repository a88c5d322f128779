//! Received media whose download fails is tried again: a busy media host
//! refusing the first downloads still ends with the file stored, and a
//! download cut off by a restart runs again in the next process.

use super::TestApp;
use super::receiver::Receiver;
use super::sending::{SHOP_PHONE, base64, shop_with_receiver};
use reqwest::Method;
use serde_json::{Value, json};

const CUSTOMER: &str = "15550200002";
const REFUSE: &str = "/admin/media/refuse";

async fn refuse_downloads(app: &TestApp, n: u32) {
    let (status, answer) = app
        .sim_call(Method::POST, REFUSE, Some(json!({"nextDownloads": n})))
        .await;
    assert_eq!(status, 200, "{answer}");
}

/// The contact sends a document; returns its id and bytes.
async fn send_document(app: &TestApp) -> (String, Vec<u8>) {
    let pdf = b"%PDF-1.4 the invoice, retried".to_vec();
    let body = json!({"to": SHOP_PHONE, "type": "document", "content": base64(&pdf),
                      "mimetype": "application/pdf", "filename": "invoice.pdf"});
    let path = format!("/admin/contacts/{CUSTOMER}/send");
    let (status, answer) = app.sim_call(Method::POST, &path, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    (answer["id"].as_str().unwrap().to_string(), pdf)
}

/// The media of message `id` as its (held, then released) event says.
async fn media_of(receiver: &Receiver, id: &str) -> Value {
    receiver.data_of(id).await["media"].clone()
}

async fn assert_served(app: &TestApp, media: &Value, bytes: &[u8]) {
    // After a restart the app listens elsewhere: the path is what stays.
    let url = media["url"].as_str().unwrap();
    let path = &url[url.find("/api/v1/media/").unwrap()..];
    let file = app.get(path, &app.admin_key).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_refused_twice_is_stored_on_a_later_attempt() {
    let (app, receiver) = shop_with_receiver().await;
    refuse_downloads(&app, 2).await;
    let (id, pdf) = send_document(&app).await;
    let media = media_of(&receiver, &id).await;
    assert_eq!(media["status"], "stored", "{media}");
    assert!(media.get("error").is_none(), "{media}");
    let (_, refusals) = app.sim_call(Method::GET, REFUSE, None).await;
    assert_eq!(refusals["refused"], 2, "{refusals}");
    assert_served(&app, &media, &pdf).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_keeps_failing_ends_failed_with_the_reason() {
    let (app, receiver) = shop_with_receiver().await;
    refuse_downloads(&app, 1000).await;
    let (id, _) = send_document(&app).await;
    let media = media_of(&receiver, &id).await;
    assert_eq!(media["status"], "failed", "{media}");
    let error = media["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("download failed"), "{media}");
    let (_, refusals) = app.sim_call(Method::GET, REFUSE, None).await;
    assert!(refusals["refused"].as_u64().unwrap() >= 2, "{refusals}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_off_by_a_restart_runs_again() {
    let (app, receiver) = shop_with_receiver().await;
    refuse_downloads(&app, 1000).await;
    let (id, pdf) = send_document(&app).await;
    // The first attempt has been refused: the download is under way.
    app.sim_until(REFUSE, "a refused download", |r| {
        r["refused"].as_u64() >= Some(1)
    })
    .await;
    let app = app.restart().await;
    refuse_downloads(&app, 0).await;
    let media = media_of(&receiver, &id).await;
    assert_eq!(media["status"], "stored", "{media}");
    assert_served(&app, &media, &pdf).await;
    app.stop().await;
}
