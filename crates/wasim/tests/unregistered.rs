//! Numbers that are not on WhatsApp, as the real client meets them.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use whatsapp_rust::types::events::Event;

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";
const NOBODY: &str = "15550000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_not_on_whatsapp_is_reported_and_refused() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let (status, body) = admin(
        &sim,
        Method::POST,
        "/admin/unregistered",
        Some(json!({"phones": [NOBODY, "+15550000001"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"unregistered": [NOBODY, "15550000001"]}));

    let found = client
        .client
        .contacts()
        .is_on_whatsapp(&[user_jid(NOBODY), user_jid(CONTACT)])
        .await
        .expect("usync");
    let registered = |phone: &str| {
        let r = found.iter().find(|r| r.jid.user == phone).expect(phone);
        (r.is_registered, r.lid.is_some())
    };
    assert_eq!(registered(NOBODY), (false, false));
    assert_eq!(registered(CONTACT), (true, true));

    // The client sends anyway: the send resolves, and the server's nack
    // (404) is how the sender learns nobody got it.
    let sent = client
        .client
        .send_message(
            user_jid(NOBODY),
            whatsapp_rust::waproto::whatsapp::Message {
                conversation: Some("anyone there?".into()),
                ..Default::default()
            },
        )
        .await;
    let id = sent.expect("the send itself succeeds").message_id;
    let ack = client.server_ack(&id).await;
    assert_eq!(ack.error.as_deref(), Some("404"), "{ack:?}");
    let (status, _) = admin(
        &sim,
        Method::GET,
        &format!("/admin/contacts/{NOBODY}/inbox"),
        None,
    )
    .await;
    assert_eq!(status, 404, "no account exists for it");

    // A contact with no WhatsApp cannot send either.
    let (status, _) = admin(
        &sim,
        Method::POST,
        &format!("/admin/contacts/{NOBODY}/send"),
        Some(json!({"to": ME, "text": "hi"})),
    )
    .await;
    assert_eq!(status, 400);
    // Nor can a number with linked devices be taken off WhatsApp.
    let (status, _) = admin(
        &sim,
        Method::POST,
        "/admin/unregistered",
        Some(json!({"phones": [ME]})),
    )
    .await;
    assert_eq!(status, 400);

    // Joining again: the number gets an account and messages arrive.
    let (status, body) = admin(
        &sim,
        Method::DELETE,
        "/admin/unregistered",
        Some(json!({"phones": [NOBODY]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"unregistered": ["15550000001"]}));
    let found = client
        .client
        .contacts()
        .is_on_whatsapp(&[user_jid(NOBODY)])
        .await
        .expect("usync");
    assert!(found[0].is_registered);
    let (_, body) = admin(&sim, Method::DELETE, "/admin/unregistered", None).await;
    assert_eq!(body, json!({"unregistered": []}));
    assert_eq!(client.count(|e| matches!(e, Event::Disconnected(_))), 0);
}
