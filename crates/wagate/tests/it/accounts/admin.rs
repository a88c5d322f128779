//! Admins manage users; customers and tenant keys may not; bad input is
//! named; the first admin can come from the command line.

use super::{PASSWORD, access, create_user, login, post_open, refresh_token};
use crate::it::{TestApp, assert_error};
use reqwest::{Method, Response};
use serde_json::{Value, json};

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
    let database = app.database_url.clone();
    let run = |args: &[&str], password_env: Option<&str>, stdin: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wagate"));
        command
            .args(args)
            .env("WAGATE_DATABASE_URL", &database)
            .env("WAGATE_DATA_DIR", &app.data_dir)
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
