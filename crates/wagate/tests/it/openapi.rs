//! The committed openapi.json is the document the handlers generate.

use super::TestApp;
use serde_json::Value;
use std::path::Path;

const REGENERATE: &str = "cargo run -p wagate -- openapi > openapi.json";

#[test]
fn committed_document_matches_the_handlers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; create it with `{REGENERATE}`",
            path.display()
        )
    });
    let generated = wagate_api::openapi::document_json();
    assert!(
        committed == generated,
        "openapi.json is out of date with the handlers; regenerate it from the repository root with `{REGENERATE}`"
    );
}

#[tokio::test]
async fn document_is_served() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let served: Value = response.json().await.unwrap();
    let generated: Value = serde_json::from_str(&wagate_api::openapi::document_json()).unwrap();
    assert_eq!(served, generated);
    assert!(served["paths"]["/api/v1/sessions/{id}/messages"]["post"].is_object());
}
