//! Messages about earlier messages: a reply quotes its original, and a
//! reaction, an edit or a delete-for-everyone names the message it is
//! about, as the contact's phone sees them.

use super::TestApp;
use super::sending::{SHOP_JID, SHOP_PHONE, linked_shop, queue, sent};
use reqwest::Method;
use serde_json::json;

const CUSTOMER: &str = "15550200003";
const CUSTOMER_JID: &str = "15550200003@s.whatsapp.net";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_quote_the_original_with_its_text() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let original = queue(&app, json!({"to": CUSTOMER, "text": "Is 3pm fine?"})).await;
    let reply = queue(
        &app,
        json!({"to": CUSTOMER, "text": "Or 4pm, if that suits you better", "replyTo": original}),
    )
    .await;

    let got = app.received(CUSTOMER, &reply).await;
    assert_eq!(got["type"], "text", "{got}");
    assert_eq!(got["text"], "Or 4pm, if that suits you better");
    assert_eq!(
        got["quoted"],
        json!({"id": original, "participant": SHOP_JID, "text": "Is 3pm fine?"}),
        "{got}"
    );

    // A reply to what the customer wrote names the customer as its author;
    // the gateway does not keep their text, so the quote has none.
    let (status, theirs) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{CUSTOMER}/send"),
            Some(json!({"to": SHOP_PHONE, "type": "text", "text": "Where is my parcel?"})),
        )
        .await;
    assert_eq!(status, 200, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap();
    let answer = queue(
        &app,
        json!({"to": CUSTOMER, "text": "On its way", "replyTo": theirs}),
    )
    .await;
    let got = app.received(CUSTOMER, &answer).await;
    assert_eq!(got["quoted"]["id"], theirs, "{got}");
    assert_eq!(got["quoted"]["participant"], CUSTOMER_JID, "{got}");

    for id in [&original, &reply, &answer] {
        sent(&app, id).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_and_deletes_name_their_target() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let liked = queue(
        &app,
        json!({"to": CUSTOMER, "text": "Your table is booked"}),
    )
    .await;
    let typo = queue(&app, json!({"to": CUSTOMER, "text": "See you at 8mp"})).await;
    let mistake = queue(&app, json!({"to": CUSTOMER, "text": "Wrong chat, sorry"})).await;
    for id in [&liked, &typo, &mistake] {
        app.received(CUSTOMER, id).await;
    }

    let reaction = queue(
        &app,
        json!({"to": CUSTOMER, "type": "reaction", "messageId": liked, "emoji": "👍"}),
    )
    .await;
    let edit = queue(
        &app,
        json!({"to": CUSTOMER, "type": "edit", "messageId": typo, "text": "See you at 8pm"}),
    )
    .await;
    let delete = queue(
        &app,
        json!({"to": CUSTOMER, "type": "delete", "messageId": mistake}),
    )
    .await;

    let got = app.received(CUSTOMER, &reaction).await;
    assert_eq!(got["type"], "reaction", "{got}");
    assert_eq!(got["targetId"], liked);
    // The key is written from the sender's side: the shop's own message.
    assert_eq!(got["targetFromMe"], true, "{got}");
    assert_eq!(got["emoji"], "👍");

    let got = app.received(CUSTOMER, &edit).await;
    assert_eq!(got["type"], "edit", "{got}");
    assert_eq!(got["targetId"], typo);
    assert_eq!(got["text"], "See you at 8pm");

    let got = app.received(CUSTOMER, &delete).await;
    assert_eq!(got["type"], "revoke", "{got}");
    assert_eq!(got["targetId"], mistake);

    // Reacting to what the customer wrote keys their message.
    let (status, theirs) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{CUSTOMER}/send"),
            Some(json!({"to": SHOP_PHONE, "type": "text", "text": "Thank you!"})),
        )
        .await;
    assert_eq!(status, 200, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap();
    let heart = queue(
        &app,
        json!({"to": CUSTOMER, "type": "reaction", "messageId": theirs, "emoji": "❤️"}),
    )
    .await;
    let got = app.received(CUSTOMER, &heart).await;
    assert_eq!(
        (&got["targetId"], &got["targetFromMe"], &got["emoji"]),
        (&json!(theirs), &json!(false), &json!("❤️")),
        "{got}"
    );

    let kinds = [
        (&reaction, "reaction"),
        (&edit, "edit"),
        (&delete, "delete"),
        (&heart, "reaction"),
    ];
    for (id, kind) in kinds {
        assert_eq!(sent(&app, id).await["type"], kind);
    }
    app.stop().await;
}
