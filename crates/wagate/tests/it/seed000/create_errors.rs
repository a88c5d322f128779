//! Creating and listing sessions: every refusal answered with its
//! status in the profile's shape, never a 500 or the native body, and a
//! refused creation leaves no session, key or webhook behind.

use super::{GATEWAY, create, failure, gateway, post_json};
use crate::it::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

const KEY: &str = "abc-secret-key-123";

/// The document's create body, webhook and all.
fn documented() -> Value {
    json!({
        "sessionId": "client-abc",
        "name": "Client ABC Company",
        "apiKey": KEY,
        "webhook": "https://client-abc.com/whatsapp-webhook",
    })
}

/// Nothing of a refused creation is left in the tenant of `key`.
async fn nothing_left(app: &TestApp, key: &str) {
    let sessions = app.read("/api/v1/sessions", key).await;
    assert_eq!(sessions["sessions"], json!([]), "{sessions}");
    let endpoints = app.read("/api/v1/webhooks", key).await;
    assert_eq!(endpoints["items"], json!([]), "{endpoints}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_refuses_bad_keys_fields_and_webhooks_leaving_nothing() {
    let app = TestApp::spawn().await;
    let (_, first) = app.tenant_with_key("First").await;
    let (_, second) = app.tenant_with_key("Second").await;
    let post = |key: Option<&str>, body: String, content_type: &str| {
        gateway(&app, Method::POST, "/sessions", key)
            .header("Content-Type", content_type.to_string())
            .body(body)
            .send()
    };
    let json_type = "application/json";
    let body = documented().to_string();
    failure(
        post(None, body.clone(), json_type).await.unwrap(),
        401,
        "Unauthorized",
    )
    .await;
    failure(
        post(Some("abc-key"), body.clone(), json_type)
            .await
            .unwrap(),
        403,
        "Forbidden",
    )
    .await;
    let malformed = post(Some(&first), "{\"sessionId\": ".into(), json_type);
    failure(malformed.await.unwrap(), 400, "Bad Request").await;
    failure(
        post(Some(&first), body.clone(), "text/plain")
            .await
            .unwrap(),
        415,
        "Unsupported Media Type",
    )
    .await;

    let refused = |change: Value| {
        let mut body = documented();
        body.as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        post_json(&app, "/sessions", &first, body)
    };
    let short = failure(
        refused(json!({"apiKey": "short"})).await,
        400,
        "Validation Error",
    )
    .await;
    assert!(short["message"].as_str().unwrap().contains("16"), "{short}");
    failure(
        refused(json!({"apiKey": "has a space in it ok"})).await,
        400,
        "Validation Error",
    )
    .await;
    let reserved = failure(
        refused(json!({"sessionId": "sessions"})).await,
        400,
        "Validation Error",
    )
    .await;
    assert!(
        reserved["message"].as_str().unwrap().contains("reserved"),
        "{reserved}"
    );
    failure(
        refused(json!({"sessionId": "a b"})).await,
        400,
        "Validation Error",
    )
    .await;
    failure(refused(json!({"name": 5})).await, 400, "Validation Error").await;
    let bad = failure(
        refused(json!({"webhook": "not a url"})).await,
        400,
        "Validation Error",
    )
    .await;
    assert!(
        bad["message"].as_str().unwrap().starts_with("webhook"),
        "{bad}"
    );
    // A private address is refused before the session is created.
    let private = refused(json!({"webhook": "http://10.1.2.3/hook"})).await;
    let private = failure(private, 422, "Unprocessable Entity").await;
    assert!(
        private["message"].as_str().unwrap().starts_with("webhook"),
        "{private}"
    );
    nothing_left(&app, &first).await;

    // The documented session (its webhook left out: the test does not
    // call that address), then the same session again.
    let mut without_webhook = documented();
    without_webhook.as_object_mut().unwrap().remove("webhook");
    create(&app, &first, without_webhook.clone()).await;
    let again = post_json(&app, "/sessions", &first, without_webhook).await;
    failure(again, 409, "Conflict").await;
    // Another tenant may have a `client-abc`, but not with a taken key:
    // the documented body, webhook and all, leaves nothing there.
    let taken = post_json(&app, "/sessions", &second, documented()).await;
    failure(taken, 409, "Conflict").await;
    nothing_left(&app, &second).await;
    // A session key cannot create sessions.
    let by_session = post_json(&app, "/sessions", KEY, json!({"sessionId": "other"})).await;
    failure(by_session, 403, "Forbidden").await;

    // Listing needs the admin or a tenant key: the document's curl
    // without one is refused, and so is a session's key.
    let listed = gateway(&app, Method::GET, "/sessions/list", None)
        .send()
        .await
        .unwrap();
    failure(listed, 401, "Unauthorized").await;
    let listed = gateway(&app, Method::GET, "/sessions/list", Some(KEY))
        .send()
        .await
        .unwrap();
    failure(listed, 403, "Forbidden").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_switched_off_is_not_served() {
    let app = TestApp::spawn_with(&[("WAGATE_PROFILE_SEED000", "false")]).await;
    let response = post_json(&app, "/sessions", &app.admin_key, json!({"sessionId": "a"})).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "Not Found", "the native answer: {body}");
    assert!(body.get("success").is_none(), "{body}");
    let path = format!("{GATEWAY}/sessions/list");
    assert_eq!(app.get(&path, &app.admin_key).await.status(), 404);
    app.stop().await;
}
