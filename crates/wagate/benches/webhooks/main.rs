//! Webhook delivery on a real `wagate serve` process over SQLite, to a
//! local receiver answering 204:
//!
//! - [`backlog`]: how many deliveries a second go out when a backlog of
//!   stored events is queued at once (a replay, or a receiver back after
//!   an outage);
//! - [`latency`]: how long a message takes from a wasim contact's phone to
//!   the receiver while contacts write at a steady rate.
//!
//! `cargo bench -p wagate --features demo --bench webhooks`
//! (`WAGATE_BENCH_BACKLOG`, `WAGATE_BENCH_INBOUND_MESSAGES` and
//! `WAGATE_BENCH_INBOUND_RATE` (messages a second) set the sizes.)

mod backlog;
#[path = "../../tests/gateway/mod.rs"]
mod gateway;
mod latency;
#[path = "../shared/measure.rs"]
mod measure;
mod receiver;

use gateway::{Api, Gateway};
use measure::count;
use receiver::Receiver;

const SESSION: &str = "hooks";
const PHONE: &str = "15550800001";

/// A gateway on a fresh database with one linked session whose received
/// messages go to `receiver`; returns it with its API and the endpoint's id.
async fn hooked_gateway(
    sim: &wasim::Sim,
    dir: &std::path::Path,
    receiver: &Receiver,
) -> (Gateway, Api, String) {
    let http = reqwest::Client::new();
    let env = [("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32")];
    let mut gw = Gateway::start(dir, "bench", &sim.ws_url(), &env);
    gw.ready(&http).await;
    let api = Api {
        http,
        base: gw.base.clone(),
        sim: sim.admin_url(),
    };
    api.link(SESSION, PHONE).await;
    let (endpoint, _secret) = api.message_webhook(SESSION, &receiver.url).await;
    (gw, api, endpoint)
}

fn main() {
    let backlog = count("WAGATE_BENCH_BACKLOG", 20_000);
    let inbound = count("WAGATE_BENCH_INBOUND_MESSAGES", 1_000);
    let rate = count("WAGATE_BENCH_INBOUND_RATE", 50);
    println!("webhook benchmark on {}", measure::machine());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let sim = wasim::Sim::start().await.unwrap();
        let receiver = Receiver::start().await;
        let dir = tempfile::tempdir().unwrap();
        let (gw, api, endpoint) = hooked_gateway(&sim, dir.path(), &receiver).await;
        backlog::backlog_bench(&gw, dir.path(), &api, &endpoint, &receiver, backlog).await;
        latency::latency_bench(&gw, &api, &receiver, inbound, rate).await;
        gw.stop();
    });
}
