//! Memory per connected session and restore time, measured on a real
//! `wagate serve` process whose sessions are linked to a wasim.
//!
//! `cargo bench -p wagate --features demo --bench sessions`
//! (`WAGATE_BENCH_N` sets the session count, default 1000.)

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_KEY: &str = "bench-admin-key-0123456789";
/// Sessions linked at once; keeps every QR well inside its 60 s life.
const BATCH: usize = 100;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Gateway {
    child: Child,
    base: String,
}

impl Gateway {
    fn start(dir: &std::path::Path, port: u16, ws_url: &str) -> Gateway {
        let child = Command::new(env!("CARGO_BIN_EXE_wagate"))
            .arg("serve")
            .env(
                "WAGATE_DATABASE_URL",
                format!("sqlite://{}", dir.join("wagate.db").display()),
            )
            .env("WAGATE_ADMIN_KEY", ADMIN_KEY)
            .env("WAGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("WAGATE_WA_URL", ws_url)
            .env("WAGATE_WA_VERSION", "2.3000.1023456789")
            .env("WAGATE_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start wagate serve (build with --features demo)");
        Gateway {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Stops it as an operator would (SIGTERM) and waits for the exit.
    fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        started.elapsed()
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method, url).bearer_auth(ADMIN_KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    match req.send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn wait_until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn connected_count(http: &reqwest::Client, base: &str) -> usize {
    let v = call(
        http,
        reqwest::Method::GET,
        format!("{base}/api/v1/sessions"),
        None,
    )
    .await;
    v["sessions"].as_array().map_or(0, |a| {
        a.iter().filter(|s| s["status"] == "connected").count()
    })
}

/// Creates and links sessions `from..to`.
async fn link(http: &reqwest::Client, gw: &Gateway, sim: &wasim::Sim, from: usize, to: usize) {
    for start in (from..to).step_by(BATCH) {
        let end = (start + BATCH).min(to);
        let ids: Vec<usize> = (start..end).collect();
        futures::future::join_all(ids.iter().map(|i| {
            call(
                http,
                reqwest::Method::POST,
                format!("{}/api/v1/sessions", gw.base),
                Some(json!({"sessionId": format!("s{i}")})),
            )
        }))
        .await;
        futures::future::join_all(ids.iter().map(|i| async move {
            let url = format!("{}/api/v1/sessions/s{i}", gw.base);
            let mut qr = Value::Null;
            wait_until("a QR", Duration::from_secs(60), async || {
                qr = call(http, reqwest::Method::GET, url.clone(), None).await["qrCode"].clone();
                qr.is_string()
            })
            .await;
            let phone = format!("1555{:07}", i);
            let scan = format!("{}/admin/scan", sim.admin_url());
            http.post(scan)
                .json(&json!({"qr": qr, "phone": phone}))
                .send()
                .await
                .expect("scan");
        }))
        .await;
    }
    wait_until(
        "all sessions connected",
        Duration::from_secs(300),
        async || connected_count(http, &gw.base).await >= to,
    )
    .await;
}

fn main() {
    let n: usize = std::env::var("WAGATE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let sim = wasim::Sim::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = reqwest::Client::new();
        let gw = Gateway::start(dir.path(), port, &sim.ws_url());
        wait_until("wagate to start", Duration::from_secs(30), async || {
            http.get(format!("{}/health", gw.base)).send().await.is_ok()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let base_rss = rss_kib(gw.child.id());
        println!("wagate idle RSS: {:.1} MiB", base_rss as f64 / 1024.0);
        println!(
            "{:>6} {:>12} {:>14} {:>20}",
            "N", "link s", "RSS MiB", "marginal KiB/session"
        );
        let mut done = 0;
        let started = Instant::now();
        for checkpoint in [200.min(n), n] {
            if checkpoint <= done {
                continue;
            }
            link(&http, &gw, &sim, done, checkpoint).await;
            done = checkpoint;
            tokio::time::sleep(Duration::from_secs(2)).await; // let post-login work settle
            let rss = rss_kib(gw.child.id());
            println!(
                "{:>6} {:>12.1} {:>14.1} {:>20.0}",
                done,
                started.elapsed().as_secs_f64(),
                rss as f64 / 1024.0,
                (rss.saturating_sub(base_rss)) as f64 / done as f64
            );
        }
        let stop_time = gw.stop();
        println!(
            "graceful stop with {n} sessions: {:.2} s",
            stop_time.as_secs_f64()
        );
        let restart = Instant::now();
        let gw = Gateway::start(dir.path(), port, &sim.ws_url());
        wait_until(
            "all sessions restored",
            Duration::from_secs(300),
            async || connected_count(&http, &gw.base).await >= n,
        )
        .await;
        println!(
            "restore {n} sessions after restart: {:.2} s (process start to all connected)",
            restart.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "RSS after restore: {:.1} MiB",
            rss_kib(gw.child.id()) as f64 / 1024.0
        );
        gw.stop();
    });
}
