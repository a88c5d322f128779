//! Messages and API calls per hour: counted per message and per request,
//! refused whole over the limit, still counted after a restart.

use super::{assert_refused, edit_tier, tenant_in, usage};
use crate::it::{TestApp, assert_error};
use reqwest::{Method, Response};
use serde_json::{Value, json};

async fn send(app: &TestApp, key: &str, session: &str, text: &str) -> Response {
    app.post(
        &format!("/api/v1/sessions/{session}/messages"),
        key,
        json!({ "to": "5511988887777", "message": text }),
    )
    .await
}

async fn bulk(app: &TestApp, key: &str, session: &str, n: usize) -> Response {
    let recipients: Vec<String> = (0..n).map(|i| format!("55119888800{i:02}")).collect();
    app.post(
        &format!("/api/v1/sessions/{session}/messages/bulk"),
        key,
        json!({ "recipients": recipients, "message": { "message": "to all" } }),
    )
    .await
}

#[tokio::test]
async fn messages_per_hour_count_every_message_and_refuse_a_bulk_whole() {
    let app = TestApp::spawn().await;
    let tier = edit_tier(&app, "basic", json!({ "messagesPerHour": 5 })).await;
    assert_eq!(
        tier,
        json!({ "name": "basic", "sessions": 1, "messagesPerHour": 5, "apiCallsPerHour": 1000 })
    );
    let (acme, key) = tenant_in(&app, "acme", "basic").await;
    // Linked, as the compatibility profile below sends only when connected.
    app.linked_session(&key, "shop", "5511911110000").await;

    assert_eq!(send(&app, &key, "shop", "one").await.status(), 202);
    // A repeat with the same Idempotency-Key queues nothing new.
    for _ in 0..2 {
        let response = app
            .request(Method::POST, "/api/v1/sessions/shop/messages", &key)
            .header("Idempotency-Key", "order-17")
            .json(&json!({ "to": "5511988887777", "message": "two" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    assert_eq!(send(&app, &key, "shop", "three").await.status(), 202);

    let body = assert_refused(
        bulk(&app, &key, "shop", 3).await,
        "messagesPerHour",
        5,
        3660,
    )
    .await;
    assert_eq!(
        body["message"],
        "Tier basic allows 5 messages per hour; tenant acme has sent 3 in the last hour \
         and this request has 3"
    );
    let queued = app.read("/api/v1/sessions/shop/messages", &key).await;
    assert_eq!(queued["items"].as_array().unwrap().len(), 3, "{queued}");

    assert_eq!(bulk(&app, &key, "shop", 2).await.status(), 202);
    let body = assert_refused(
        send(&app, &key, "shop", "six").await,
        "messagesPerHour",
        5,
        3660,
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("tenant acme has sent 5 in the last hour"),
        "{body}"
    );
    let used = usage(&app, acme).await;
    assert_eq!(used["messagesPerHour"]["used"], 5, "{used}");
    assert_eq!(used["messagesPerHour"]["max"], 5, "{used}");
    assert!(used["messagesPerHour"]["freesAt"].is_string(), "{used}");

    // The admin raises the limit: the next message goes at once.
    edit_tier(&app, "basic", json!({ "messagesPerHour": 6 })).await;
    assert_eq!(send(&app, &key, "shop", "six").await.status(), 202);
    assert_refused(
        send(&app, &key, "shop", "seven").await,
        "messagesPerHour",
        6,
        3660,
    )
    .await;
    // A compatibility profile sends through the same path: refused too,
    // in its own body shape, with the same status and header.
    let response = app
        .post(
            "/messages/send",
            &key,
            json!({ "sessionId": "shop", "to": "5511988887777", "message": "seven" }),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let queued = app.read("/api/v1/sessions/shop/messages", &key).await;
    assert_eq!(queued["items"].as_array().unwrap().len(), 6, "{queued}");
    app.stop().await;
}

#[tokio::test]
async fn the_hours_messages_still_count_after_a_restart() {
    let app = TestApp::spawn().await;
    edit_tier(&app, "pro", json!({ "messagesPerHour": 2 })).await;
    let (acme, key) = tenant_in(&app, "acme", "pro").await;
    app.create_session(&key, "shop").await;
    assert_eq!(bulk(&app, &key, "shop", 2).await.status(), 202);

    let app = app.restart().await;
    assert_eq!(usage(&app, acme).await["messagesPerHour"]["used"], 2);
    assert_refused(
        send(&app, &key, "shop", "more").await,
        "messagesPerHour",
        2,
        3660,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn api_calls_per_hour_refuse_a_tenants_keys_but_not_the_admin() {
    let app = TestApp::spawn().await;
    edit_tier(&app, "max", json!({ "apiCallsPerHour": 3 })).await;
    let (acme, key) = tenant_in(&app, "acme", "max").await;

    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/sessions", &key).await.status(), 200);
    }
    let body = assert_refused(
        app.get("/api/v1/sessions", &key).await,
        "apiCallsPerHour",
        3,
        3660,
    )
    .await;
    assert_eq!(
        body["message"],
        "Tier max allows 3 API calls per hour; tenant acme has made 3 in the last hour"
    );
    // A request without a valid key is not counted against anyone.
    let forged = app.get("/api/v1/sessions", "wgk_not-a-key").await;
    assert_error(forged, 403, "Forbidden").await;

    let used = usage(&app, acme).await;
    assert_eq!(used["apiCallsPerHour"]["used"], 3, "{used}");
    assert_eq!(used["apiCallsPerHour"]["max"], 3, "{used}");
    assert_eq!(used["tier"], "max", "{used}");

    // The admin key's own tenant is unlimited, and admin calls are never
    // refused; its edit lets the tenant in at once.
    edit_tier(&app, "max", json!({ "apiCallsPerHour": null })).await;
    assert_eq!(app.get("/api/v1/sessions", &key).await.status(), 200);
    let used = app
        .read(&format!("/api/v1/tenants/{acme}/usage"), &key)
        .await;
    assert_eq!(
        used["apiCallsPerHour"]["used"], 5,
        "this request counts too: {used}"
    );
    assert_eq!(used["apiCallsPerHour"]["max"], Value::Null, "{used}");
    app.stop().await;
}
