//! Three `wagate serve` processes on one PostgreSQL database: how many
//! sends a second the cluster accepts (each committed before its 202,
//! requests spread over the nodes), how 300 linked sessions spread over
//! the nodes, and how long the sessions of a node killed with SIGKILL take
//! to be connected again on the others.
//!
//! `cargo bench -p wagate --features demo --bench cluster`
//! (`WAGATE_BENCH_SESSIONS` and `WAGATE_BENCH_ACCEPTS` set the counts; the
//! database is a schema of its own at `WAGATE_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`.)

#[path = "../tests/cluster/mod.rs"]
mod cluster;
#[path = "../tests/gateway/mod.rs"]
mod gateway;
#[path = "shared/measure.rs"]
mod measure;

use cluster::{Cluster, back_elsewhere, session_id, session_phone};
use gateway::{Api, POLL, until};
use measure::{count, machine, percentile};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wagate_store::testing::{TestBackend, TestDatabase};

const NODES: usize = 3;
/// Concurrent HTTP clients for the accept measurement.
const CLIENTS: usize = 64;
/// Never-linked sessions the accept measurement queues to: their senders
/// idle, so only accepting is measured.
const IDLE: usize = 30;
/// Sessions linked at once (QR, scan, connected).
const LINK_WAVE: usize = 30;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sessions = count("WAGATE_BENCH_SESSIONS", 300);
    let accepts = count("WAGATE_BENCH_ACCEPTS", 6000);
    println!(
        "cluster benchmark: {NODES} nodes on PostgreSQL; {}",
        machine()
    );
    let sim = wasim::Sim::start().await.unwrap();
    let db = TestDatabase::create(TestBackend::Postgres).await;
    let mut cluster = Cluster::start(&sim, &db, NODES, &[]).await;
    let apis: Vec<Api> = (0..NODES).map(|i| cluster.api(i)).collect();

    let idle: Vec<String> = (0..IDLE).map(|i| format!("idle{i:02}")).collect();
    for (i, id) in idle.iter().enumerate() {
        apis[i % NODES].create_session(id).await;
    }
    let (wall, latencies) = accept_all(&apis, &idle, accepts).await;
    println!(
        "accepted sends: {accepts} in {wall:.2?} = {:.0}/s over {NODES} nodes (p50 {:.1} ms, p99 {:.1} ms)",
        accepts as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );

    let started = Instant::now();
    for wave in (0..sessions).collect::<Vec<_>>().chunks(LINK_WAVE) {
        futures::future::join_all(wave.iter().map(|&i| {
            let api = apis[i % NODES].clone();
            async move { api.link(&session_id(i), &session_phone(i)).await }
        }))
        .await;
    }
    println!("linked {sessions} sessions in {:.1?}", started.elapsed());
    let placement = linked(&cluster.placement().await);
    println!(
        "sessions per node: {:?}",
        per_node(&placement, &cluster.ids)
    );

    let victim = cluster.ids[0].clone();
    let victims: Vec<&String> = placement
        .iter()
        .filter(|(_, n)| **n == victim)
        .map(|(s, _)| s)
        .collect();
    let killed_at = chrono::Utc::now();
    let clock = Instant::now();
    cluster.kill(0);
    let api = &apis[1];
    let mut moved: HashMap<String, Duration> = HashMap::new();
    until(Duration::from_secs(120), POLL, async || {
        let seen = clock.elapsed();
        for s in api.get("/api/v1/sessions").await["sessions"]
            .as_array()
            .unwrap()
        {
            let id = s["sessionId"].as_str().unwrap();
            if victims.iter().any(|v| *v == id)
                && !moved.contains_key(id)
                && back_elsewhere(s, &victim, killed_at)
            {
                moved.insert(id.to_string(), seen);
            }
        }
        (moved.len() == victims.len()).then_some(())
    })
    .await;
    let mut times: Vec<Duration> = moved.values().copied().collect();
    times.sort();
    println!(
        "failover after SIGKILL of a node with {} sessions: {} moved; p50 {:.1} s, p99 {:.1} s, max {:.1} s (lease TTL 10 s)",
        victims.len(),
        times.len(),
        percentile(&times, 0.50) / 1000.0,
        percentile(&times, 0.99) / 1000.0,
        times.last().map_or(f64::NAN, Duration::as_secs_f64),
    );
    let after = linked(&cluster.placement().await);
    println!(
        "sessions per node after: {:?}",
        per_node(&after, &cluster.ids[1..])
    );
    let stats = api.sim_get("/admin/stats").await;
    println!("wasim overlapping logins: {}", stats["overlappingLogins"]);
    cluster.stop_all();
}

/// The linked sessions of a placement (the idle ones left out).
fn linked(placement: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    placement
        .iter()
        .filter(|(s, _)| !s.starts_with("idle"))
        .map(|(s, n)| (s.clone(), n.clone()))
        .collect()
}

fn per_node(placement: &BTreeMap<String, String>, ids: &[String]) -> Vec<usize> {
    ids.iter()
        .map(|id| placement.values().filter(|n| *n == id).count())
        .collect()
}

/// Sends `total` single messages from [`CLIENTS`] tasks, request `n` to
/// node `n % nodes`; returns the wall time and each request's latency.
async fn accept_all(apis: &[Api], sessions: &[String], total: usize) -> (Duration, Vec<Duration>) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients = (0..CLIENTS).map(|_| {
        let (apis, next, sessions) = (apis.to_vec(), next.clone(), sessions.to_vec());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return latencies;
                }
                let path = format!("/api/v1/sessions/{}/messages", sessions[n % sessions.len()]);
                let body = json!({ "to": format!("+1555050{:04}", n % 100), "text": format!("accept {n}") });
                let sent = Instant::now();
                let (status, answer) = apis[n % apis.len()].call(reqwest::Method::POST, &path, Some(body)).await;
                latencies.push(sent.elapsed());
                assert_eq!(status, 202, "{path}: {answer}");
            }
        })
    });
    let mut all = Vec::with_capacity(total);
    for client in futures::future::join_all(clients).await {
        all.extend(client.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    (wall, all)
}
