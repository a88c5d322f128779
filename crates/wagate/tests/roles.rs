//! Nodes with split roles on one PostgreSQL database: an API-only node
//! (it runs no session) and an engine node (it serves no API). Everything
//! asked of the API-only node reaches the engine node through the
//! database: creating and linking a session, a pairing code, sending,
//! logging out.
//!
//! `cargo test -p wagate --all-features --test roles -- --nocapture`

mod gateway;

use serde_json::json;
use wagate_store::testing::{TestBackend, TestDatabase};

#[path = "cluster/mod.rs"]
mod cluster;
use cluster::{Cluster, contact_phone, send_and_see, session_id, session_phone};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_only_node_reaches_sessions_on_an_engine_node() {
    let sim = wasim::Sim::start().await.unwrap();
    let db = TestDatabase::create(TestBackend::Postgres).await;
    let api_only: &[(&str, &str)] = &[("WAGATE_ROLES", "api")];
    let engine_only: &[(&str, &str)] = &[("WAGATE_ROLES", "engine,sender,webhooks")];
    let mut cluster = Cluster::start_each(&sim, &db, &[api_only, engine_only]).await;
    let (api, engine_node) = (cluster.api(0), cluster.ids[1].clone());

    // The engine node serves health and metrics only.
    let (status, _) = cluster
        .api(1)
        .call(reqwest::Method::GET, "/api/v1/sessions", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = cluster
        .api(1)
        .call(reqwest::Method::GET, "/health", None)
        .await;
    assert_eq!(status, 200);
    let nodes = api.get("/api/v1/admin/nodes").await;
    let roles: Vec<_> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["roles"].clone())
        .collect();
    assert!(roles.contains(&json!(["api"])), "{nodes}");
    assert!(
        roles.contains(&json!(["engine", "sender", "webhooks"])),
        "{nodes}"
    );

    // Created, shown a QR and linked through the API-only node.
    api.link(&session_id(0), &session_phone(0)).await;
    let session = api
        .get(&format!("/api/v1/sessions/{}", session_id(0)))
        .await;
    assert_eq!(session["node"], engine_node.as_str(), "{session}");

    // A pairing code for another session comes back from the engine node.
    api.create_session(&session_id(1)).await;
    let path = format!("/api/v1/sessions/{}/pair-code", session_id(1));
    let (status, answer) = api
        .call(
            reqwest::Method::POST,
            &path,
            Some(json!({ "phoneNumber": session_phone(1) })),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let code = answer["pairCode"]
        .as_str()
        .or(answer["code"].as_str())
        .unwrap_or_default();
    assert_eq!(code.len(), 8, "{answer}");

    // A message sent through the API-only node leaves from the engine node.
    send_and_see(&api, &session_id(0), &contact_phone(0), "from the api node").await;

    // Logging out through the API-only node unlinks the phone.
    let path = format!("/api/v1/sessions/{}/logout", session_id(0));
    let (status, answer) = api.call(reqwest::Method::POST, &path, None).await;
    assert!(status == 200 || status == 202, "{status} {answer}");
    let session = api
        .get(&format!("/api/v1/sessions/{}", session_id(0)))
        .await;
    assert_eq!(session["status"], "logged_out", "{session}");
    cluster.stop_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_moves_a_session_to_a_named_node_without_losing_a_message() {
    let sim = wasim::Sim::start().await.unwrap();
    let db = TestDatabase::create(TestBackend::Postgres).await;
    let paced: &[(&str, &str)] = &[
        ("WAGATE_SEND_MIN_INTERVAL_MS", "200"),
        ("WAGATE_SEND_JITTER_PERCENT", "0"),
    ];
    let mut cluster = Cluster::start(&sim, &db, 2, paced).await;
    let (api, from, to) = (
        cluster.api(0),
        cluster.ids[0].clone(),
        cluster.ids[1].clone(),
    );
    api.link(&session_id(0), &session_phone(0)).await;
    let placement = cluster.placement().await;
    assert_eq!(placement[&session_id(0)], from);
    let queued = cluster.queue_elsewhere(&placement, 10).await;

    // Asked of the node that does not run it: the command travels.
    let path = format!("/api/v1/sessions/{}/move", session_id(0));
    let (status, moved) = cluster
        .api(1)
        .call(reqwest::Method::POST, &path, Some(json!({ "node": to })))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["node"], to.as_str(), "{moved}");
    api.connected(&session_id(0)).await;
    let (status, refused) = api
        .call(
            reqwest::Method::POST,
            &path,
            Some(json!({ "node": "node_nowhere" })),
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    cluster.drained(&api, 1).await;
    let copies = cluster::check_inboxes(&api, &queued).await;
    println!("after the move, entries by copies: {copies:?}");
    let stats = api.sim_get("/admin/stats").await;
    assert_eq!(stats["overlappingLogins"], 0, "{stats}");
    cluster.stop_all();
}
