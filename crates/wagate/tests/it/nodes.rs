//! Nodes end to end: the running process lists itself, only admins see
//! the list, and a clean restart leaves the old node stopped beside a new
//! running one.

use super::{TestApp, assert_error, eventually};
use serde_json::{Value, json};
use std::time::Duration;

async fn nodes(app: &TestApp) -> Vec<Value> {
    let body = app.read("/api/v1/admin/nodes", &app.admin_key).await;
    body["nodes"].as_array().expect("a nodes list").clone()
}

/// The nodes once `check` holds for them.
async fn nodes_until(app: &TestApp, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually(Duration::from_secs(10), || async {
        let nodes = nodes(app).await;
        check(&nodes).then_some(nodes)
    })
    .await
}

fn is_rfc3339_millis(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.ends_with('Z')
            && s.len() == "2024-01-15T10:30:00.000Z".len()
            && chrono::DateTime::parse_from_rfc3339(s).is_ok()
    })
}

#[tokio::test]
async fn the_running_node_lists_itself_to_admins() {
    let app = TestApp::spawn().await;
    let listed = nodes_until(&app, |n| n.len() == 1).await;
    let node = &listed[0];
    assert_eq!(node["state"], "running", "{node}");
    assert_eq!(node["version"], env!("CARGO_PKG_VERSION"), "{node}");
    assert_eq!(node["address"], app.base, "{node}");
    assert_eq!(
        node["roles"],
        json!(["api", "engine", "sender", "webhooks"]),
        "{node}"
    );
    let id = node["id"].as_str().unwrap();
    let digits = id.strip_prefix("node_").expect("node_ prefix");
    assert!(
        digits.len() == 16 && digits.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(is_rfc3339_millis(&node["startedAt"]), "{node}");
    assert!(is_rfc3339_millis(&node["lastHeartbeat"]), "{node}");
    assert_eq!(node["sessionCount"], 0, "{node}");

    let (_, tenant_key) = app.tenant_with_key("acme").await;
    assert_error(
        app.get("/api/v1/admin/nodes", &tenant_key).await,
        403,
        "Forbidden",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_restart_stops_the_old_node_and_starts_a_new_one() {
    let app = TestApp::spawn().await;
    let before = nodes_until(&app, |n| n.len() == 1).await;
    let old_id = before[0]["id"].as_str().unwrap().to_string();

    let app = app.restart().await;
    let after = nodes_until(&app, |n| n.len() == 2).await;
    let state_of = |id: &str| {
        after
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["state"].clone())
    };
    assert_eq!(state_of(&old_id), Some(json!("stopped")), "{after:?}");
    let new = after.iter().find(|n| n["id"] != old_id.as_str()).unwrap();
    assert_eq!(new["state"], "running", "{after:?}");
    assert_eq!(new["address"], app.base, "{after:?}");
    app.stop().await;
}
