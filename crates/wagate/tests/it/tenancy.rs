//! Keys see only their own tenant's sessions, and another tenant's session
//! looks exactly like one that does not exist.

use super::{TestApp, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

/// Every session route, with a body where the route takes one.
fn session_routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    let base = format!("/api/v1/sessions/{id}");
    vec![
        (Method::GET, base.clone(), None),
        (Method::DELETE, base.clone(), None),
        (Method::POST, format!("{base}/connect"), Some(json!({}))),
        (Method::POST, format!("{base}/logout"), Some(json!({}))),
        (
            Method::POST,
            format!("{base}/pair-code"),
            Some(json!({ "phoneNumber": "5511999999999" })),
        ),
        (
            Method::POST,
            format!("{base}/messages"),
            Some(json!({ "to": "5511999999999", "message": "hi" })),
        ),
    ]
}

async fn assert_not_found_everywhere(app: &TestApp, key: &str, id: &str) {
    for (method, path, body) in session_routes(id) {
        let mut request = app.request(method.clone(), &path, key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let body = assert_error(response, 404, "Not Found").await;
        assert_eq!(
            body["message"],
            format!("Session '{id}' not found"),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_session_is_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let (_, key_a) = app.tenant_with_key("tenant-a").await;
    let (_, key_b) = app.tenant_with_key("tenant-b").await;
    // Linked, so a route that leaked through would visibly act on it.
    app.linked_session(&key_a, "a-shop", "5511911112222").await;

    assert_not_found_everywhere(&app, &key_b, "a-shop").await;
    let listed = app.read("/api/v1/sessions", &key_b).await;
    assert_eq!(listed["sessions"], json!([]));
    // A tenant key cannot list another tenant by asking for it.
    let asked = app.get("/api/v1/sessions?tenantId=1", &key_b).await;
    assert_error(asked, 404, "Not Found").await;

    // Nothing was touched: tenant A's session is still linked and
    // connected, and nothing was sent through it.
    let own = app.read("/api/v1/sessions/a-shop", &key_a).await;
    assert_eq!(own["status"], "connected", "{own}");
    let stats = app.sim_stats().await;
    assert_eq!(stats["linkedDevices"], 1, "{stats}");
    assert_eq!(stats["connectedDevices"], 1, "{stats}");
    assert_eq!(stats["messagesRelayed"], 0, "{stats}");
    app.stop().await;
}

#[tokio::test]
async fn session_keys_see_only_their_session() {
    let app = TestApp::spawn().await;
    let (_, tenant_key) = app.tenant_with_key("t").await;
    let first = app.create_session(&tenant_key, "first").await;
    app.create_session(&tenant_key, "second").await;
    let first_key = first["apiKey"].as_str().unwrap();

    assert_not_found_everywhere(&app, first_key, "second").await;
    let listed: Value = app
        .get("/api/v1/sessions", first_key)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["first"]);
}

#[tokio::test]
async fn same_id_in_two_tenants_and_the_admin_view() {
    let app = TestApp::spawn().await;
    let (tenant_a, key_a) = app.tenant_with_key("a").await;
    let (_, key_b) = app.tenant_with_key("b").await;
    app.create_session(&key_a, "shop").await;
    app.create_session(&key_b, "shop").await;

    let all: Value = app
        .get("/api/v1/sessions", &app.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2);
    let only_a: Value = app
        .get(
            &format!("/api/v1/sessions?tenantId={tenant_a}"),
            &app.admin_key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_a["sessions"].as_array().unwrap().len(), 1);

    let ambiguous = app.get("/api/v1/sessions/shop", &app.admin_key).await;
    let body = assert_error(ambiguous, 400, "Validation Error").await;
    assert_eq!(body["field"], "tenantId");
    let exact = app
        .get(
            &format!("/api/v1/sessions/shop?tenantId={tenant_a}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(exact.status(), 200);
    assert_eq!(exact.json::<Value>().await.unwrap()["tenantId"], tenant_a);

    // Admins create in a named tenant; an unknown tenant is not found.
    let response = app
        .post(
            "/api/v1/sessions",
            &app.admin_key,
            json!({ "sessionId": "x", "tenantId": 999 }),
        )
        .await;
    assert_error(response, 404, "Not Found").await;
}
