//! Webhook endpoint routes: the endpoint's life, its secret shown once,
//! tenant isolation, the address policy, and fields named when refused.

use super::{TestApp, assert_error, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let response = app.post("/api/v1/webhooks", key, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.request(Method::PATCH, path, key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_created_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme").await;
    let all = create(
        &app,
        &key,
        json!({
            "url": "https://hooks.example/all",
            "headers": { "Authorization": "Bearer 0123456789abcdef" },
        }),
    )
    .await;
    let id = all["id"].as_str().unwrap().to_string();
    // Connecting sessions report their status: events for the endpoint.
    app.create_session(&key, "shop").await;
    app.create_session(&key, "desk").await;
    assert!(id.starts_with("wh_"), "{all}");
    assert_eq!(all["events"], json!(["*"]));
    assert_eq!(all["shape"], "native");
    assert_eq!(all["sessionId"], Value::Null);
    assert_eq!(all["enabled"], true);
    assert_eq!(all["headers"], json!({ "authorization": "***cdef" }));
    // The secret is whole in this answer only.
    let secret = all["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{all}");
    let masked = format!("whsec_***{}", &secret[secret.len() - 4..]);
    let read = app.read(&format!("/api/v1/webhooks/{id}"), &key).await;
    assert_eq!(read["secret"], masked);
    assert_eq!(read["url"], "https://hooks.example/all");

    let given = app
        .post(
            "/api/v1/sessions/shop/webhooks",
            &key,
            json!({ "url": "https://hooks.example/shop", "secret": SECRET,
                    "events": ["message.received"], "shape": "seed003" }),
        )
        .await;
    assert_eq!(given.status(), 201);
    let shop: Value = given.json().await.unwrap();
    assert_eq!(shop["secret"], SECRET);
    assert_eq!(shop["sessionId"], "shop");
    assert_eq!(shop["shape"], "seed003");
    let shop_id = shop["id"].as_str().unwrap();

    let listed = app.read("/api/v1/webhooks", &key).await;
    let ids: Vec<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(ids, [json!(id), json!(shop_id)]);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["secret"].as_str().unwrap().starts_with("whsec_***"))
    );
    // A session's listing: its own endpoints and the tenant-wide ones.
    let desk = app.read("/api/v1/webhooks?sessionId=desk", &key).await;
    assert_eq!(desk["items"].as_array().unwrap().len(), 1);
    assert_eq!(desk["items"][0]["id"], json!(id));

    let changed = patch(
        &app,
        &key,
        &format!("/api/v1/webhooks/{id}"),
        json!({ "url": "https://hooks.example/v2", "events": ["session.status"],
                "enabled": false, "headers": {} }),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["url"], "https://hooks.example/v2");
    assert_eq!(changed["events"], json!(["session.status"]));
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["headers"], json!({}));
    assert_eq!(changed["secret"], masked, "the secret is kept");
    let enabled = patch(
        &app,
        &key,
        &format!("/api/v1/webhooks/{id}"),
        json!({ "enabled": true }),
    )
    .await;
    assert_eq!(enabled.json::<Value>().await.unwrap()["enabled"], true);

    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    let first = eventually(Duration::from_secs(10), || async {
        let page = app.read(&deliveries, &key).await;
        page["items"].as_array().unwrap().last().cloned()
    })
    .await;
    let resent = app
        .post(
            &format!("/api/v1/webhooks/{id}/resend"),
            &key,
            json!({ "eventId": first["eventId"] }),
        )
        .await;
    assert_eq!(resent.status(), 202);
    let delivery_id = resent.json::<Value>().await.unwrap()["deliveryId"].clone();
    let newest = app.read(&format!("{deliveries}?limit=1"), &key).await;
    assert_eq!(newest["items"][0]["id"], delivery_id);
    assert_eq!(newest["items"][0]["eventId"], first["eventId"]);
    assert_eq!(newest["nextCursor"], delivery_id);
    let older = app
        .read(&format!("{deliveries}?limit=1&cursor={delivery_id}"), &key)
        .await;
    let older_id = older["items"][0]["id"].as_i64().unwrap();
    assert!(older_id < delivery_id.as_i64().unwrap(), "{older}");

    let deleted = app.delete(&format!("/api/v1/webhooks/{id}"), &key).await;
    assert_eq!(deleted.status(), 204);
    let gone = app.get(&format!("/api/v1/webhooks/{id}"), &key).await;
    assert_error(gone, 404, "Not Found").await;
    let listed = app.read("/api/v1/webhooks", &key).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_endpoint_is_not_found() {
    let app = TestApp::spawn().await;
    let (_, key_a) = app.tenant_with_key("tenant-a").await;
    let (_, key_b) = app.tenant_with_key("tenant-b").await;
    let created = app.create_session(&key_a, "a-shop").await;
    let session_key_a = created["apiKey"].as_str().unwrap().to_string();
    let endpoint = create(&app, &key_a, json!({ "url": "https://hooks.example/a" })).await;
    let id = endpoint["id"].as_str().unwrap();
    let base = format!("/api/v1/webhooks/{id}");

    let routes = [
        (Method::GET, base.clone(), None),
        (
            Method::PATCH,
            base.clone(),
            Some(json!({ "enabled": false })),
        ),
        (Method::GET, format!("{base}/deliveries"), None),
        (Method::GET, format!("{base}/attempts"), None),
        (
            Method::POST,
            format!("{base}/resend"),
            Some(json!({ "eventId": "evt_000000000000000000000000" })),
        ),
        (
            Method::POST,
            format!("{base}/replay"),
            Some(json!({ "since": "2024-01-01T00:00:00Z" })),
        ),
        (Method::DELETE, base.clone(), None),
    ];
    // Tenant B, and a session key of A for a tenant-wide endpoint.
    for key in [&key_b, &session_key_a] {
        for (method, path, body) in &routes {
            let mut request = app.request(method.clone(), path, key);
            if let Some(body) = body {
                request = request.json(body);
            }
            let body = assert_error(request.send().await.unwrap(), 404, "Not Found").await;
            assert_eq!(
                body["message"],
                format!("Webhook endpoint '{id}' not found"),
                "{method} {path}"
            );
        }
        assert_eq!(app.read("/api/v1/webhooks", key).await["items"], json!([]));
    }
    // Tenant B cannot attach an endpoint to A's session either.
    let attached = app
        .post(
            "/api/v1/sessions/a-shop/webhooks",
            &key_b,
            json!({ "url": "https://hooks.example/b" }),
        )
        .await;
    assert_error(attached, 404, "Not Found").await;
    let listed = app.get("/api/v1/webhooks?sessionId=a-shop", &key_b).await;
    assert_error(listed, 404, "Not Found").await;

    // A session key's endpoints are its own session's.
    let own = create(
        &app,
        &session_key_a,
        json!({ "url": "https://hooks.example/own" }),
    )
    .await;
    assert_eq!(own["sessionId"], "a-shop");
    let seen = app.read("/api/v1/webhooks", &session_key_a).await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    // Nothing of A's was touched.
    assert_eq!(app.read(&base, &key_a).await["enabled"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_fields_are_named() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme").await;
    let refused = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move { app.post("/api/v1/webhooks", &key, body).await }
    };

    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/",
        "http://localhost/x",
    ] {
        let body = assert_error(
            refused(json!({ "url": url })).await,
            422,
            "Unprocessable Entity",
        )
        .await;
        assert_eq!(body["field"], "url", "{url}: {body}");
    }
    for (body, field) in [
        (json!({ "url": "ftp://hooks.example/" }), "url"),
        (json!({ "url": "not a url" }), "url"),
        (json!({ "events": ["*"] }), "url"),
        (
            json!({ "url": "https://hooks.example/", "events": ["message.sent"] }),
            "events",
        ),
        (
            json!({ "url": "https://hooks.example/", "events": [] }),
            "events",
        ),
        (
            json!({ "url": "https://hooks.example/", "shape": "xml" }),
            "shape",
        ),
        (
            json!({ "url": "https://hooks.example/", "secret": "hunter2" }),
            "secret",
        ),
        (
            json!({ "url": "https://hooks.example/", "secret": "whsec_c2hvcnQ=" }),
            "secret",
        ),
        (
            json!({ "url": "https://hooks.example/", "headers": { "Webhook-Signature": "x" } }),
            "headers",
        ),
        (
            json!({ "url": "https://hooks.example/", "headers": { "X-Token": "a\nb" } }),
            "headers",
        ),
        (
            json!({ "url": "https://hooks.example/", "enabled": "yes" }),
            "enabled",
        ),
    ] {
        let response = refused(body.clone()).await;
        let error = assert_error(response, 400, "Validation Error").await;
        assert_eq!(error["field"], field, "{body}: {error}");
        assert!(
            !error["message"].as_str().unwrap().contains("hunter2"),
            "{error}"
        );
    }
    let unknown_session =
        refused(json!({ "url": "https://hooks.example/", "sessionId": "nope" })).await;
    assert_error(unknown_session, 404, "Not Found").await;

    let endpoint = create(&app, &key, json!({ "url": "https://hooks.example/" })).await;
    let base = format!("/api/v1/webhooks/{}", endpoint["id"].as_str().unwrap());
    let private = patch(&app, &key, &base, json!({ "url": "http://192.168.1.10/" })).await;
    let body = assert_error(private, 422, "Unprocessable Entity").await;
    assert_eq!(body["field"], "url");
    let moved = patch(&app, &key, &base, json!({ "sessionId": "other" })).await;
    let body = assert_error(moved, 400, "Validation Error").await;
    assert_eq!(body["field"], "sessionId");

    // No session, no events: the logs are empty.
    for log in ["deliveries", "attempts"] {
        let page = app.read(&format!("{base}/{log}?limit=10"), &key).await;
        assert_eq!(page, json!({ "items": [], "nextCursor": null }), "{log}");
    }

    let unknown_event = app
        .post(
            &format!("{base}/resend"),
            &key,
            json!({ "eventId": "evt_0123456789abcdef01234567" }),
        )
        .await;
    assert_error(unknown_event, 404, "Not Found").await;
    let malformed = app
        .post(&format!("{base}/resend"), &key, json!({ "eventId": "x" }))
        .await;
    assert_eq!(
        assert_error(malformed, 400, "Validation Error").await["field"],
        "eventId"
    );

    for body in [
        json!({ "since": "2024-02-01T00:00:00Z", "until": "2024-02-01T00:00:00Z" }),
        json!({ "since": "2024-02-02T00:00:00Z", "until": "2024-02-01T00:00:00Z" }),
        json!({ "since": "2999-01-01T00:00:00Z" }),
    ] {
        let replayed = app.post(&format!("{base}/replay"), &key, body).await;
        assert_eq!(
            assert_error(replayed, 400, "Validation Error").await["field"],
            "since"
        );
    }
    let bad_time = app
        .post(
            &format!("{base}/replay"),
            &key,
            json!({ "since": "yesterday" }),
        )
        .await;
    assert_eq!(
        assert_error(bad_time, 400, "Validation Error").await["field"],
        "since"
    );
    let replayed = app
        .post(
            &format!("{base}/replay"),
            &key,
            json!({ "since": "2024-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(replayed.status(), 202);
    assert!(replayed.json::<Value>().await.unwrap()["queued"].is_u64());

    let limit = app.get(&format!("{base}/deliveries?limit=0"), &key).await;
    assert_eq!(
        assert_error(limit, 400, "Validation Error").await["field"],
        "limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_listed_private_addresses_are_accepted() {
    let app = TestApp::spawn_with(&[("WAGATE_WEBHOOK_ALLOW", "127.0.0.1")]).await;
    let (_, key) = app.tenant_with_key("acme").await;
    for url in ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook"] {
        let created = create(&app, &key, json!({ "url": url })).await;
        assert_eq!(created["url"], url);
    }
    let elsewhere = app
        .post(
            "/api/v1/webhooks",
            &key,
            json!({ "url": "http://10.0.0.1/" }),
        )
        .await;
    assert_error(elsewhere, 422, "Unprocessable Entity").await;
}
