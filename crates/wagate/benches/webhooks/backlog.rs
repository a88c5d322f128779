//! Deliveries a second from a backlog: `total` received-message events
//! are written to the database while the endpoint is disabled (so none is
//! owed to it), then the endpoint is enabled and a replay queues them all
//! at once; timed until the receiver has every one.

use crate::gateway::{Api, Gateway, eventually, until};
use crate::measure::CpuUse;
use crate::receiver::Receiver;
use crate::{PHONE, SESSION};
use chrono::Utc;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wagate_core::events::EventId;
use wagate_core::{SessionId, SessionKey};
use wagate_store::events::NewEvent;

/// Events per write job: large jobs, as a burst of inbound messages makes.
const APPEND_CHUNK: usize = 500;

pub async fn backlog_bench(
    gw: &Gateway,
    dir: &Path,
    api: &Api,
    endpoint: &str,
    receiver: &Receiver,
    total: usize,
) {
    let template = received_template(api, receiver).await;
    set_enabled(api, endpoint, false).await;
    let since = Utc::now();
    let writing = Instant::now();
    let ids = write_events(dir, &template, total).await;
    println!(
        "backlog: {total} events written in {:.1} s (by the benchmark, beside the gateway)",
        writing.elapsed().as_secs_f64()
    );
    set_enabled(api, endpoint, true).await;

    let (started, cpu) = (Instant::now(), CpuUse::now(gw));
    let path = format!("/api/v1/webhooks/{endpoint}/replay");
    let body = json!({ "since": since.to_rfc3339() });
    let (status, answer) = api.call(reqwest::Method::POST, &path, Some(body)).await;
    assert_eq!(status, 202, "{path}: {answer}");
    assert_eq!(answer["queued"], total, "{answer}");
    let queued = started.elapsed();
    let requests_before = receiver.requests();
    let done = until(
        Duration::from_secs(600),
        Duration::from_millis(20),
        async || (receiver.arrived(&ids) == total).then(|| started.elapsed()),
    )
    .await
    .unwrap_or_else(|| {
        panic!(
            "only {} of {total} delivered in 10 minutes",
            receiver.arrived(&ids)
        )
    });
    let cpu = cpu.since(gw, done);
    let arrivals: Vec<Instant> = receiver.arrivals(&ids).into_iter().flatten().collect();
    let first = arrivals.iter().min().unwrap().duration_since(started);
    let repeats = receiver.requests() - requests_before - total;
    println!(
        "backlog: {total} deliveries to a local receiver answering 204 in {:.2} s = {:.0} deliveries/s \
         (replay queued them in {:.2} s; first arrived at {:.2} s; {repeats} sent twice)",
        done.as_secs_f64(),
        total as f64 / done.as_secs_f64(),
        queued.as_secs_f64(),
        first.as_secs_f64(),
    );
    println!(
        "  from the first arrival: {:.0} deliveries/s",
        total as f64 / (done - first).as_secs_f64()
    );
    println!("  {cpu}");
}

/// A real received message's `data`, from a contact's text, to copy.
async fn received_template(api: &Api, receiver: &Receiver) -> Value {
    let ids = api
        .contact_sends_many("15550800002", PHONE, 1, "template")
        .await;
    eventually(
        "the template message",
        Duration::from_secs(30),
        async || (receiver.arrived(&ids) == 1).then_some(()),
    )
    .await;
    receiver.last_body().unwrap()["data"].clone()
}

async fn set_enabled(api: &Api, endpoint: &str, enabled: bool) {
    let path = format!("/api/v1/webhooks/{endpoint}");
    let body = json!({ "enabled": enabled });
    let (status, answer) = api.call(reqwest::Method::PATCH, &path, Some(body)).await;
    assert_eq!(status, 200, "{path}: {answer}");
}

/// Appends `total` copies of `template`, each under its own message id,
/// straight into the gateway's database; returns the message ids.
async fn write_events(dir: &Path, template: &Value, total: usize) -> Vec<String> {
    let url = format!("sqlite://{}", dir.join("wagate.db").display());
    let pool = wagate_store::db::Db::open(&url).await.unwrap();
    let tenant = wagate_store::Store::new(pool.clone())
        .default_tenant()
        .await
        .unwrap()
        .id;
    // Appending never touches endpoint secrets: any key will do.
    let cipher = Arc::new(wagate_store::StateCipher::generate().0);
    let committer = wagate_store::Committer::start(pool.clone());
    let events = wagate_store::Events::new(committer, cipher).await.unwrap();
    let key = SessionKey {
        tenant,
        session: SessionId::parse(SESSION).unwrap(),
    };
    let ids: Vec<String> = (0..total).map(|n| format!("3EB0BACKLOG{n:08}")).collect();
    for chunk in ids.chunks(APPEND_CHUNK) {
        let batch = chunk
            .iter()
            .map(|id| {
                let mut data = template.clone();
                data["id"] = id.as_str().into();
                data["text"] = format!("backlog {id}").into();
                NewEvent {
                    id: EventId::generate().as_str().to_string(),
                    key: key.clone(),
                    kind: "message.received".to_string(),
                    data,
                    held_for: None,
                }
            })
            .collect();
        events.append(batch).await.unwrap();
    }
    pool.close().await;
    ids
}
