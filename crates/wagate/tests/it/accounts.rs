//! Users log in with an email and a password and use the token they get
//! as an admin or a tenant key; tokens expire, refresh tokens work once,
//! logins end, and admins manage users.

use super::{TestApp, assert_error, eventually};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use std::time::Duration;
use wagate_api::accounts::tokens::{Claims, TokenKeys, TokenKind};

const PASSWORD: &str = "correct horse battery";

/// A request without credentials (login, refresh, logout need none).
async fn post_open(app: &TestApp, path: &str, body: Value) -> Response {
    app.http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates a user as `by`; returns the user as shown.
async fn create_user(app: &TestApp, by: &str, body: Value) -> Value {
    let response = app.post("/api/v1/admin/users", by, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A customer of a new tenant `name`; returns (tenant id, email).
async fn customer(app: &TestApp, name: &str) -> (i64, String) {
    let tenant = app.create_tenant(name).await;
    let email = format!("owner@{name}.example");
    let body =
        json!({ "email": email, "password": PASSWORD, "role": "customer", "tenantId": tenant });
    create_user(app, &app.admin_key, body).await;
    (tenant, email)
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    let body = json!({ "email": email, "password": password });
    let response = post_open(app, "/api/v1/auth/login", body).await;
    assert_eq!(response.status(), 200, "login as {email}");
    response.json().await.unwrap()
}

fn access(tokens: &Value) -> String {
    tokens["accessToken"].as_str().unwrap().to_string()
}

fn refresh_token(tokens: &Value) -> String {
    tokens["refreshToken"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_login_profile_and_session_examples() {
    let app = TestApp::spawn().await;
    let (tenant, email) = customer(&app, "acme").await;

    // curl -X POST /api/v1/auth/login -d '{"email":"…","password":"…"}'
    let tokens = login(&app, &email, PASSWORD).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expires() {
    let app = TestApp::spawn_with(&[("WAGATE_JWT_ACCESS_TTL_S", "1")]).await;
    let (_, email) = customer(&app, "brief").await;
    let tokens = login(&app, &email, PASSWORD).await;
    assert_eq!(tokens["expiresIn"], 1);
    let jwt = access(&tokens);
    let expired = eventually(Duration::from_secs(5), || async {
        let response = app.get("/api/v1/users/profile", &jwt).await;
        (response.status() == 401).then_some(response)
    })
    .await;
    let body = assert_error(expired, 401, "Unauthorized").await;
    assert_eq!(body["message"], "Token expired");
    // The refresh token still gets a new pair.
    let body = json!({ "refreshToken": refresh_token(&tokens) });
    let renewed = post_open(&app, "/api/v1/auth/refresh", body).await;
    assert_eq!(renewed.status(), 200);
}

/// The gateway's token keys, from the master key it keeps in its data
/// directory.
fn gateway_keys(app: &TestApp) -> TokenKeys {
    let text = std::fs::read_to_string(app.data_dir.join("master.key")).unwrap();
    let master = wagate_store::StateCipher::from_base64(&text).unwrap();
    TokenKeys::new(&master, Duration::from_secs(900), Duration::from_secs(3600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (tenant, email) = customer(&app, "shop").await;
    let tokens = login(&app, &email, PASSWORD).await;
    let jwt = access(&tokens);
    let user_id = tokens["user"]["id"].as_i64().unwrap();
    let refused = |token: String, message: &'static str| {
        let app = &app;
        async move {
            let response = app.get("/api/v1/users/profile", &token).await;
            let body = assert_error(response, 401, "Unauthorized").await;
            assert_eq!(body["message"], message, "{token}");
        }
    };

    // Signed with the gateway's own key, but an hour old.
    let now = chrono::Utc::now().timestamp();
    let stale = Claims {
        sub: user_id.to_string(),
        tenant,
        role: "customer".to_string(),
        kind: TokenKind::Access,
        iat: now - 3600,
        exp: now - 2700,
        jti: None,
    };
    let keys = gateway_keys(&app);
    refused(keys.sign(&stale), "Token expired").await;
    // The same claims made current pass: the key is the gateway's.
    let current = Claims {
        exp: now + 60,
        ..stale.clone()
    };
    assert_eq!(
        app.get("/api/v1/users/profile", &keys.sign(&current))
            .await
            .status(),
        200
    );

    // The payload changed to claim the admin role; the signature kept.
    let parts: Vec<&str> = jwt.split('.').collect();
    let admin = Claims {
        role: "admin".to_string(),
        ..current.clone()
    };
    let forged_payload = keys.sign(&admin).split('.').nth(1).unwrap().to_string();
    refused(
        format!("{}.{forged_payload}.{}", parts[0], parts[2]),
        "Invalid token",
    )
    .await;
    // Another gateway's key.
    let foreign = TokenKeys::random(Duration::from_secs(900), Duration::from_secs(3600));
    refused(foreign.sign(&current), "Invalid token").await;
    // A refresh token is not an access token.
    refused(refresh_token(&tokens), "Invalid token").await;
    // A token sent as X-Api-Key is taken for a key.
    let as_key = app
        .http
        .get(app.url("/api/v1/sessions"))
        .header("X-Api-Key", &jwt)
        .send()
        .await
        .unwrap();
    assert_error(as_key, 403, "Forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    let (_, email) = customer(&app, "quiet").await;
    let wrong = json!({ "email": email, "password": "not the password" });
    let wrong = post_open(&app, "/api/v1/auth/login", wrong).await;
    let wrong = assert_error(wrong, 401, "Unauthorized").await;
    let unknown = json!({ "email": "nobody@quiet.example", "password": "not the password" });
    let unknown = post_open(&app, "/api/v1/auth/login", unknown).await;
    let unknown = assert_error(unknown, 401, "Unauthorized").await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["message"], "Invalid email or password");
    // The email is matched in any case.
    login(&app, &email.to_uppercase(), PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_works_once_and_logout_ends_the_login() {
    let app = TestApp::spawn().await;
    let (_, email) = customer(&app, "rotor").await;
    let first = login(&app, &email, PASSWORD).await;
    let refresh = |token: String| {
        let app = &app;
        async move {
            post_open(
                app,
                "/api/v1/auth/refresh",
                json!({ "refreshToken": token }),
            )
            .await
        }
    };

    let second = refresh(refresh_token(&first)).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_eq!(second["user"]["email"], email);
    app.read("/api/v1/users/profile", &access(&second)).await;

    // The used token again: refused, and the login it belongs to ends.
    let again = refresh(refresh_token(&first)).await;
    let body = assert_error(again, 401, "Unauthorized").await;
    assert!(
        body["message"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    let newest = refresh(refresh_token(&second)).await;
    assert_error(newest, 401, "Unauthorized").await;

    // Logging out ends a login; doing it twice is no error.
    let third = login(&app, &email, PASSWORD).await;
    let body = json!({ "refreshToken": refresh_token(&third) });
    let out = post_open(&app, "/api/v1/auth/logout", body.clone()).await;
    assert_eq!(out.status(), 204);
    let after = refresh(refresh_token(&third)).await;
    let body_after = assert_error(after, 401, "Unauthorized").await;
    assert!(
        body_after["message"].as_str().unwrap().contains("revoked"),
        "{body_after}"
    );
    assert_eq!(
        post_open(&app, "/api/v1/auth/logout", body).await.status(),
        204
    );

    // An access token, or anything else, is no refresh token.
    for token in [access(&third), "wgk_nothing".to_string()] {
        let response = refresh(token.clone()).await;
        let body = assert_error(response, 401, "Unauthorized").await;
        assert_eq!(body["message"], "Invalid refresh token");
        let out = post_open(
            &app,
            "/api/v1/auth/logout",
            json!({ "refreshToken": token }),
        )
        .await;
        assert_error(out, 401, "Unauthorized").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("managed").await;
    // The first admin user, made with the admin key, in the default tenant.
    let admin = json!({ "email": "Boss@Example.com", "password": PASSWORD, "role": "admin" });
    let admin = create_user(&app, &app.admin_key, admin).await;
    assert_eq!(admin["email"], "boss@example.com");
    assert_eq!(admin["tenantId"], 1);
    let boss = access(&login(&app, "boss@example.com", PASSWORD).await);

    let body = json!({ "email": "ana@managed.example", "password": PASSWORD, "role": "customer", "tenantId": tenant });
    let ana = create_user(&app, &boss, body.clone()).await;
    let ana_id = ana["id"].as_i64().unwrap();
    let taken = json!({ "email": "ANA@managed.example", "password": PASSWORD, "role": "customer", "tenantId": tenant });
    let taken = app.post("/api/v1/admin/users", &boss, taken).await;
    assert_error(taken, 409, "Conflict").await;

    let all = app.read("/api/v1/admin/users", &boss).await;
    assert_eq!(all["users"].as_array().unwrap().len(), 2);
    let mine = app
        .read(&format!("/api/v1/admin/users?tenantId={tenant}"), &boss)
        .await;
    assert_eq!(mine["users"], json!([ana]));
    let one = app
        .read(&format!("/api/v1/admin/users/{ana_id}"), &boss)
        .await;
    assert_eq!(one["email"], "ana@managed.example");

    // A customer, or a tenant key, may not manage users.
    let ana_tokens = login(&app, "ana@managed.example", PASSWORD).await;
    let ana_jwt = access(&ana_tokens);
    let (_, tenant_key) = app
        .create_key(
            &app.admin_key,
            json!({ "scope": "tenant", "tenantId": tenant }),
        )
        .await;
    for by in [&ana_jwt, &tenant_key] {
        assert_error(app.get("/api/v1/admin/users", by).await, 403, "Forbidden").await;
        let create = app.post("/api/v1/admin/users", by, body.clone()).await;
        assert_error(create, 403, "Forbidden").await;
        let path = format!("/api/v1/admin/users/{ana_id}");
        assert_error(app.delete(&path, by).await, 403, "Forbidden").await;
    }

    // A new password: the old one stops working, and so does the login.
    let path = format!("/api/v1/admin/users/{ana_id}");
    let patch = |body: Value| {
        let (app, boss, path) = (&app, &boss, &path);
        async move {
            app.request(Method::PATCH, path, boss)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let changed = patch(json!({ "password": "a brand new one" })).await;
    assert_eq!(changed.status(), 200);
    let old = json!({ "email": "ana@managed.example", "password": PASSWORD });
    assert_error(
        post_open(&app, "/api/v1/auth/login", old).await,
        401,
        "Unauthorized",
    )
    .await;
    let body = json!({ "refreshToken": refresh_token(&ana_tokens) });
    assert_error(
        post_open(&app, "/api/v1/auth/refresh", body).await,
        401,
        "Unauthorized",
    )
    .await;
    let ana_jwt = access(&login(&app, "ana@managed.example", "a brand new one").await);

    // Promoted, the same user acts as an admin.
    let promoted: Value = patch(json!({ "role": "admin" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(promoted["role"], "admin");
    app.read("/api/v1/admin/users", &ana_jwt).await;
    patch(json!({ "role": "customer" })).await;

    // Disabled: no login, and the token in hand stops working at once.
    let disabled: Value = patch(json!({ "disabled": true }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(disabled["disabled"], true);
    let profile = app.get("/api/v1/users/profile", &ana_jwt).await;
    assert_error(profile, 401, "Unauthorized").await;
    let login_now = json!({ "email": "ana@managed.example", "password": "a brand new one" });
    let login_now = post_open(&app, "/api/v1/auth/login", login_now).await;
    assert_error(login_now, 403, "Forbidden").await;
    patch(json!({ "disabled": false })).await;
    login(&app, "ana@managed.example", "a brand new one").await;

    // An admin user cannot lock itself out.
    let own = format!("/api/v1/admin/users/{}", admin["id"]);
    assert_error(app.delete(&own, &boss).await, 409, "Conflict").await;
    let demote = app
        .request(Method::PATCH, &own, &boss)
        .json(&json!({ "role": "customer" }))
        .send()
        .await
        .unwrap();
    assert_error(demote, 409, "Conflict").await;

    // Deleted: gone, and its logins with it.
    assert_eq!(app.delete(&path, &boss).await.status(), 204);
    assert_error(app.get(&path, &boss).await, 404, "Not Found").await;
    assert_error(app.delete(&path, &boss).await, 404, "Not Found").await;
    let gone = json!({ "email": "ana@managed.example", "password": "a brand new one" });
    assert_error(
        post_open(&app, "/api/v1/auth/login", gone).await,
        401,
        "Unauthorized",
    )
    .await;
}

/// Sends `body` as raw bytes with a JSON content type.
async fn post_raw(app: &TestApp, path: &str, by: Option<&str>, body: &str) -> Response {
    let mut request = app
        .http
        .post(app.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(by) = by {
        request = request.bearer_auth(by);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_never_a_server_error() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("strict").await;
    let login_cases = [
        (r#"{"password": "whatever1"}"#, "email"),
        (r#"{"email": "a@strict.example"}"#, "password"),
        (
            r#"{"email": "not-an-email", "password": "whatever1"}"#,
            "email",
        ),
        (
            r#"{"email": "a@strict.example", "password": ""}"#,
            "password",
        ),
        (r#"{"email": 5, "password": "whatever1"}"#, "email"),
    ];
    for (body, field) in login_cases {
        let response = post_raw(&app, "/api/v1/auth/login", None, body).await;
        let error = assert_error(response, 400, "Validation Error").await;
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
    ] {
        let response = post_raw(&app, path, None, r#"{"email": "a@b.c", "#).await;
        assert_error(response, 400, "Bad Request").await;
    }
    let refresh = post_raw(&app, "/api/v1/auth/refresh", None, "{}").await;
    let error = assert_error(refresh, 400, "Validation Error").await;
    assert_eq!(error["field"], "refreshToken");
    let form = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .body("email=a&password=b")
        .send()
        .await
        .unwrap();
    assert_error(form, 415, "Unsupported Media Type").await;

    let key = Some(app.admin_key.as_str());
    let create_cases = [
        (
            json!({ "email": "x@strict.example", "password": "short", "role": "customer", "tenantId": tenant }),
            "password",
        ),
        (
            json!({ "email": "x@", "password": PASSWORD, "role": "customer", "tenantId": tenant }),
            "email",
        ),
        (
            json!({ "email": "x@strict.example", "password": PASSWORD, "role": "owner", "tenantId": tenant }),
            "role",
        ),
        (
            json!({ "email": "x@strict.example", "password": PASSWORD, "role": "customer" }),
            "tenantId",
        ),
        (
            json!({ "email": "x@strict.example", "role": "customer", "tenantId": tenant }),
            "password",
        ),
    ];
    for (body, field) in create_cases {
        let response = post_raw(&app, "/api/v1/admin/users", key, &body.to_string()).await;
        let error = assert_error(response, 400, "Validation Error").await;
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    let unknown_tenant = json!({ "email": "x@strict.example", "password": PASSWORD, "role": "customer", "tenantId": 999 });
    let response = app
        .post("/api/v1/admin/users", &app.admin_key, unknown_tenant)
        .await;
    assert_error(response, 404, "Not Found").await;
    let extra = json!({ "email": "x@strict.example", "password": PASSWORD, "role": "admin", "isRoot": true });
    let response = app.post("/api/v1/admin/users", &app.admin_key, extra).await;
    let error = assert_error(response, 400, "Validation Error").await;
    assert_eq!(error["field"], "isRoot");

    let user = create_user(
        &app,
        &app.admin_key,
        json!({ "email": "x@strict.example", "password": PASSWORD, "role": "customer", "tenantId": tenant }),
    )
    .await;
    let path = format!("/api/v1/admin/users/{}", user["id"]);
    let patch_cases = [
        (json!({ "password": "1234567" }), 400),
        (json!({ "role": "root" }), 400),
        (json!({ "disabled": "yes" }), 400),
        (json!({ "tenantId": 999 }), 404),
    ];
    for (body, status) in patch_cases {
        let response = app
            .request(Method::PATCH, &path, &app.admin_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
    }
    for id in ["abc", "99999", "-1"] {
        let response = app
            .get(&format!("/api/v1/admin/users/{id}"), &app.admin_key)
            .await;
        assert_error(response, 404, "Not Found").await;
    }
    // A malformed bearer token that looks like a JWT is refused, not a 500.
    let garbage = "eyJhbGciOiJIUzI1NiJ9.e30.AAAA";
    let response = app.get("/api/v1/users/profile", garbage).await;
    assert_error(response, 401, "Unauthorized").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_comes_from_the_command_line() {
    let app = TestApp::spawn().await;
    let database = format!("sqlite://{}", app.data_dir.join("wagate.db").display());
    let run = |args: &[&str], password_env: Option<&str>, stdin: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wagate"));
        command
            .args(args)
            .env("WAGATE_DATABASE_URL", &database)
            .env_remove("WAGATE_CONFIG")
            .env_remove("WAGATE_USER_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(password) = password_env {
            command.env("WAGATE_USER_PASSWORD", password);
        }
        let mut child = command.spawn().unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let admin = [
        "users",
        "create",
        "--email",
        "First@Example.com",
        "--role",
        "admin",
    ];
    let made = run(&admin, None, &format!("{PASSWORD}\n"));
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(
        stdout.contains("created admin user") && stdout.contains("first@example.com"),
        "{stdout}"
    );
    let tokens = login(&app, "first@example.com", PASSWORD).await;
    assert_eq!(tokens["user"]["role"], "admin");
    app.read("/api/v1/admin/users", &access(&tokens)).await;

    // From the environment; a customer needs a tenant; short passwords fail.
    let customer = [
        "users",
        "create",
        "--email",
        "c@example.com",
        "--role",
        "customer",
    ];
    let failed = run(&customer, Some(PASSWORD), "");
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("--tenant-id"));
    let short = [
        "users",
        "create",
        "--email",
        "s@example.com",
        "--role",
        "admin",
    ];
    let failed = run(&short, Some("short"), "");
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("password"));
    let with_tenant = [
        "users",
        "create",
        "--email",
        "c@example.com",
        "--role",
        "customer",
        "--tenant-id",
        "1",
    ];
    assert!(run(&with_tenant, Some(PASSWORD), "").status.success());
    login(&app, "c@example.com", PASSWORD).await;
}
