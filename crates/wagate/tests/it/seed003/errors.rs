//! Every error the document lists, with its exact body, and bad input of
//! every other sort on every route: always `{"error", "message"}` with a
//! 4xx, never a 500 or the native shape.

use super::super::TestApp;
use super::{Gateway, assert_error_body, assert_error_shape};
use reqwest::Method;
use serde_json::{Value, json};

const ROUTES: [(&str, &str); 4] = [
    ("POST", "/sessions/init"),
    ("GET", "/sessions/my-session"),
    ("DELETE", "/sessions/my-session"),
    ("POST", "/messages/send"),
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn missing_and_wrong_tokens_get_401_and_403() {
    let app = TestApp::spawn().await;
    for (name, path) in ROUTES {
        let request = app.http.request(method(name), app.url(path));
        let (status, body) = answer(request.send().await.unwrap()).await;
        assert_error_body(
            status,
            &body,
            401,
            "Unauthorized",
            "Missing authorization header",
        );

        let request = app
            .http
            .request(method(name), app.url(path))
            .header("Authorization", "Bearer not-the-secret")
            .json(&json!({"sessionId": "my-session", "to": "5511999999999", "message": "Hi"}));
        let (status, body) = answer(request.send().await.unwrap()).await;
        assert_error_body(status, &body, 403, "Forbidden", "Invalid API token");
    }
    // A revoked key is no longer valid either.
    let tenant = app.create_tenant("acme").await;
    let (id, key) = app
        .create_key(
            &app.admin_key,
            json!({"scope": "tenant", "tenantId": tenant}),
        )
        .await;
    let revoked = app
        .delete(&format!("/api/v1/keys/{id}"), &app.admin_key)
        .await;
    assert_eq!(revoked.status(), 204);
    let (status, body) = Gateway::new(&app, &key).status("my-session").await;
    assert_error_body(status, &body, 403, "Forbidden", "Invalid API token");
}

#[tokio::test]
async fn each_field_rule_has_its_validation_error() {
    let app = TestApp::spawn().await;
    let gateway = Gateway::new(&app, &app.admin_key);
    let bad_chars = "sessionId must contain only alphanumeric characters, underscores, and hyphens";

    let (status, body) = gateway.init("my session!").await;
    assert_error_body(status, &body, 400, "Validation Error", bad_chars);
    let (status, body) = gateway.init(&"a".repeat(65)).await;
    assert_error_body(
        status,
        &body,
        400,
        "Validation Error",
        "sessionId must be at most 64 characters",
    );
    let (status, body) = gateway.init("").await;
    assert_error_body(
        status,
        &body,
        400,
        "Validation Error",
        "sessionId must not be empty",
    );
    let init = |body: Value| gateway.call(Method::POST, "/sessions/init", Some(body));
    let (status, body) = init(json!({})).await;
    assert_error_body(
        status,
        &body,
        400,
        "Validation Error",
        "sessionId is required",
    );
    let (status, body) = init(json!({"sessionId": 42})).await;
    assert_error_body(
        status,
        &body,
        400,
        "Validation Error",
        "sessionId must be a string",
    );

    let (status, body) = gateway.status("bad.id").await;
    assert_error_body(status, &body, 400, "Validation Error", bad_chars);
    let (status, body) = gateway.delete("bad.id").await;
    assert_error_body(status, &body, 400, "Validation Error", bad_chars);

    let digits = "to must be 10-20 digits: the phone number with country code, without '+', spaces or dashes";
    for to in [
        "+5511999999999",
        "55 11 99999-9999",
        "141555512",
        &"1".repeat(21),
        "55119999abcd",
    ] {
        let (status, body) = gateway.send("my-session", to, "Hello!").await;
        assert_error_body(status, &body, 400, "Validation Error", digits);
    }
    let length = "message must be 1-4096 characters";
    for message in [String::new(), "x".repeat(4097)] {
        let (status, body) = gateway.send("my-session", "5511999999999", &message).await;
        assert_error_body(status, &body, 400, "Validation Error", length);
    }
    let (status, body) = gateway.send("my session", "5511999999999", "Hi").await;
    assert_error_body(status, &body, 400, "Validation Error", bad_chars);
    let send = |body: Value| gateway.call(Method::POST, "/messages/send", Some(body));
    for (body, message) in [
        (
            json!({"to": "5511999999999", "message": "Hi"}),
            "sessionId is required",
        ),
        (json!({"sessionId": "s", "message": "Hi"}), "to is required"),
        (
            json!({"sessionId": "s", "to": "5511999999999"}),
            "message is required",
        ),
        (
            json!({"sessionId": "s", "to": 5511999999999u64, "message": "Hi"}),
            "to must be a string",
        ),
        (
            json!({"sessionId": "s", "to": "5511999999999", "message": ["Hi"]}),
            "message must be a string",
        ),
    ] {
        let (status, answer) = send(body).await;
        assert_error_body(status, &answer, 400, "Validation Error", message);
    }
}

#[tokio::test]
async fn malformed_bodies_and_other_methods_answer_in_the_documents_shape() {
    let app = TestApp::spawn().await;
    let bearer = format!("Bearer {}", app.admin_key);
    for path in ["/sessions/init", "/messages/send"] {
        let post = || {
            app.http
                .post(app.url(path))
                .header("Authorization", &bearer)
        };
        let cases = [
            post()
                .header("Content-Type", "application/json")
                .body("{\"sessionId\": "),
            post()
                .header("Content-Type", "application/json")
                .body("[\"my-session\"]"),
            post()
                .header("Content-Type", "application/json")
                .body("\"my-session\""),
            post().header("Content-Type", "application/json"),
            post()
                .header("Content-Type", "text/plain")
                .body("{\"sessionId\": \"a\"}"),
            post().body("sessionId=my-session"),
            post(),
        ];
        for request in cases {
            let (status, body) = answer(request.send().await.unwrap()).await;
            assert_error_shape(status, &body, 400, "Bad Request");
        }
    }
    let other_methods = [
        ("PUT", "/sessions/init"),
        ("PATCH", "/sessions/my-session"),
        ("POST", "/sessions/my-session"),
        ("GET", "/messages/send"),
        ("DELETE", "/messages/send"),
    ];
    for (name, path) in other_methods {
        let request = app
            .http
            .request(method(name), app.url(path))
            .header("Authorization", &bearer);
        let (status, body) = answer(request.send().await.unwrap()).await;
        let message = assert_error_shape(status, &body, 405, "Bad Request");
        assert_eq!(message, format!("Cannot {name} {path}"));
    }
}

#[tokio::test]
async fn keys_reach_only_their_tenants_and_sessions() {
    let app = TestApp::spawn().await;
    let (_, acme) = app.tenant_with_key("acme").await;
    let (_, globex) = app.tenant_with_key("globex").await;
    let acme_gateway = Gateway::new(&app, &acme);
    let (status, init) = acme_gateway.init("shared-name").await;
    assert_eq!(status, 200, "{init}");

    // Another tenant's session does not exist for globex's key...
    let globex_gateway = Gateway::new(&app, &globex);
    let not_found = "Session 'shared-name' not found";
    let (status, body) = globex_gateway.status("shared-name").await;
    assert_error_body(status, &body, 404, "Not Found", not_found);
    let (status, body) = globex_gateway
        .send("shared-name", "5511999999999", "Hi")
        .await;
    assert_error_body(status, &body, 404, "Not Found", not_found);
    let (status, body) = globex_gateway.delete("shared-name").await;
    assert_error_body(status, &body, 404, "Not Found", not_found);
    // ...and its init makes globex a session of the same name.
    let (status, init) = globex_gateway.init("shared-name").await;
    assert_eq!(status, 200, "{init}");
    let sessions = app.read("/api/v1/sessions", &app.admin_key).await;
    let named = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["sessionId"] == "shared-name")
        .count();
    assert_eq!(named, 2, "{sessions}");

    // A session key reaches its own session only, and creates none.
    let (_, own) = app
        .create_key(
            &acme,
            json!({"scope": "session", "sessionId": "shared-name"}),
        )
        .await;
    let session_gateway = Gateway::new(&app, &own);
    let (status, body) = session_gateway.status("shared-name").await;
    assert_eq!(
        (status, &body["sessionId"]),
        (200, &json!("shared-name")),
        "{body}"
    );
    let (status, body) = session_gateway.init("other").await;
    assert_error_body(status, &body, 404, "Not Found", "Session 'other' not found");
    let (status, body) = acme_gateway.status("other").await;
    assert_error_body(status, &body, 404, "Not Found", "Session 'other' not found");
}
