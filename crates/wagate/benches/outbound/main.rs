//! Outbound queue throughput on a real `wagate serve` process over SQLite:
//! how many sends a second are accepted (each committed before the 202),
//! and how many messages a second reach wasim across linked sessions
//! (in [`delivery`]).
//!
//! `cargo bench -p wagate --features demo --bench outbound`
//! (`WAGATE_BENCH_ACCEPTS` and `WAGATE_BENCH_MESSAGES` set the counts;
//! `WAGATE_TEST_DATABASE=postgres` runs it on PostgreSQL, in a schema of
//! its own at `WAGATE_TEST_POSTGRES_URL`.)

mod delivery;
#[path = "../../tests/gateway/mod.rs"]
mod gateway;
#[path = "../shared/measure.rs"]
mod measure;

use gateway::{Api, Gateway, NO_PACING};
use measure::{CpuUse, count, percentile};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wagate_store::testing::{TestBackend, TestDatabase};

/// Concurrent HTTP clients (requests in flight), over one keep-alive pool.
const CLIENTS: usize = 64;
/// Sessions the accept benchmark queues to; never linked, so their
/// senders idle and only accepting is measured.
const IDLE_SESSIONS: usize = 20;
/// Linked sessions the end-to-end benchmark drains.
const LINKED_SESSIONS: usize = 50;
/// Contacts each session writes to.
const CONTACTS_EACH: usize = 4;

/// Where session `s`'s message `n` goes: a few contacts per session.
fn contact(s: usize, n: usize) -> String {
    format!("1555030{:04}", s * CONTACTS_EACH + n % CONTACTS_EACH)
}

/// Sends messages `0..total` from [`CLIENTS`] tasks, message `n` to
/// session `sessions[n % len]`; returns each request's latency.
async fn send_all(api: &Api, sessions: &[String], total: usize, tag: &str) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let clients = (0..CLIENTS).map(|_| {
        let (api, next, sessions, tag) = (api.clone(), next.clone(), sessions.to_vec(), tag.to_string());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return latencies;
                }
                let s = n % sessions.len();
                let path = format!("/api/v1/sessions/{}/messages", sessions[s]);
                let body = json!({ "to": format!("+{}", contact(s, n / sessions.len())), "text": format!("{tag} {n}") });
                let started = Instant::now();
                let (status, answer) = api.call(reqwest::Method::POST, &path, Some(body)).await;
                latencies.push(started.elapsed());
                assert_eq!(status, 202, "{path}: {answer}");
            }
        })
    });
    let mut all = Vec::with_capacity(total);
    for client in futures::future::join_all(clients).await {
        all.extend(client.unwrap());
    }
    all
}

/// Starts a gateway on a fresh database (SQLite in `dir`, or PostgreSQL
/// when the environment says so, kept as long as the returned handle);
/// returns it with its API.
async fn fresh_gateway(sim: &wasim::Sim, dir: &std::path::Path) -> (Gateway, Api, TestDatabase) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let database = TestDatabase::from_env().await;
    let mut env = NO_PACING.to_vec();
    if database.backend == TestBackend::Postgres {
        env.push(("WAGATE_DATABASE_URL", &database.url));
    }
    let mut gw = Gateway::start(dir, "bench", &sim.ws_url(), &env);
    gw.ready(&http).await;
    let api = Api {
        http,
        base: gw.base.clone(),
        sim: sim.admin_url(),
    };
    (gw, api, database)
}

async fn accept_bench(sim: &wasim::Sim, total: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (gw, api, _database) = fresh_gateway(sim, dir.path()).await;
    let sessions: Vec<String> = (0..IDLE_SESSIONS).map(|i| format!("idle{i:02}")).collect();
    for id in &sessions {
        api.create_session(id).await;
    }
    // Opens every keep-alive connection and warms the caches first.
    send_all(&api, &sessions, CLIENTS * 10, "warm-up").await;
    let (started, cpu) = (Instant::now(), CpuUse::now(&gw));
    let mut latencies = send_all(&api, &sessions, total, "accept").await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu.since(&gw, started.elapsed());
    latencies.sort();
    println!(
        "accept: {total} text sends from {CLIENTS} clients to {IDLE_SESSIONS} unlinked sessions in \
         {elapsed:.2} s = {:.0} accepted/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        total as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    println!("  {cpu}");
    gw.stop();
}

fn main() {
    let accepts = count("WAGATE_BENCH_ACCEPTS", 20_000);
    let messages = count("WAGATE_BENCH_MESSAGES", 10_000);
    println!(
        "outbound benchmark on {}, database {:?}",
        measure::machine(),
        TestBackend::from_env()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let sim = wasim::Sim::start().await.unwrap();
        accept_bench(&sim, accepts).await;
        delivery::delivery_bench(&sim, messages).await;
    });
}
