//! Received messages across a crash: a `wagate serve` process killed with
//! SIGKILL while a burst of messages is arriving, its webhook receiver
//! down the whole time, loses none of them. WhatsApp (wasim) sends again
//! what the gateway never acknowledged; the gateway started after it
//! records those, keeps retrying every stored delivery, and once the
//! receiver is up it gets every message, signed, each under one
//! `webhook-id` however often it is sent.
//!
//! `cargo test -p wagate --all-features --test crash_inbound -- --nocapture`
//! prints where the kill landed and how the deliveries went.

mod gateway;
#[path = "it/receiver.rs"]
#[allow(dead_code)] // the API tests use the rest
mod receiver;

use gateway::{Api, Gateway, POLL, eventually, free_port, until};
use receiver::{Hit, Receiver, verify_signature};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

const SESSION: &str = "inbound";
const PHONE: &str = "15550700001";
/// Contacts sending before the kill; one more sends while the gateway
/// is down and one after it is back.
const BEFORE_KILL: usize = 8;
const CONTACTS: usize = BEFORE_KILL + 2;
const PER_CONTACT: usize = 100;
const TOTAL: usize = CONTACTS * PER_CONTACT;

fn contact_phone(c: usize) -> String {
    format!("1555071{c:04}")
}

/// Quick retries, enough of them to outlast the receiver's downtime
/// (about two minutes of tries) without hammering it.
fn retry_delays() -> String {
    let mut delays = vec!["0", "250", "500", "1000"];
    delays.extend(["2000"; 60]);
    delays.join(",")
}

