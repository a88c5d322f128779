//! Health, readiness and metrics need no key.

use super::TestApp;
use serde_json::Value;

#[tokio::test]
async fn health_and_ready() {
    let app = TestApp::spawn().await;
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "{timestamp}"
    );

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // Without a database the app is alive but not ready.
    app.store().db().close().await;
    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["error"], "Service Unavailable");
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn metrics_in_prometheus_format() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, "s1").await;
    app.qr_of(&app.admin_key, "s1").await;
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "# TYPE wagate_sessions gauge",
        "wagate_sessions{status=\"qr\"} 1",
        "wagate_sessions{status=\"disconnected\"} 0",
        "wagate_sessions{status=\"connected\"} 0",
        "# TYPE wagate_messages_sent_total counter",
        "wagate_messages_failed_total 0",
        "wagate_reconnects_total 0",
        "# TYPE wagate_http_request_duration_seconds histogram",
        "wagate_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/sessions\",status=\"201\",le=\"+Inf\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}
