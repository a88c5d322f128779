//! wasim as its own process, so a load test can measure the simulator's
//! memory apart from the clients it serves.
//!
//! `wasim [--listen 127.0.0.1:PORT]` prints `ws <url>`, `admin <url>` and
//! `media-ca <admin url>/admin/media-ca`, one per line, then serves until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "usage: wasim [--listen ADDR:PORT]";

fn listen_addr() -> anyhow::Result<SocketAddr> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:0".to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => addr = args.next().ok_or_else(|| anyhow::anyhow!(USAGE))?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(addr.parse()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = listen_addr()?;
    // Logs go to stderr so stdout carries only the addresses; RUST_LOG picks
    // the level.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    wasim::limits::raise_open_files_limit()?;
    // Listen for signals before announcing the server, so a parent that
    // stops us right after reading the addresses is heard.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let sim = wasim::Sim::start_on(addr).await?;
    {
        // Whoever spawned us reads these lines to find the server; flush so
        // they arrive even when stdout is a pipe.
        let mut out = std::io::stdout().lock();
        writeln!(out, "ws {}", sim.ws_url())?;
        writeln!(out, "admin {}", sim.admin_url())?;
        writeln!(out, "media-ca {}/admin/media-ca", sim.admin_url())?;
        out.flush()?;
    }
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    sim.stop();
    Ok(())
}
