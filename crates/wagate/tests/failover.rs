//! Three `wagate serve` processes on one PostgreSQL database, sixty
//! sessions spread over them. One is killed with SIGKILL while its
//! sessions have messages queued: the other two take its sessions over
//! from the database (no new QR) within the lease's time, WhatsApp never
//! sees two live sockets for one device, and every queued message reaches
//! its contact once, under the id it was accepted with.
//!
//! `cargo test -p wagate --all-features --test failover -- --nocapture`
//! prints the failover times.

mod gateway;

use gateway::{POLL, until};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use wagate_store::testing::{TestBackend, TestDatabase};

#[path = "cluster/mod.rs"]
mod cluster;
use cluster::{Cluster, back_elsewhere};

const NODES: usize = 3;
const SESSIONS: usize = 60;
const PER_SESSION: usize = 10;
/// The bound on the slowest session's failover.
const FAILOVER_BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_s_sessions_move_to_the_others_without_loss_or_overlap() {
    let started = Instant::now();
    let sim = wasim::Sim::start().await.unwrap();
    let db = TestDatabase::create(TestBackend::Postgres).await;
    // Paced, so the killed node's sessions still have messages queued
    // when it dies.
    let paced = [
        ("WAGATE_SEND_MIN_INTERVAL_MS", "400"),
        ("WAGATE_SEND_JITTER_PERCENT", "0"),
    ];
    let mut cluster = Cluster::start(&sim, &db, NODES, &paced).await;
    cluster.link_round_robin(SESSIONS).await;
    println!(
        "linked {SESSIONS} sessions over {NODES} nodes by {:.1?}",
        started.elapsed()
    );
    let placement = cluster.placement().await;
    for node in &cluster.ids {
        let held = placement.values().filter(|n| *n == node).count();
        assert_eq!(held, SESSIONS / NODES, "{node} runs {held}: {placement:?}");
    }

    // Queued through a node other than the session's own: the owner hears
    // of it by notification.
    let victim = cluster.ids[0].clone();
    let queued = cluster.queue_elsewhere(&placement, PER_SESSION).await;
    let victims: Vec<String> = placement
        .iter()
        .filter(|(_, n)| **n == victim)
        .map(|(s, _)| s.clone())
        .collect();
    let killed_at = chrono::Utc::now();
    let kill_clock = Instant::now();
    cluster.kill(0);
    println!("killed {victim} at {:.1?}", started.elapsed());
    let api = cluster.api(1);
    let unsent = cluster.unsent(&api, &victims).await;
    println!(
        "at the kill, {unsent} of the killed node's {} messages were not sent yet",
        victims.len() * PER_SESSION
    );
    assert!(
        unsent > 0,
        "the killed node had sent everything: nothing to fail over"
    );

    let mut moved: HashMap<String, Duration> = HashMap::new();
    until(FAILOVER_BOUND * 2, POLL, async || {
        let seen = kill_clock.elapsed();
        for s in api.get("/api/v1/sessions").await["sessions"]
            .as_array()
            .unwrap()
        {
            let id = s["sessionId"].as_str().unwrap();
            if victims.iter().any(|v| v == id)
                && !moved.contains_key(id)
                && back_elsewhere(s, &victim, killed_at)
            {
                moved.insert(id.to_string(), seen);
            }
        }
        (moved.len() == victims.len()).then_some(())
    })
    .await;
    assert_eq!(moved.len(), victims.len(), "not all moved: {moved:?}");
    let mut times: Vec<Duration> = moved.values().copied().collect();
    times.sort();
    let p50 = times[times.len() / 2];
    let p99 = times[(times.len() * 99).div_ceil(100) - 1];
    println!(
        "failover of {} sessions: p50 {p50:.1?}, p99 {p99:.1?}, max {:.1?} (lease TTL 10 s)",
        times.len(),
        times.last().unwrap()
    );
    assert!(p99 < FAILOVER_BOUND, "p99 {p99:?}");

    let after = cluster.placement().await;
    for (session, node) in &after {
        assert_ne!(*node, victim, "{session} still on the killed node");
    }
    let counts: BTreeMap<&String, usize> = after.values().fold(BTreeMap::new(), |mut m, n| {
        *m.entry(n).or_default() += 1;
        m
    });
    println!("sessions per node after the failover: {counts:?}");

    cluster.drained(&api, SESSIONS).await;
    let copies = cluster::check_inboxes(&api, &queued).await;
    println!("inbox entries by copies: {copies:?}");
    let stats = api.sim_get("/admin/stats").await;
    assert_eq!(
        stats["overlappingLogins"], 0,
        "two sockets for one device: {stats}"
    );
    println!("wasim: {stats}");
    cluster.stop_all();
    println!("whole test: {:.1?}", started.elapsed());
}
