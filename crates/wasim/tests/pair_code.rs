//! Linking the real client by code: it shows an 8-character code, the
//! simulated phone types it in through the admin API.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::store::traits::Backend;

const PHONE: &str = "15550001111";

async fn client_asking_for_code(sim: &wasim::Sim) -> (TestClient, String) {
    let backend: Arc<dyn Backend> = Arc::new(whatsapp_rust::wacore::store::InMemoryBackend::new());
    let options = PairCodeOptions {
        phone_number: PHONE.into(),
        ..Default::default()
    };
    let client = TestClient::start_with(sim, backend, Some(options)).await;
    let code = client.pair_code().await;
    (client, code)
}

async fn enter(sim: &wasim::Sim, phone: &str, code: &str) -> (u16, serde_json::Value) {
    admin(
        sim,
        Method::POST,
        "/admin/pair-code",
        Some(json!({"phone": phone, "code": code})),
    )
    .await
}

/// A code the client does not show: same alphabet, one character off.
fn other_code(code: &str) -> String {
    let first = if code.starts_with('Z') { 'Y' } else { 'Z' };
    format!("{first}{}", &code[1..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_code_links_the_client_with_working_sessions() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let (client, code) = client_asking_for_code(&sim).await;
    assert_eq!(code.len(), 8);

    // A wrong code first: the phone cannot open the client's bundle, and
    // the client still takes the right one afterwards.
    let (status, body) = enter(&sim, PHONE, &other_code(&code)).await;
    assert_eq!(status, 404, "wrong code: {body}");
    assert_eq!(body["error"], "Not Found");

    let (status, body) = enter(&sim, PHONE, &code.to_lowercase()).await;
    assert_eq!(status, 200, "right code: {body}");
    client.connected().await;
    let pn = client.client.pn().expect("own number after pairing");
    assert_eq!(pn.user, PHONE);

    // Sessions built on the linked identity carry a text to a contact.
    let id = client.send_text("15550002222", "linked by code").await;
    let entry = inbox_entry(&sim, "15550002222", &id).await;
    assert_eq!(entry["text"], "linked by code");
    assert_eq!(entry["from"], PHONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_nobody_shows_are_not_found() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    // Nobody is waiting at all.
    let (status, body) = enter(&sim, PHONE, "ABCD1234").await;
    assert_eq!(status, 404, "{body}");

    // A client waits for PHONE; another number's phone cannot take it.
    let (mut client, code) = client_asking_for_code(&sim).await;
    let (status, body) = enter(&sim, "15550009999", &code).await;
    assert_eq!(status, 404, "other phone: {body}");
    let (_, stats) = admin(&sim, Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["pairedAccounts"], 0);
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_codes_and_bodies_are_bad_requests() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    for bad in [
        json!({"phone": PHONE, "code": "ABC123"}),
        json!({"phone": PHONE, "code": "ABCD12345"}),
        // 0, O, I and U are not in the alphabet.
        json!({"phone": PHONE, "code": "ABCD0123"}),
        json!({"phone": "not-a-phone", "code": "ABCD1234"}),
        json!({"phone": PHONE}),
    ] {
        let (status, body) = admin(&sim, Method::POST, "/admin/pair-code", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad} -> {body}");
        assert_eq!(body["error"], "Bad Request", "{bad}");
    }
}
