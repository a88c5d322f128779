//! The session routes: strangers, bad numbers, missing fields, wrong or
//! oversized files, malformed bodies, unknown paths and methods, each
//! answered with its status in the profile's shape and none queueing.

use super::{create, failure, gateway, post_json};
use crate::it::TestApp;
use crate::it::sending::{JPEG, PDF, file_of};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const KEY: &str = "abc-secret-key-123";

/// A file form to `+919876543210` with the file in part `part`.
fn form_with(part: &'static str, bytes: Vec<u8>, mimetype: &str) -> Form {
    Form::new()
        .text("to", "+919876543210")
        .text("caption", "x")
        .part(
            part,
            Part::bytes(bytes)
                .file_name("f")
                .mime_str(mimetype)
                .unwrap(),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_routes_refuse_strangers_and_bad_requests() {
    let app = TestApp::spawn_with(&[("WAGATE_MEDIA_MAX_IMAGE_BYTES", "40000")]).await;
    let (_, first) = app.tenant_with_key("First").await;
    let (_, second) = app.tenant_with_key("Second").await;
    create(
        &app,
        &first,
        json!({"sessionId": "client-abc", "apiKey": KEY}),
    )
    .await;
    let other = create(&app, &first, json!({"sessionId": "client-xyz"})).await;
    let other_key = other["apiKey"]
        .as_str()
        .expect("a generated key")
        .to_string();
    assert!(other_key.len() >= 16, "{other}");

    // The document's monitoring curl, with its placeholder key.
    let status = |key: Option<&str>| gateway(&app, Method::GET, "/client-abc/status", key).send();
    failure(status(None).await.unwrap(), 401, "Unauthorized").await;
    failure(status(Some("abc-key")).await.unwrap(), 403, "Forbidden").await;
    // Another tenant's key, or another session's, finds no such session.
    failure(status(Some(&second)).await.unwrap(), 404, "Not Found").await;
    failure(status(Some(&other_key)).await.unwrap(), 404, "Not Found").await;
    for (method, path) in [
        (Method::GET, "/client-abc/qr"),
        (Method::DELETE, "/client-abc"),
        (Method::GET, "/nobody/status"),
    ] {
        let response = gateway(&app, method, path, Some(&second))
            .send()
            .await
            .unwrap();
        failure(response, 404, "Not Found").await;
    }
    let foreign = post_json(
        &app,
        "/client-abc/send",
        &second,
        json!({"to": "+919876543210", "message": "x"}),
    );
    failure(foreign.await, 404, "Not Found").await;

    // Text: bad numbers, missing and empty fields, malformed bodies.
    for (body, field) in [
        (json!({"to": "12", "message": "x"}), "to"),
        (json!({"to": "call me", "message": "x"}), "to"),
        (json!({"to": "+919876543210"}), "message"),
        (json!({"message": "x"}), "to"),
        (json!({"to": "+919876543210", "message": ""}), "message"),
        (
            json!({"to": "+919876543210", "message": "x".repeat(4097)}),
            "message",
        ),
    ] {
        let response = post_json(&app, "/client-abc/send", KEY, body.clone()).await;
        let answer = failure(response, 400, "Validation Error").await;
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{body}: {answer}"
        );
    }
    let send = |content_type: &'static str, body: &'static str| {
        gateway(&app, Method::POST, "/client-abc/send", Some(KEY))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    failure(
        send("application/json", "{\"to\": \"+91").await.unwrap(),
        400,
        "Bad Request",
    )
    .await;
    failure(
        send("application/json", "[]").await.unwrap(),
        400,
        "Bad Request",
    )
    .await;
    failure(
        send("text/plain", "hello").await.unwrap(),
        415,
        "Unsupported Media Type",
    )
    .await;

    // Files: the part must match the route, be there, and fit the limit.
    let upload = |route: &str, form: Form| {
        gateway(
            &app,
            Method::POST,
            &format!("/client-abc/{route}"),
            Some(KEY),
        )
        .multipart(form)
        .send()
    };
    let photo = file_of(JPEG, 10_000, 51);
    let pdf = file_of(PDF, 10_000, 52);
    let wrong = upload(
        "send-image",
        form_with("document", pdf.clone(), "application/pdf"),
    );
    let wrong = failure(wrong.await.unwrap(), 400, "Validation Error").await;
    assert!(
        wrong["message"].as_str().unwrap().starts_with("image"),
        "{wrong}"
    );
    let wrong = upload(
        "send-document",
        form_with("image", photo.clone(), "image/jpeg"),
    );
    failure(wrong.await.unwrap(), 400, "Validation Error").await;
    let none = upload("send-image", Form::new().text("to", "+919876543210"));
    failure(none.await.unwrap(), 400, "Validation Error").await;
    let not_image = upload(
        "send-image",
        form_with("image", pdf.clone(), "application/octet-stream"),
    );
    failure(not_image.await.unwrap(), 400, "Validation Error").await;
    let unknown = upload(
        "send-image",
        form_with("image", photo.clone(), "image/jpeg").text("colour", "red"),
    );
    failure(unknown.await.unwrap(), 400, "Validation Error").await;
    let huge = upload(
        "send-image",
        form_with("image", file_of(JPEG, 50_000, 53), "image/jpeg"),
    );
    failure(huge.await.unwrap(), 413, "Payload Too Large").await;
    let broken = gateway(&app, Method::POST, "/client-abc/send-image", Some(KEY))
        .header("Content-Type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n+91")
        .send();
    failure(broken.await.unwrap(), 400, "Bad Request").await;
    let as_json = post_json(
        &app,
        "/client-abc/send-image",
        KEY,
        json!({"to": "+919876543210"}),
    );
    failure(as_json.await, 415, "Unsupported Media Type").await;

    // Unknown paths and methods under the prefix.
    for (method, path, status, kind) in [
        (Method::PUT, "/client-abc/send", 405, "Method Not Allowed"),
        (
            Method::GET,
            "/client-abc/send-image",
            405,
            "Method Not Allowed",
        ),
        (Method::DELETE, "/sessions", 405, "Method Not Allowed"),
        (Method::GET, "/client-abc/messages", 404, "Not Found"),
        (Method::GET, "/client-abc/status/extra", 404, "Not Found"),
        (Method::GET, "", 404, "Not Found"),
    ] {
        let response = gateway(&app, method.clone(), path, Some(KEY))
            .send()
            .await
            .unwrap();
        failure(response, status, kind).await;
    }
    // Nothing was queued by any of it.
    let queued = app
        .read("/api/v1/sessions/client-abc/messages", &first)
        .await;
    assert_eq!(queued["items"], json!([]), "{queued}");
    app.stop().await;
}
