//! A node frozen (SIGSTOP) for twice the lease TTL while it runs sessions:
//! the other node takes them over; when the frozen one wakes (SIGCONT) it
//! stops them instead of reconnecting, and nothing it writes under its
//! old epoch lands — the sessions stay as their new node recorded them
//! and keep working there.
//!
//! `cargo test -p wagate --all-features --test fencing -- --nocapture`

mod gateway;

use gateway::eventually;
use std::time::{Duration, Instant};
use wagate_store::testing::{TestBackend, TestDatabase};

#[path = "cluster/mod.rs"]
mod cluster;
use cluster::{Cluster, back_elsewhere, session_id};

const SESSIONS: usize = 4;
const TTL: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_wakes_to_find_its_sessions_gone_and_writes_nothing() {
    let sim = wasim::Sim::start().await.unwrap();
    let db = TestDatabase::create(TestBackend::Postgres).await;
    let ttl_ms = TTL.as_millis().to_string();
    let cluster = Cluster::start(&sim, &db, 2, &[("WAGATE_LEASE_TTL_MS", &ttl_ms)]).await;
    let (frozen, other) = (cluster.ids[0].clone(), cluster.api(1));
    // All linked through the node to freeze, so it runs them all.
    futures::future::join_all((0..SESSIONS).map(|i| {
        let api = cluster.api(0);
        async move { api.link(&session_id(i), &cluster::session_phone(i)).await }
    }))
    .await;
    let placement = cluster.placement().await;
    assert!(placement.values().all(|n| *n == frozen), "{placement:?}");

    let stopped_at = chrono::Utc::now();
    let stop_clock = Instant::now();
    cluster.signal(0, "-STOP");
    let moved = eventually("sessions on the other node", TTL * 6, async || {
        let listed = other.get("/api/v1/sessions").await;
        let sessions = listed["sessions"].as_array().unwrap().clone();
        let all = sessions
            .iter()
            .all(|s| back_elsewhere(s, &frozen, stopped_at));
        (all && stop_clock.elapsed() >= TTL * 2).then_some(sessions)
    })
    .await;
    let before = other.sim_get("/admin/stats").await;
    println!(
        "taken over within {:.1?} of the SIGSTOP; wasim: {before}",
        stop_clock.elapsed()
    );
    cluster.signal(0, "-CONT");
    let woke_at = chrono::Utc::now();

    // Awake again: its next heartbeat reports no session held.
    eventually(
        "the woken node's heartbeat",
        Duration::from_secs(30),
        async || {
            let nodes = other.get("/api/v1/admin/nodes").await;
            let me = nodes["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"] == frozen.as_str())?
                .clone();
            let beat = chrono::DateTime::parse_from_rfc3339(me["lastHeartbeat"].as_str()?).ok()?;
            (beat >= woke_at && me["sessionCount"] == 0).then_some(())
        },
    )
    .await;
    let log = std::fs::read_to_string(&cluster.node(0).log).unwrap();
    for i in 0..SESSIONS {
        let line = format!("session={}", session_id(i));
        assert!(
            log.lines().any(|l| l.contains(&line)
                && (l.contains("lease lost") || l.contains("replaced the session"))),
            "{line} not stopped on the woken node:\n{}",
            cluster.node(0).log_tail()
        );
    }

    // What the new node recorded stands: nothing from the old epoch.
    let after = other.get("/api/v1/sessions").await;
    for (was, now) in moved.iter().zip(after["sessions"].as_array().unwrap()) {
        for field in ["sessionId", "status", "node", "lastConnected", "qrCode"] {
            assert_eq!(was[field], now[field], "{field} changed: {now}");
        }
    }
    // It did not log in again for them, nor knock the new node off.
    let stats = other.sim_get("/admin/stats").await;
    for counter in ["logins", "overlappingLogins", "linkedDevices"] {
        assert_eq!(
            before[counter], stats[counter],
            "{counter}: {before} → {stats}"
        );
    }
    let refused = log
        .lines()
        .filter(|l| l.contains("no longer holds the session's lease"))
        .count();
    println!("the woken node tried {refused} writes its old epoch fenced off");

    // The sessions still work on their new node, Signal state intact.
    let to = cluster::contact_phone(0);
    cluster::send_and_see(&other, &session_id(0), &to, "after the freeze").await;
    let mut cluster = cluster;
    cluster.stop_all();
}
