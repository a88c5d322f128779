//! Tiers end to end: each limit refuses with 429, `Retry-After` and a body
//! naming it; a refused request leaves nothing behind; an admin's edit
//! applies at once; usage shows it all.

mod admin;
mod hourly;

use super::{TestApp, assert_error};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Creates a tenant in `tier` with a tenant key; returns (id, key).
async fn tenant_in(app: &TestApp, name: &str, tier: &str) -> (i64, String) {
    let response = app
        .post(
            "/api/v1/tenants",
            &app.admin_key,
            json!({ "name": name, "tier": tier }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let tenant: Value = response.json().await.unwrap();
    assert_eq!(tenant["tier"], tier, "{tenant}");
    let id = tenant["id"].as_i64().unwrap();
    let (_, key) = app
        .create_key(&app.admin_key, json!({ "scope": "tenant", "tenantId": id }))
        .await;
    (id, key)
}

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> Response {
    app.request(Method::PATCH, path, key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Sets a tier's limits as the admin; returns the tier.
async fn edit_tier(app: &TestApp, tier: &str, limits: Value) -> Value {
    let response = patch(
        app,
        &format!("/api/v1/admin/tiers/{tier}"),
        &app.admin_key,
        limits,
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A 429 for `limit`: `Retry-After` present, from 1 to `longest` seconds,
/// and the same in the body. Returns the body.
async fn assert_refused(response: Response, limit: &str, max: u64, longest: u64) -> Value {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=longest).contains(&retry_after), "{retry_after}");
    let body = assert_error(response, 429, "Too Many Requests").await;
    assert_eq!(body["limit"], limit, "{body}");
    assert_eq!(body["max"], max, "{body}");
    assert_eq!(body["retryAfter"], retry_after, "{body}");
    body
}

async fn usage(app: &TestApp, tenant: i64) -> Value {
    app.read(&format!("/api/v1/tenants/{tenant}/usage"), &app.admin_key)
        .await
}

#[tokio::test]
async fn a_basic_tenants_second_session_is_refused_and_nothing_is_written() {
    // Tenants created without a tier get the configured default.
    let app = TestApp::spawn_with(&[("WAGATE_DEFAULT_TIER", "basic")]).await;
    let (acme, key) = app.tenant_with_key("acme").await;
    let tenant = app.read(&format!("/api/v1/tenants/{acme}"), &key).await;
    assert_eq!(tenant["tier"], "basic", "{tenant}");
    app.create_session(&key, "first").await;

    let response = app
        .post("/api/v1/sessions", &key, json!({ "sessionId": "second" }))
        .await;
    let body = assert_refused(response, "sessions", 1, 3600).await;
    assert_eq!(
        body["message"],
        "Tier basic allows 1 session; tenant acme has 1"
    );
    // No second session, and no key for it.
    let listed = app.read("/api/v1/sessions", &key).await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");
    let keys = app.read("/api/v1/keys", &key).await;
    let scopes: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes.len(), 2, "the tenant key and first's key: {keys}");
    let second = wagate_core::SessionKey {
        tenant: wagate_core::TenantId(acme),
        session: wagate_core::SessionId::parse("second").unwrap(),
    };
    assert_eq!(app.store().session(&second).await.unwrap(), None);

    // A compatibility profile creates sessions through the same path: the
    // same refusal, in its own body shape, with the same header.
    let response = app
        .http
        .post(app.url("/api/v1/gateway/sessions"))
        .header("x-api-key", &key)
        .json(&json!({ "sessionId": "third" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");

    let used = usage(&app, acme).await;
    assert_eq!(used["sessions"], json!({ "used": 1, "max": 1 }), "{used}");
    // Moving the tenant to pro lets the session in at once.
    let moved = patch(
        &app,
        &format!("/api/v1/tenants/{acme}"),
        &app.admin_key,
        json!({ "tier": "pro" }),
    )
    .await;
    assert_eq!(moved.status(), 200);
    app.create_session(&key, "second").await;
    app.stop().await;
}
