//! Poll votes end to end: a contact on wasim votes with real encryption,
//! and the gateway's `message.received` event names the options chosen,
//! or says why it cannot.

use super::TestApp;
use super::receiver::Receiver;
use super::sending::{SHOP_PHONE, queue, sha256_hex, shop_with_receiver};
use reqwest::Method;
use serde_json::{Value, json};

const CUSTOMER: &str = "15550200002";

/// Contact `from` sends `body` to `to` through wasim; returns its id.
async fn contact_sends(app: &TestApp, from: &str, to: &str, mut body: Value) -> String {
    body["to"] = to.into();
    let path = format!("/admin/contacts/{from}/send");
    let (status, answer) = app.sim_call(Method::POST, &path, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}

/// The event data of received message `id`, once the receiver has it.
async fn event_of(receiver: &Receiver, id: &str) -> Value {
    receiver.data_of(id).await
}

fn vote(poll: &str, options: &[&str]) -> Value {
    json!({"type": "pollVote", "targetId": poll, "options": options})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contacts_vote_on_the_sessions_poll_names_the_option() {
    let (app, receiver) = shop_with_receiver().await;
    let poll = queue(
        &app,
        json!({"to": CUSTOMER, "type": "poll",
               "poll": {"name": "Delivery day?", "options": ["Monday", "Tuesday", "Friday"]}}),
    )
    .await;
    app.received(CUSTOMER, &poll).await;

    let id = contact_sends(&app, CUSTOMER, SHOP_PHONE, vote(&poll, &["Tuesday"])).await;
    let data = event_of(&receiver, &id).await;
    assert_eq!(data["type"], "pollVote", "{data}");
    let got = &data["pollVote"];
    assert_eq!(got["pollId"], poll.as_str());
    assert_eq!(got["selectedOptions"], json!(["Tuesday"]), "{got}");
    assert_eq!(got["selectedOptionHashes"], json!([sha256_hex(b"Tuesday")]));
    assert!(got.get("reason").is_none(), "{got}");

    // Taking the vote back chooses nothing, which is not unknown.
    let id = contact_sends(&app, CUSTOMER, SHOP_PHONE, vote(&poll, &[])).await;
    let got = event_of(&receiver, &id).await["pollVote"].clone();
    assert_eq!(got["selectedOptions"], json!([]), "{got}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_on_a_poll_the_contact_sent_names_the_options() {
    let (app, receiver) = shop_with_receiver().await;
    let poll = contact_sends(
        &app,
        CUSTOMER,
        SHOP_PHONE,
        json!({"type": "poll", "name": "Which extras?",
               "options": ["Gift wrap", "Card", "Insurance"], "selectableCount": 2}),
    )
    .await;
    let created = event_of(&receiver, &poll).await;
    assert_eq!(created["type"], "poll", "{created}");

    let picked = ["Card", "Insurance"];
    let id = contact_sends(&app, CUSTOMER, SHOP_PHONE, vote(&poll, &picked)).await;
    let got = event_of(&receiver, &id).await["pollVote"].clone();
    assert_eq!(got["pollId"], poll.as_str());
    assert_eq!(got["selectedOptions"], json!(picked), "{got}");
    assert!(got.get("reason").is_none(), "{got}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_on_a_poll_the_session_never_saw_arrives_with_a_reason() {
    let (app, receiver) = shop_with_receiver().await;
    // The contact's poll went to someone else; the shop holds no secret.
    let elsewhere = "15550200077";
    let poll = contact_sends(
        &app,
        CUSTOMER,
        elsewhere,
        json!({"type": "poll", "name": "Lunch?", "options": ["Pizza", "Sushi"]}),
    )
    .await;
    let id = contact_sends(&app, CUSTOMER, SHOP_PHONE, vote(&poll, &["Sushi"])).await;
    let data = event_of(&receiver, &id).await;
    assert_eq!(data["type"], "pollVote", "{data}");
    let got = &data["pollVote"];
    assert_eq!(got["pollId"], poll.as_str());
    assert_eq!(got["selectedOptions"], Value::Null, "{got}");
    let reason = got["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("secret is missing"), "{got}");
    app.stop().await;
}
