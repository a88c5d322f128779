//! Tiers are the admin's: only admin keys see and change them, and bad
//! input is a clear client error that changes nothing.

use super::{patch, tenant_in};
use crate::it::{TestApp, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn only_admins_see_and_change_tiers() {
    let app = TestApp::spawn().await;
    let listed = app.read("/api/v1/admin/tiers", &app.admin_key).await;
    let names: Vec<&str> = listed["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["basic", "pro", "max", "unlimited"]);
    assert_eq!(
        listed["tiers"][2],
        json!({ "name": "max", "sessions": 20, "messagesPerHour": 10000, "apiCallsPerHour": 100000 })
    );

    let (acme, key) = tenant_in(&app, "acme", "basic").await;
    let session_key = app.create_session(&key, "shop").await["apiKey"]
        .as_str()
        .unwrap()
        .to_string();
    for key in [&key, &session_key] {
        assert_error(app.get("/api/v1/admin/tiers", key).await, 403, "Forbidden").await;
        let edit = patch(
            &app,
            "/api/v1/admin/tiers/basic",
            key,
            json!({ "sessions": 99 }),
        )
        .await;
        assert_error(edit, 403, "Forbidden").await;
    }
    let own = patch(
        &app,
        &format!("/api/v1/tenants/{acme}"),
        &key,
        json!({ "tier": "max" }),
    )
    .await;
    assert_error(own, 403, "Forbidden").await;
    let usage_by_session_key = app
        .get(&format!("/api/v1/tenants/{acme}/usage"), &session_key)
        .await;
    assert_error(usage_by_session_key, 403, "Forbidden").await;
    let (other, _) = tenant_in(&app, "other", "pro").await;
    let others = app
        .get(&format!("/api/v1/tenants/{other}/usage"), &key)
        .await;
    assert_error(others, 404, "Not Found").await;

    let unchanged = app.read("/api/v1/admin/tiers", &app.admin_key).await;
    assert_eq!(unchanged["tiers"][0]["sessions"], 1, "{unchanged}");
    assert_eq!(
        app.read(&format!("/api/v1/tenants/{acme}"), &key).await["tier"],
        "basic"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_tier_input_is_a_clear_client_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    let gold = patch(
        &app,
        "/api/v1/admin/tiers/gold",
        &admin,
        json!({ "sessions": 1 }),
    )
    .await;
    let body = assert_error(gold, 404, "Not Found").await;
    assert_eq!(body["message"], "Tier 'gold' not found");

    for (limits, field) in [
        (json!({ "sessions": -1 }), "sessions"),
        (
            json!({ "messagesPerHour": 1_000_000_001_i64 }),
            "messagesPerHour",
        ),
        (json!({ "apiCallsPerHour": "many" }), "apiCallsPerHour"),
        (json!({ "sessions": 1.5 }), "sessions"),
    ] {
        let response = patch(&app, "/api/v1/admin/tiers/basic", &admin, limits.clone()).await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], field, "{limits}: {body}");
    }
    let unknown = patch(
        &app,
        "/api/v1/admin/tiers/basic",
        &admin,
        json!({ "colour": "red" }),
    )
    .await;
    assert_eq!(unknown.status(), 400);
    let malformed = app
        .request(Method::PATCH, "/api/v1/admin/tiers/basic", &admin)
        .header("Content-Type", "application/json")
        .body("{\"sessions\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, "Bad Request").await;
    let basic = app.read("/api/v1/admin/tiers", &admin).await["tiers"][0].clone();
    assert_eq!(basic["sessions"], 1, "nothing changed: {basic}");

    let response = app
        .post(
            "/api/v1/tenants",
            &admin,
            json!({ "name": "acme", "tier": "gold" }),
        )
        .await;
    let body = assert_error(response, 400, "Validation Error").await;
    assert_eq!(body["field"], "tier");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("basic, pro, max, unlimited") && message.contains("'gold'"),
        "{message}"
    );
    let response = app
        .post(
            "/api/v1/tenants",
            &admin,
            json!({ "name": "acme", "tier": "Gold Plan" }),
        )
        .await;
    assert_error(response, 400, "Validation Error").await;
    let tenants = app.read("/api/v1/tenants", &admin).await;
    assert_eq!(
        tenants["tenants"].as_array().unwrap().len(),
        1,
        "only the default: {tenants}"
    );

    // A bad tier next to a good setting changes neither.
    let (acme, _) = tenant_in(&app, "acme", "pro").await;
    let path = format!("/api/v1/tenants/{acme}");
    for tier in [json!("gold"), Value::Null] {
        let body = json!({ "tier": tier, "historyRetentionDays": 30 });
        let response = patch(&app, &path, &admin, body).await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], "tier", "{body}");
    }
    let tenant = app.read(&path, &admin).await;
    assert_eq!(
        (
            tenant["tier"].clone(),
            tenant["historyRetentionDays"].clone()
        ),
        (json!("pro"), Value::Null)
    );
    let missing = app.get("/api/v1/tenants/999/usage", &admin).await;
    assert_error(missing, 404, "Not Found").await;
    app.stop().await;
}

#[test]
fn an_unknown_default_tier_stops_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_wagate"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("WAGATE_CONFIG")
        .env("WAGATE_LISTEN", "127.0.0.1:0")
        .env("WAGATE_DEFAULT_TIER", "gold")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("wagate started with an unknown default tier");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains(
            "WAGATE_DEFAULT_TIER: unknown tier 'gold' (the tiers are basic, pro, max, unlimited)"
        ),
        "{stderr}"
    );
}
