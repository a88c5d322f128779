//! Received message to webhook: contacts write to the session at a steady
//! rate, each send timed from the moment it is asked of wasim (which
//! encrypts it and writes it to the gateway's socket) until the receiver
//! has the message.

use crate::PHONE;
use crate::gateway::{Api, Gateway, until};
use crate::measure::{CpuUse, percentile};
use crate::receiver::Receiver;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Contacts taking turns, so no single sender's order is all there is.
const CONTACTS: usize = 10;

pub async fn latency_bench(
    gw: &Gateway,
    api: &Api,
    receiver: &Receiver,
    total: usize,
    rate: usize,
) {
    let (started, cpu) = (Instant::now(), CpuUse::now(gw));
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    // A late tick is sent late, not made up for with a burst.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sends = Vec::with_capacity(total);
    for n in 0..total {
        ticks.tick().await;
        let api = api.clone();
        sends.push(tokio::spawn(async move {
            let asked = Instant::now();
            (send_one(&api, n).await, asked)
        }));
    }
    let mut sent = Vec::with_capacity(total);
    for send in sends {
        sent.push(send.await.unwrap());
    }
    let sending = started.elapsed();
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    let all = until(
        Duration::from_secs(120),
        Duration::from_millis(20),
        async || (receiver.arrived(&ids) == total).then(|| started.elapsed()),
    )
    .await
    .unwrap_or_else(|| panic!("only {} of {total} delivered", receiver.arrived(&ids)));
    let cpu = cpu.since(gw, all);
    let mut latencies: Vec<Duration> = receiver
        .arrivals(&ids)
        .into_iter()
        .zip(&sent)
        .map(|(arrived, (_, asked))| arrived.unwrap().duration_since(*asked))
        .collect();
    latencies.sort();
    println!(
        "inbound: {total} texts from {CONTACTS} contacts at {rate}/s (sent over {:.1} s): \
         message to webhook p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        sending.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    println!("  {cpu}");
}

/// Contact `n % CONTACTS` sends text `n`; returns its id.
async fn send_one(api: &Api, n: usize) -> String {
    let from = format!("1555081{:04}", n % CONTACTS);
    let url = format!("{}/admin/contacts/{from}/send", api.sim);
    let body = json!({ "to": PHONE, "text": format!("steady {n}") });
    let response = api.http.post(url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "send from {from}");
    let answer: Value = response.json().await.unwrap();
    answer["id"].as_str().unwrap().to_string()
}
