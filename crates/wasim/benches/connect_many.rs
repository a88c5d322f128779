//! Load benchmark: N real whatsapp-rust clients against one wasim.
//!
//! `cargo bench -p wasim --bench connect_many` (N from `WASIM_BENCH_N`,
//! default 1000; a round also runs at 200 when N is larger). Each round
//! starts a fresh wasim *process*, so its RSS is the simulator's alone,
//! pairs N clients by QR concurrently, then makes them all reconnect over
//! Noise IK twice: after `<stream:error code="515"/>` (the client comes back
//! at once) and after a silent socket drop (the client waits its ~1 s
//! Fibonacci backoff first, so that column includes it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use tokio::sync::watch;
use wasim::media::SimHttpClient;
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::{Event, EventKind};

#[path = "connect_many/wasim_process.rs"]
mod wasim_process;
use wasim_process::Server;

/// How long any one phase (pairing all, reconnecting all) may take.
const PHASE_DEADLINE: Duration = Duration::from_secs(180);

/// What one client has shown so far.
#[derive(Clone, Default)]
struct Seen {
    qr: Option<String>,
    connected: u32,
}

struct Device {
    handle: BotHandle,
    seen: watch::Receiver<Seen>,
}

struct Round {
    server: Server,
    http: reqwest::Client,
    media: SimHttpClient,
}

impl Round {
    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.admin));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let value = resp.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "{path}: {status} {value}");
        Ok(value)
    }

    /// A fresh client on its own in-memory store, linked to `phone`.
    async fn pair(self: Arc<Self>, phone: String) -> Result<Device> {
        let backend: Arc<dyn Backend> =
            Arc::new(whatsapp_rust::wacore::store::InMemoryBackend::new());
        let (tx, mut seen) = watch::channel(Seen::default());
        let tx = Arc::new(tx);
        let bot = Bot::builder()
            .with_backend_arc(backend)
            .with_transport_factory(
                TokioWebSocketTransportFactory::new().with_url(self.server.ws.clone()),
            )
            .with_http_client(self.media.clone())
            .with_version((2, 3000, 1_023_456_789))
            .on_event_for(
                &[EventKind::PairingQrCode, EventKind::Connected],
                move |event, _| {
                    let tx = tx.clone();
                    async move {
                        tx.send_modify(|s| match &*event {
                            Event::PairingQrCode(q) if s.qr.is_none() => {
                                s.qr = Some(q.code.clone())
                            }
                            Event::Connected(_) => s.connected += 1,
                            _ => {}
                        });
                    }
                },
            )
            .build()
            .await?;
        let handle = bot.spawn();
        let qr = seen.wait_for(|s| s.qr.is_some()).await?.qr.clone().unwrap();
        self.admin(
            reqwest::Method::POST,
            "/admin/scan",
            Some(json!({"qr": qr, "phone": phone})),
        )
        .await?;
        seen.wait_for(|s| s.connected >= 1).await?;
        Ok(Device { handle, seen })
    }
}

/// Waits until every device has connected once more than `before` says.
async fn all_reconnected(devices: &mut [Device], before: &[u32]) -> Result<()> {
    for (d, b) in devices.iter_mut().zip(before) {
        d.seen.wait_for(|s| s.connected > *b).await?;
    }
    Ok(())
}

fn ik_handshakes(stats: &Value) -> u64 {
    stats["handshakes"]["ik"].as_u64().unwrap_or(0)
}

/// Every device reconnects after `/admin/disconnect-all` with `body`;
/// returns the seconds until all are Connected again.
async fn reconnect_all(round: &Round, devices: &mut [Device], body: Value) -> Result<f64> {
    let before: Vec<u32> = devices.iter().map(|d| d.seen.borrow().connected).collect();
    let ik_before = ik_handshakes(
        &round
            .admin(reqwest::Method::GET, "/admin/stats", None)
            .await?,
    );
    let start = Instant::now();
    let closed = round
        .admin(reqwest::Method::POST, "/admin/disconnect-all", Some(body))
        .await?;
    ensure!(
        closed["closed"] == devices.len(),
        "closed {closed}, expected {}",
        devices.len()
    );
    tokio::time::timeout(PHASE_DEADLINE, all_reconnected(devices, &before))
        .await
        .context("reconnect deadline")??;
    let secs = start.elapsed().as_secs_f64();
    let ik = ik_handshakes(
        &round
            .admin(reqwest::Method::GET, "/admin/stats", None)
            .await?,
    );
    ensure!(
        ik - ik_before >= devices.len() as u64,
        "only {} IK handshakes for {} devices",
        ik - ik_before,
        devices.len()
    );
    Ok(secs)
}

