//! API keys: who may create which, masked listings, revocation.

use super::{TestApp, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn create_list_masked_and_revoke() {
    let app = TestApp::spawn().await;
    let (tenant, tenant_key) = app.tenant_with_key("acme").await;
    app.create_session(&tenant_key, "s1").await;

    let response = app
        .post(
            "/api/v1/keys",
            &tenant_key,
            json!({ "scope": "session", "sessionId": "s1", "name": "bot" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let secret = created["key"].as_str().unwrap().to_string();
    assert_eq!(created["scope"], "session");
    assert_eq!(created["tenantId"], tenant);
    assert_eq!(created["sessionId"], "s1");
    assert_eq!(
        created["masked"],
        format!("***{}", &secret[secret.len() - 4..])
    );

    let listing = app.get("/api/v1/keys", &tenant_key).await;
    assert_eq!(listing.status(), 200);
    let text = listing.text().await.unwrap();
    assert!(!text.contains(&secret), "secrets never listed");
    assert!(!text.contains(&tenant_key), "secrets never listed");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let keys = listed["keys"].as_array().unwrap();
    // The tenant key itself, the session key made with the session, and "bot".
    assert_eq!(keys.len(), 3, "{listed}");
    for key in keys {
        let masked = key["masked"].as_str().unwrap();
        assert!(masked.starts_with("***") && masked.len() == 7, "{masked}");
        assert!(key.get("key").is_none());
    }

    let works = app.get("/api/v1/sessions/s1", &secret).await;
    assert_eq!(works.status(), 200);
    let id = created["id"].as_i64().unwrap();
    let revoked = app.delete(&format!("/api/v1/keys/{id}"), &tenant_key).await;
    assert_eq!(revoked.status(), 204);
    let refused = app.get("/api/v1/sessions/s1", &secret).await;
    assert_error(refused, 403, "Forbidden").await;
    let listed: Value = app
        .get("/api/v1/keys", &tenant_key)
        .await
        .json()
        .await
        .unwrap();
    let bot = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone();
    assert!(bot["revokedAt"].is_string());
}

#[tokio::test]
async fn scope_rules_for_creating_keys() {
    let app = TestApp::spawn().await;
    let (_, tenant_key) = app.tenant_with_key("acme").await;
    let (other_tenant, _) = app.tenant_with_key("other").await;

    let admin = app
        .post("/api/v1/keys", &tenant_key, json!({ "scope": "admin" }))
        .await;
    assert_error(admin, 403, "Forbidden").await;
    let elsewhere = app
        .post(
            "/api/v1/keys",
            &tenant_key,
            json!({ "scope": "tenant", "tenantId": other_tenant }),
        )
        .await;
    assert_error(elsewhere, 404, "Not Found").await;
    let bad_scope = app
        .post("/api/v1/keys", &tenant_key, json!({ "scope": "root" }))
        .await;
    assert_eq!(
        assert_error(bad_scope, 400, "Validation Error").await["field"],
        "scope"
    );
    let no_session = app
        .post("/api/v1/keys", &tenant_key, json!({ "scope": "session" }))
        .await;
    assert_eq!(
        assert_error(no_session, 400, "Validation Error").await["field"],
        "sessionId"
    );
    let unknown_session = app
        .post(
            "/api/v1/keys",
            &tenant_key,
            json!({ "scope": "session", "sessionId": "nope" }),
        )
        .await;
    assert_error(unknown_session, 404, "Not Found").await;

    // Admins may create admin keys, and those work.
    let (_, second_admin) = app
        .create_key(&app.admin_key, json!({ "scope": "admin", "name": "ops" }))
        .await;
    let tenants = app.get("/api/v1/tenants", &second_admin).await;
    assert_eq!(tenants.status(), 200);
}

#[tokio::test]
async fn keys_of_other_tenants_and_admins_are_out_of_reach() {
    let app = TestApp::spawn().await;
    let (_, key_a) = app.tenant_with_key("a").await;
    let (tenant_b, key_b) = app.tenant_with_key("b").await;
    let (b_key_id, _) = app
        .create_key(&key_b, json!({ "scope": "tenant", "name": "second" }))
        .await;

    let response = app
        .delete(&format!("/api/v1/keys/{b_key_id}"), &key_a)
        .await;
    assert_error(response, 404, "Not Found").await;
    let listed: Value = app.get("/api/v1/keys", &key_a).await.json().await.unwrap();
    assert!(
        listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["tenantId"] != tenant_b && k["scope"] != "admin"),
        "{listed}"
    );
    let all: Value = app
        .get("/api/v1/keys", &app.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        all["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["scope"] == "admin")
    );
    let missing = app.delete("/api/v1/keys/99999", &app.admin_key).await;
    assert_error(missing, 404, "Not Found").await;
}

#[tokio::test]
async fn tenants_are_admin_only() {
    let app = TestApp::spawn().await;
    let listed: Value = app
        .get("/api/v1/tenants", &app.admin_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["tenants"][0]["name"], "default");
    let (_, tenant_key) = app.tenant_with_key("acme").await;
    let response = app
        .post("/api/v1/tenants", &tenant_key, json!({ "name": "x" }))
        .await;
    assert_error(response, 403, "Forbidden").await;
    let dup = app
        .post("/api/v1/tenants", &app.admin_key, json!({ "name": "acme" }))
        .await;
    assert_error(dup, 409, "Conflict").await;
}
