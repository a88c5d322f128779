//! `wagate demo`: wagate and the wasim simulator in one process, on a
//! temporary database, walking a newcomer through linking a session and
//! sending and receiving a message with no phone and no internet.
//!
//! Only in builds with the `demo` feature: the simulator cannot sign with
//! WhatsApp's root key, so these builds skip the certificate-chain check.

pub mod steps;

pub use steps::{Curl, Step};

use crate::config::{Config, MasterKey, Secret};
use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// The session the demo creates.
pub const SESSION: &str = "demo";
/// The simulated phone that scans the QR code.
pub const PHONE: &str = "15550001111";
/// The simulated contact that receives and replies.
pub const CONTACT: &str = "15550002222";
/// The WhatsApp Web version sessions announce to the simulator (there is
/// no web.whatsapp.com to look it up from).
const WA_VERSION: (u32, u32, u32) = (2, 3000, 1023456789);
/// How long a new session may take to show its QR code.
const QR_WITHIN: Duration = Duration::from_secs(30);
/// How often the demo looks at the session's status.
const POLL: Duration = Duration::from_millis(200);

/// Options of `wagate demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoOptions {
    /// Address the wagate API listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address the simulator listens on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub sim_listen: SocketAddr,
    /// Keep the temporary database directory when the demo stops.
    #[arg(long)]
    pub keep: bool,
}

/// `wagate demo` from the command line: runs until Ctrl-C or SIGTERM,
/// printing each step on stdout; logs go to stderr.
pub fn main(options: DemoOptions) -> ExitCode {
    let filter = std::env::var("WAGATE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn,wagate_engine=info".to_string());
    let Some(runtime) = crate::cli::start_process("wagate demo", &filter) else {
        return ExitCode::FAILURE;
    };
    let print = |step: &Step| {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{step}");
        let _ = out.flush();
    };
    match runtime.block_on(run(options, crate::cli::shutdown_signal(), print)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wagate demo: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the demo until `shutdown` completes, telling `report` each
/// [`Step`]; then stops wagate and the simulator and removes the temporary
/// database unless `options.keep`.
pub async fn run(
    options: DemoOptions,
    shutdown: impl Future<Output = ()> + Send,
    mut report: impl FnMut(&Step) + Send,
) -> anyhow::Result<()> {
    let listener = bind(options.listen).await?;
    let sim = wasim::Sim::start_on(options.sim_listen)
        .await
        .with_context(|| format!("cannot start the simulator on {}", options.sim_listen))?;
    let dir = tempfile::Builder::new()
        .prefix("wagate-demo-")
        .tempdir()
        .context("cannot create a temporary directory for the database")?;
    let tour = Tour {
        http: reqwest::Client::new(),
        api: format!("http://{}", reachable(listener.local_addr()?)),
        sim: format!("http://{}", reachable(sim.addr())),
        key: wagate_core::NewApiKey::generate().secret,
        database: dir.path().join("wagate.db"),
        keep: options.keep,
    };
    let config = Config {
        listen: listener.local_addr()?,
        public_url: None,
        database_url: format!("sqlite://{}", tour.database.display()),
        data_dir: dir.path().to_path_buf(),
        admin_key: Some(Secret::new(tour.key.clone())),
        master_key: Some(MasterKey(rand::random())),
        wa_url: format!("ws://{}/ws/chat", reachable(sim.addr())),
        wa_version: Some(WA_VERSION),
        log: "info".to_string(),
        sending: crate::config::Sending::default(),
        webhooks: crate::config::Webhooks::default(),
        history: crate::config::History::default(),
        media: crate::config::Media::default(),
        profiles: wagate_api::profiles::Profiles::default(),
        accounts: crate::config::Accounts::default(),
        tiers: crate::config::Tiers::default(),
        cluster: crate::config::Cluster::default(),
    };
    // Media goes over HTTPS to the simulator's media host, whose
    // certificate is its own.
    let media_client: Arc<dyn wagate_engine::HttpClient> =
        Arc::new(wasim::media::SimHttpClient::new(sim.media().ca_pem())?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(crate::run_with_engine(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        move |ctx| crate::engine_seam::build_engine_with(ctx, Some(media_client)),
    ));

    let walk = async {
        tour.walk(&mut report).await?;
        std::future::pending::<anyhow::Result<()>>().await
    };
    let mut server_done = None;
    let outcome = tokio::select! {
        result = walk => result,
        () = shutdown => Ok(()),
        joined = &mut server => {
            server_done = Some(joined);
            Err(anyhow::anyhow!("wagate stopped unexpectedly"))
        }
    };
    let stopping = match server_done {
        Some(joined) => flatten(joined),
        None => {
            let _ = stop.send(());
            match tokio::time::timeout(Duration::from_secs(15), server).await {
                Ok(joined) => flatten(joined),
                Err(_) => Err(anyhow::anyhow!("wagate did not stop within 15 s")),
            }
        }
    };
    sim.stop();
    drop(sim);
    let kept = if options.keep {
        Some(dir.keep())
    } else {
        dir.close()
            .context("cannot remove the temporary database")?;
        None
    };
    report(&Step::Stopped { kept });
    // The server's own error says more than "stopped unexpectedly".
    stopping.and(outcome)
}

fn flatten(joined: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    joined.context("the wagate task failed")?
}

/// Binds the API's address, explaining what to do when it is taken.
async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
            let other = SocketAddr::new(addr.ip(), addr.port().wrapping_add(1).max(1024));
            bail!(
                "{addr} is already in use (another wagate or another program listens there). \
                 Choose a free address with --listen, e.g. `--listen {other}`"
            )
        }
        Err(err) => Err(err).with_context(|| format!("cannot listen on {addr}")),
    }
}

