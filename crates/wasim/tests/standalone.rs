//! What load tests rely on: the `wasim` binary in its own process, the
//! media CA served over the admin API, and disconnecting every device at
//! once.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use whatsapp_rust::types::events::Event;

fn connected_count(client: &TestClient) -> usize {
    client.count(|e| matches!(e, Event::Connected(_)))
}

async fn connected_again(client: &TestClient, before: usize) {
    client
        .wait_all("another Connected", |events| {
            (events
                .iter()
                .filter(|e| matches!(***e, Event::Connected(_)))
                .count()
                > before)
                .then_some(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_all_with_515_brings_every_device_back_over_ik() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let a = paired_client(&sim, "15550001111").await;
    let b = paired_client(&sim, "15550002222").await;
    let (_, before) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    let counts = (connected_count(&a), connected_count(&b));

    let (status, body) = admin(
        &sim,
        reqwest::Method::POST,
        "/admin/disconnect-all",
        Some(serde_json::json!({"code": 515})),
    )
    .await;
    assert_eq!((status, body["closed"].as_u64()), (200, Some(2)), "{body}");
    connected_again(&a, counts.0).await;
    connected_again(&b, counts.1).await;

    let (_, after) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    let ik = |v: &serde_json::Value| v["handshakes"]["ik"].as_u64().unwrap_or(0);
    assert!(ik(&after) >= ik(&before) + 2, "{before} → {after}");
    assert_eq!(after["handshakes"]["xx"], before["handshakes"]["xx"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_ca_is_served_as_pem() {
    let sim = wasim::Sim::start().await.unwrap();
    let resp = reqwest::get(format!("{}/admin/media-ca", sim.admin_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), sim.media().ca_pem());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_its_addresses_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasim"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let (ws, admin, ca) = (next(), next(), next());
    assert!(
        ws.starts_with("ws ws://127.0.0.1:") && ws.ends_with("/ws/chat"),
        "{ws}"
    );
    let admin = admin.strip_prefix("admin ").unwrap().to_string();
    assert_eq!(ca, format!("media-ca {admin}/admin/media-ca"));

    let stats: serde_json::Value = reqwest::get(format!("{admin}/admin/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["connectedDevices"], 0);
    let pem = reqwest::get(format!("{admin}/admin/media-ca"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    // SAFETY: kill only signals the child this test started, by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}