struct Row {
    n: usize,
    pair_secs: f64,
    pair_cpu: f64,
    clients_cpu: f64,
    restart_secs: f64,
    restart_cpu: f64,
    drop_secs: f64,
    idle_kib: u64,
    rss_kib: u64,
}

async fn run_round(n: usize) -> Result<Row> {
    let server = Server::spawn()?;
    let http = reqwest::Client::new();
    let ca = http
        .get(format!("{}/admin/media-ca", server.admin))
        .send()
        .await?
        .text()
        .await?;
    let media = SimHttpClient::new(&ca)?;
    let round = Arc::new(Round {
        server,
        http,
        media,
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_kib = round.server.rss_kib()?;
    let idle_cpu = round.server.cpu_secs()?;
    let clients_before = wasim_process::cpu_secs("self")?;

    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let phone = format!("1555{i:07}");
        tasks.spawn(round.clone().pair(phone));
    }
    let mut devices = Vec::with_capacity(n);
    let pairing = async {
        while let Some(done) = tasks.join_next().await {
            devices.push(done??);
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(PHASE_DEADLINE, pairing)
        .await
        .with_context(|| format!("pairing deadline ({} of {n} connected)", devices.len()))??;
    let pair_secs = start.elapsed().as_secs_f64();
    let pair_cpu = round.server.cpu_secs()? - idle_cpu;
    let clients_cpu = wasim_process::cpu_secs("self")? - clients_before;

    let before_restart = round.server.cpu_secs()?;
    let restart_secs = reconnect_all(&round, &mut devices, json!({"code": 515})).await?;
    let restart_cpu = round.server.cpu_secs()? - before_restart;
    let drop_secs = reconnect_all(&round, &mut devices, json!({})).await?;
    // Let post-login work (prekey uploads, key shares) finish before
    // reading memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_kib = round.server.rss_kib()?;
    let stats = round
        .admin(reqwest::Method::GET, "/admin/stats", None)
        .await?;
    if stats["connectedDevices"] != n {
        bail!(
            "wasim reports {} connected, expected {n}",
            stats["connectedDevices"]
        );
    }

    let shutdowns: Vec<_> = devices.into_iter().map(|d| d.handle.shutdown()).collect();
    futures::future::join_all(shutdowns).await;
    Ok(Row {
        n,
        pair_secs,
        pair_cpu,
        clients_cpu,
        restart_secs,
        restart_cpu,
        drop_secs,
        idle_kib,
        rss_kib,
    })
}

fn main() -> Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).init();
    wasim::limits::raise_open_files_limit()?;
    let n: usize = match std::env::var("WASIM_BENCH_N") {
        Ok(v) => v.parse().context("WASIM_BENCH_N")?,
        Err(_) => 1000,
    };
    ensure!(n > 0, "WASIM_BENCH_N must be positive");
    let mut sizes = vec![n];
    if n > 200 {
        sizes.insert(0, 200);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let cpus = std::thread::available_parallelism().map_or(0, |c| c.get());
    println!("wasim connect_many: rounds {sizes:?}, {cpus} CPUs shared by wasim and the clients");
    const COLUMNS: [&str; 10] = [
        "devices",
        "pair+login s",
        "wasim CPU s",
        "clients CPU s",
        "IK (515) s",
        "wasim CPU s",
        "IK (drop) s",
        "wasim RSS MiB",
        "KiB/device",
        "load",
    ];
    println!("{}", COLUMNS.join(" | "));
    for size in sizes {
        // Wall times move with whatever else the machine runs; the load
        // average says how much that was, wasim's CPU time does not move.
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load = load.split_whitespace().next().unwrap_or("?").to_string();
        let row = runtime.block_on(run_round(size))?;
        let cells = [
            row.n.to_string(),
            format!("{:.2}", row.pair_secs),
            format!("{:.2}", row.pair_cpu),
            format!("{:.2}", row.clients_cpu),
            format!("{:.2}", row.restart_secs),
            format!("{:.2}", row.restart_cpu),
            format!("{:.2}", row.drop_secs),
            format!("{:.1}", row.rss_kib as f64 / 1024.0),
            format!(
                "{:.1}",
                row.rss_kib.saturating_sub(row.idle_kib) as f64 / row.n as f64
            ),
            load,
        ];
        let line: Vec<String> = cells
            .iter()
            .zip(COLUMNS)
            .map(|(cell, name)| format!("{cell:>w$}", w = name.len()))
            .collect();
        println!("{}", line.join(" | "));
    }
    println!(
        "CPU columns: seconds of CPU used during the phase to their left. KiB/device: wasim's \
         RSS above its idle RSS, per device, all connected. IK (drop) includes the client's \
         ~1 s reconnect backoff."
    );
    // The clients' runtime winds down with the process.
    std::process::exit(0);
}