/// An address a local client can connect to: a wildcard address becomes
/// loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// The walk through: the running servers and the requests the demo makes.
struct Tour {
    http: reqwest::Client,
    /// wagate's base URL.
    api: String,
    /// wasim's admin base URL.
    sim: String,
    /// The admin key.
    key: String,
    database: std::path::PathBuf,
    keep: bool,
}

impl Tour {
    async fn walk(&self, report: &mut (impl FnMut(&Step) + Send)) -> anyhow::Result<()> {
        self.wait_healthy().await?;
        let create = Curl::post(
            format!("{}/api/v1/sessions", self.api),
            Some(json!({"sessionId": SESSION, "name": "Demo session"})),
        )
        .bearer(&self.key);
        let (status, body) = create.send(&self.http).await?;
        ensure!(
            status == 201,
            "creating the session failed: {status} {body}"
        );
        report(&Step::Started {
            admin_key: self.key.clone(),
            api_url: self.api.clone(),
            sim_url: self.sim.clone(),
            database: self.database.clone(),
            keep: self.keep,
            create,
            status: self.status_request(),
        });
        let phone = self.link(report).await?;
        report(&Step::Connected {
            send: Curl::post(
                format!("{}/api/v1/sessions/{SESSION}/messages", self.api),
                Some(json!({"to": CONTACT, "message": "Hello from wagate!"})),
            )
            .bearer(&self.key),
            inbox: Curl::get(format!("{}/admin/contacts/{CONTACT}/inbox", self.sim)),
            reply: Curl::post(
                format!("{}/admin/contacts/{CONTACT}/send", self.sim),
                Some(json!({"to": phone, "text": "Hi! Got your message."})),
            ),
            phone,
            contact: CONTACT.to_string(),
        });
        Ok(())
    }

    fn status_request(&self) -> Curl {
        Curl::get(format!("{}/api/v1/sessions/{SESSION}", self.api)).bearer(&self.key)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let health = Curl::get(format!("{}/health", self.api));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok((200, _)) = health.send(&self.http).await {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "wagate did not come up within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Shows the session's QR code with the command that scans it, again
    /// whenever the codes expire unscanned, until the session is
    /// connected; returns its phone number.
    async fn link(&self, report: &mut (impl FnMut(&Step) + Send)) -> anyhow::Result<String> {
        let status = self.status_request();
        let mut shown = false;
        let mut renewed = false;
        let mut qr_deadline = Instant::now() + QR_WITHIN;
        loop {
            let (code, session) = status.send(&self.http).await?;
            ensure!(code == 200, "reading the session failed: {code} {session}");
            match (session["status"].as_str().unwrap_or(""), &session["qrCode"]) {
                ("qr", Value::String(qr)) if !shown => {
                    report(&Step::Qr {
                        scan: Curl::post(
                            format!("{}/admin/scan", self.sim),
                            Some(json!({"qr": qr, "phone": PHONE})),
                        ),
                        qr: qr.clone(),
                        phone: PHONE.to_string(),
                        renewed,
                    });
                    shown = true;
                }
                ("connected", _) => {
                    let phone = session["phoneNumber"].as_str().unwrap_or(PHONE);
                    return Ok(phone.to_string());
                }
                // Every QR code of the connection expired unscanned.
                ("disconnected", _) if shown => {
                    let connect = Curl::post(
                        format!("{}/api/v1/sessions/{SESSION}/connect", self.api),
                        None,
                    )
                    .bearer(&self.key);
                    let (code, body) = connect.send(&self.http).await?;
                    ensure!(
                        code == 202,
                        "reconnecting the session failed: {code} {body}"
                    );
                    (shown, renewed) = (false, true);
                    qr_deadline = Instant::now() + QR_WITHIN;
                }
                ("logged_out", _) => bail!("the session was logged out"),
                _ => {}
            }
            ensure!(
                shown || Instant::now() < qr_deadline,
                "the session showed no QR code within {} s; last seen: {session}",
                QR_WITHIN.as_secs()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}