fn start(dir: &std::path::Path, run: &str, sim: &wasim::Sim) -> Gateway {
    let delays = retry_delays();
    let env = [
        ("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32"),
        ("WAGATE_WEBHOOK_RETRY_DELAYS_MS", delays.as_str()),
    ];
    Gateway::start(dir, run, &sim.ws_url(), &env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_burst_every_message_reaches_the_receiver_under_one_id() {
    let started = Instant::now();
    let sim = wasim::Sim::start().await.unwrap();
    // Kept when the test fails: the database and both processes' logs.
    let dir = tempfile::Builder::new()
        .prefix("wagate-crash-inbound-")
        .tempdir()
        .unwrap()
        .keep();
    println!("data and logs in {}", dir.display());
    let http = reqwest::Client::new();
    let mut first = start(&dir, "first", &sim);
    first.ready(&http).await;
    let mut api = Api {
        http: http.clone(),
        base: first.base.clone(),
        sim: sim.admin_url(),
    };
    api.link(SESSION, PHONE).await;
    // Nobody listens there until the end: every attempt is refused.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (endpoint, secret) = api.message_webhook(SESSION, &url).await;

    let mut texts: HashMap<String, String> = HashMap::new();
    let burst = futures::future::join_all((0..BEFORE_KILL).map(|c| send(&api, c))).await;
    burst.into_iter().for_each(|sent| texts.extend(sent));
    let acked_at_kill = eventually("a quarter acked", Duration::from_secs(60), async || {
        let acked = acked(&api, &texts).await;
        (acked.len() >= TOTAL / 4).then_some(acked.len())
    })
    .await;
    first.kill();
    let stats = eventually(
        "wasim to see the kill",
        Duration::from_secs(10),
        async || {
            let stats = api.sim_get("/admin/stats").await;
            (stats["connectedDevices"] == 0).then_some(stats)
        },
    )
    .await;
    println!(
        "killed at {:.1?} with {acked_at_kill} of {} acked; wasim: {} offline, {} unacked",
        started.elapsed(),
        texts.len(),
        stats["offlineMessages"],
        stats["unackedMessages"],
    );
    assert!(
        stats["offlineMessages"].as_u64() > Some(0),
        "the burst was taken whole before the kill: {stats}"
    );
    texts.extend(send(&api, BEFORE_KILL).await);

    let mut second = start(&dir, "second", &sim);
    second.ready(&http).await;
    api.base = second.base.clone();
    api.connected(SESSION).await;
    texts.extend(send(&api, BEFORE_KILL + 1).await);
    assert_eq!(texts.len(), TOTAL, "every message has its own id");
    let acked_all = until(Duration::from_secs(90), POLL, async || {
        (acked(&api, &texts).await.len() == TOTAL).then_some(())
    })
    .await;
    let acked_now = acked(&api, &texts).await;
    assert!(
        acked_all.is_some(),
        "{} never acked by the gateway: {:?}",
        TOTAL - acked_now.len(),
        texts
            .keys()
            .filter(|id| !acked_now.contains(*id))
            .take(10)
            .collect::<Vec<_>>()
    );
    println!("all acked again by {:.1?}", started.elapsed());
    let attempts = api
        .get(&format!("/api/v1/webhooks/{endpoint}/attempts?limit=1"))
        .await;
    let last = &attempts["items"][0];
    assert_eq!(last["verdict"], "retry", "the receiver was down: {last}");
    assert!(last["statusCode"].is_null(), "{last}");

    let receiver = Receiver::start_on(port, &[]).await;
    let up = Instant::now();
    // Deliveries the killed process had claimed wait for their claims to
    // run out (the dispatcher's 60 s visibility window) before they go.
    let arrived = until(Duration::from_secs(90), POLL, async || {
        let hits = receiver.hits();
        (ids_of(&hits).len() >= TOTAL).then_some(hits)
    })
    .await;
    let hits = arrived.unwrap_or_else(|| receiver.hits());
    println!(
        "receiver got {} requests for {} messages within {:.1?} of coming up",
        hits.len(),
        ids_of(&hits).len(),
        up.elapsed()
    );
    check_hits(&hits, &texts, &secret);
    second.stop();
    std::fs::remove_dir_all(&dir).unwrap();
    println!("whole test: {:.1?}", started.elapsed());
}

/// Contact `c` sends its share; returns each message's id and text.
async fn send(api: &Api, c: usize) -> Vec<(String, String)> {
    let prefix = format!("from {c}");
    let ids = api
        .contact_sends_many(&contact_phone(c), PHONE, PER_CONTACT, &prefix)
        .await;
    assert_eq!(ids.len(), PER_CONTACT);
    let texts = (1..=PER_CONTACT).map(|n| format!("{prefix} {n}"));
    ids.into_iter().zip(texts).collect()
}

/// The ids of `sent` the gateway's device has sent a receipt for: the
/// ones WhatsApp will not send again.
async fn acked(api: &Api, sent: &HashMap<String, String>) -> HashSet<String> {
    let receipts = futures::future::join_all((0..CONTACTS).map(|c| async move {
        let url = format!("{}/admin/contacts/{}/receipts", api.sim, contact_phone(c));
        let response = api.http.get(url).send().await.unwrap();
        // A contact that has not sent yet has no account (404).
        match response.status().as_u16() {
            200 => response.json::<Value>().await.unwrap(),
            404 => Value::Null,
            status => panic!("receipts of contact {c}: {status}"),
        }
    }))
    .await;
    receipts
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter(|r| r["from"] == PHONE)
        .filter_map(|r| r["id"].as_str())
        .filter(|id| sent.contains_key(*id))
        .map(str::to_string)
        .collect()
}

/// The WhatsApp message ids the receiver got.
fn ids_of(hits: &[Hit]) -> HashSet<String> {
    hits.iter()
        .filter_map(|h| Some(h.json()["data"]["id"].as_str()?.to_string()))
        .collect()
}

/// Every message arrived, signed, as what was sent; a message sent more
/// than once kept its `webhook-id`, and no two messages share one.
fn check_hits(hits: &[Hit], texts: &HashMap<String, String>, secret: &str) {
    let mut webhook_id_of: HashMap<String, String> = HashMap::new();
    let mut message_of: HashMap<String, String> = HashMap::new();
    for hit in hits {
        assert!(verify_signature(secret, hit), "bad signature: {hit:?}");
        let body = hit.json();
        let webhook_id = hit.header("webhook-id").to_string();
        assert_eq!(body["id"], webhook_id.as_str(), "{body}");
        assert_eq!(body["type"], "message.received", "{body}");
        assert_eq!(body["sessionId"], SESSION, "{body}");
        let id = body["data"]["id"].as_str().unwrap().to_string();
        let text = texts
            .get(&id)
            .unwrap_or_else(|| panic!("{id} was never sent: {body}"));
        assert_eq!(body["data"]["text"], text.as_str(), "{body}");
        let first = webhook_id_of
            .entry(id.clone())
            .or_insert(webhook_id.clone());
        assert_eq!(*first, webhook_id, "{id} came under two webhook-ids");
        let owner = message_of.entry(webhook_id.clone()).or_insert(id.clone());
        assert_eq!(*owner, id, "{webhook_id} carried two messages");
    }
    let missing: Vec<&String> = texts
        .keys()
        .filter(|id| !webhook_id_of.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {TOTAL} never reached the receiver, e.g. {:?}",
        missing.len(),
        missing.iter().take(10).collect::<Vec<_>>()
    );
    let mut copies: BTreeMap<usize, usize> = BTreeMap::new();
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for hit in hits {
        *per_id.entry(hit.header("webhook-id")).or_default() += 1;
    }
    for n in per_id.values() {
        *copies.entry(*n).or_default() += 1;
    }
    println!("messages by copies received: {copies:?}");
}
