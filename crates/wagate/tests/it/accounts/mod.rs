//! Users log in with an email and a password and use the token they get
//! as an admin or a tenant key; tokens expire, refresh tokens work once,
//! logins end, and admins manage users.

mod admin;
mod tokens;

use super::{TestApp, assert_error};
use reqwest::{Method, Response};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

/// A request without credentials (login, refresh, logout need none).
pub async fn post_open(app: &TestApp, path: &str, body: Value) -> Response {
    app.http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates a user as `by`; returns the user as shown.
pub async fn create_user(app: &TestApp, by: &str, body: Value) -> Value {
    let response = app.post("/api/v1/admin/users", by, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A customer of a new tenant `name`; returns (tenant id, email).
pub async fn customer(app: &TestApp, name: &str) -> (i64, String) {
    let tenant = app.create_tenant(name).await;
    let email = format!("owner@{name}.example");
    let body =
        json!({ "email": email, "password": PASSWORD, "role": "customer", "tenantId": tenant });
    create_user(app, &app.admin_key, body).await;
    (tenant, email)
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    let body = json!({ "email": email, "password": password });
    let response = post_open(app, "/api/v1/auth/login", body).await;
    assert_eq!(response.status(), 200, "login as {email}");
    response.json().await.unwrap()
}

pub fn access(tokens: &Value) -> String {
    tokens["accessToken"].as_str().unwrap().to_string()
}

pub fn refresh_token(tokens: &Value) -> String {
    tokens["refreshToken"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_login_profile_and_session_examples() {
    let app = TestApp::spawn().await;
    let (tenant, email) = customer(&app, "acme").await;

    // curl -X POST /api/v1/auth/login -d '{"email":"…","password":"…"}'
    let body = json!({ "email": email, "password": PASSWORD });
    let response = post_open(&app, "/api/v1/auth/login", body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(tokens["expiresIn"], 900);
    assert_eq!(tokens["refreshExpiresIn"], 30 * 86_400);
    assert_eq!(tokens["user"]["email"], email);
    assert_eq!(tokens["user"]["role"], "customer");
    assert!(tokens["user"].get("passwordHash").is_none(), "{tokens}");
    let jwt = access(&tokens);
    assert_eq!(jwt.split('.').count(), 3);

    // curl -H "Authorization: Bearer <jwt-token>" /api/v1/users/profile
    let profile = app.read("/api/v1/users/profile", &jwt).await;
    assert_eq!(profile["user"]["email"], email);
    assert_eq!(profile["user"]["role"], "customer");
    assert_eq!(profile["user"]["tenantId"], tenant);
    assert!(profile["user"]["lastLoginAt"].is_string(), "{profile}");
    assert_eq!(profile["tenant"]["id"], tenant);
    assert_eq!(profile["tenant"]["name"], "acme");
    assert!(
        profile["tenant"]["tier"].is_string(),
        "the tenant's tier: {profile}"
    );

    // Create WhatsApp Session, with the JWT.
    let body = json!({ "name": "My WhatsApp Session", "sessionId": "my-session-001" });
    let response = app.post("/api/v1/sessions", &jwt, body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["session"]["sessionId"], "my-session-001");
    assert_eq!(created["session"]["name"], "My WhatsApp Session");
    assert_eq!(created["session"]["tenantId"], tenant);
    let listed = app.read("/api/v1/sessions", &jwt).await;
    assert_eq!(listed["sessions"][0]["sessionId"], "my-session-001");

    // An API key has no profile.
    let by_key = app.get("/api/v1/users/profile", &app.admin_key).await;
    assert_error(by_key, 403, "Forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_sees_only_its_own_tenant() {
    let app = TestApp::spawn().await;
    let (_, email_a) = customer(&app, "tenant-a").await;
    let (tenant_b, key_b) = app.tenant_with_key("tenant-b").await;
    app.create_session(&key_b, "b-shop").await;
    let jwt = access(&login(&app, &email_a, PASSWORD).await);

    let routes = [
        (Method::GET, "/api/v1/sessions/b-shop", None),
        (Method::DELETE, "/api/v1/sessions/b-shop", None),
        (
            Method::POST,
            "/api/v1/sessions/b-shop/connect",
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/sessions/b-shop/messages",
            Some(json!({ "to": "5511999999999", "message": "hi" })),
        ),
    ];
    for (method, path, body) in routes {
        let mut request = app.request(method.clone(), path, &jwt);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let body = assert_error(request.send().await.unwrap(), 404, "Not Found").await;
        assert_eq!(
            body["message"], "Session 'b-shop' not found",
            "{method} {path}"
        );
    }
    let listed = app.read("/api/v1/sessions", &jwt).await;
    assert_eq!(listed["sessions"], json!([]));
    let other = app.get(&format!("/api/v1/tenants/{tenant_b}"), &jwt).await;
    assert_error(other, 404, "Not Found").await;
    let tenants = app
        .post("/api/v1/tenants", &jwt, json!({ "name": "mine" }))
        .await;
    assert_error(tenants, 403, "Forbidden").await;
    // Tenant B's session was not touched.
    let still = app.read("/api/v1/sessions/b-shop", &key_b).await;
    assert_eq!(still["sessionId"], "b-shop");

    // An admin user acts as an admin key: every tenant.
    let admin = json!({ "email": "root@example.com", "password": PASSWORD, "role": "admin" });
    create_user(&app, &app.admin_key, admin).await;
    let admin_jwt = access(&login(&app, "root@example.com", PASSWORD).await);
    let seen = app
        .read(
            &format!("/api/v1/sessions/b-shop?tenantId={tenant_b}"),
            &admin_jwt,
        )
        .await;
    assert_eq!(seen["tenantId"], tenant_b);
    let tenants = app.read("/api/v1/tenants", &admin_jwt).await;
    assert!(
        tenants["tenants"].as_array().unwrap().len() >= 3,
        "{tenants}"
    );
}
