//! Bad input to the admin API gets a clear 4xx JSON error.

mod common;

use common::admin;
use reqwest::Method;
use serde_json::{Value, json};

fn assert_error(status: u16, body: &Value, want: u16, mentions: &str) {
    assert_eq!(status, want, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(mentions),
        "'{message}' should mention '{mentions}'"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_that_cannot_link_anything_are_refused() {
    let sim = wasim::Sim::start().await.unwrap();
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": "not a qr", "phone": "15550001111"})),
    )
    .await;
    assert_error(s, &b, 400, "qr");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": "2@abc,AAAA,BBBB,CCCC", "phone": "15550001111"})),
    )
    .await;
    assert_error(s, &b, 400, "qr");
    // Well formed, but no connected client shows it.
    let key = "A".repeat(43) + "=";
    let qr = format!("2@nobody,{key},{key},{key},1");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": qr, "phone": "15550001111"})),
    )
    .await;
    assert_error(s, &b, 404, "QR");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": qr, "phone": "12ab"})),
    )
    .await;
    assert_error(s, &b, 400, "phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_bad_requests() {
    let sim = wasim::Sim::start().await.unwrap();
    let raw = reqwest::Client::new()
        .post(format!("{}/admin/scan", sim.admin_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = raw.status().as_u16();
    let body: Value = raw.json().await.unwrap();
    assert_error(status, &body, 400, "JSON");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"phone": "15550001111"})),
    )
    .await;
    assert_error(s, &b, 400, "qr");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/devices/15550001111/stream-error",
        Some(json!({"code": "x"})),
    )
    .await;
    assert_error(s, &b, 400, "code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_are_not_found() {
    let sim = wasim::Sim::start().await.unwrap();
    let (s, b) = admin(&sim, Method::GET, "/admin/contacts/15559990000/inbox", None).await;
    assert_error(s, &b, 404, "15559990000");
    let (s, b) = admin(
        &sim,
        Method::POST,
        "/admin/devices/15559990000/logout",
        None,
    )
    .await;
    assert_error(s, &b, 404, "15559990000");
    let (s, b) = admin(&sim, Method::GET, "/admin/nothing-here", None).await;
    assert_error(s, &b, 404, "route");
}
