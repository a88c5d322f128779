//! End to end: messages queued over the API until wasim acked them and
//! the contacts' phones show them, across linked sessions. Run twice on
//! the same sessions: queued one request per message while the senders
//! drain (how a client uses the API), then queued in bulk first (the
//! drain on its own), which tells accepting and sending apart.

use super::{CLIENTS, CONTACTS_EACH, LINKED_SESSIONS, contact, fresh_gateway, send_all};
use crate::gateway::{Api, Gateway, eventually, until};
use crate::measure::CpuUse;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Most messages in one bulk request (the API's limit).
const MAX_BULK: usize = 1000;

#[derive(Clone, Copy, Debug)]
enum Queueing {
    /// One request per message, from [`CLIENTS`] clients.
    Single,
    /// One bulk request per session (or per thousand messages).
    Bulk,
}

pub async fn delivery_bench(sim: &wasim::Sim, total: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (gw, api, _database) = fresh_gateway(sim, dir.path()).await;
    let sessions: Vec<String> = (0..LINKED_SESSIONS)
        .map(|i| format!("linked{i:02}"))
        .collect();
    let linking = Instant::now();
    futures::future::join_all(sessions.iter().enumerate().map(|(i, id)| {
        let api = api.clone();
        async move { api.link(id, &format!("1555040{i:04}")).await }
    }))
    .await;
    println!(
        "linked {LINKED_SESSIONS} sessions in {:.1} s",
        linking.elapsed().as_secs_f64()
    );
    run(&gw, &api, &sessions, total, Queueing::Single).await;
    run(&gw, &api, &sessions, total, Queueing::Bulk).await;
    let stats: Value = api.sim_get("/admin/stats").await;
    println!("wasim duplicateMessages {}", stats["duplicateMessages"]);
    gw.stop();
}

/// Queues `total` messages `how`, and times (from the first request) when
/// all were accepted, acked, shown by the phones, and recorded.
async fn run(gw: &Gateway, api: &Api, sessions: &[String], total: usize, how: Queueing) {
    // The gateway and the phones keep counting across runs.
    let acked_before = acked(api).await;
    let shown_before = inbox_entries(api).await;
    let (started, cpu) = (Instant::now(), CpuUse::now(gw));
    let queueing = {
        let (api, sessions) = (api.clone(), sessions.to_vec());
        tokio::spawn(async move {
            match how {
                Queueing::Single => drop(send_all(&api, &sessions, total, "e2e").await),
                Queueing::Bulk => send_bulk(&api, &sessions, total).await,
            }
            started.elapsed()
        })
    };
    // One small request per poll: fine-grained without loading the drain.
    let all_acked = until(
        Duration::from_secs(600),
        Duration::from_millis(20),
        async || (acked(api).await - acked_before >= total).then(|| started.elapsed()),
    )
    .await
    .expect("every message acked within 10 minutes");
    let cpu = cpu.since(gw, all_acked);
    let accepted = queueing.await.unwrap();
    // The phones decrypt right after the server acks, so this is checked
    // only once every message is acked, without slowing the drain.
    let shown = eventually(
        "every message in an inbox",
        Duration::from_secs(60),
        async || (inbox_entries(api).await - shown_before >= total).then(|| started.elapsed()),
    )
    .await;
    let recorded = eventually(
        "every message recorded sent",
        Duration::from_secs(60),
        async || (!any_in(api, sessions, &["queued", "sending"]).await).then(|| started.elapsed()),
    )
    .await;
    let receipts = eventually(
        "every receipt recorded",
        Duration::from_secs(60),
        async || (!any_in(api, sessions, &["sent"]).await).then(|| started.elapsed()),
    )
    .await;
    assert!(
        !any_in(api, sessions, &["failed"]).await,
        "some messages failed"
    );

    let rate = |d: Duration| total as f64 / d.as_secs_f64();
    let what = match how {
        Queueing::Single => {
            format!("one request per message from {CLIENTS} clients, while draining")
        }
        Queueing::Bulk => "one bulk request per session, then the drain".to_string(),
    };
    println!(
        "end to end, {total} messages over {LINKED_SESSIONS} sessions ({what}), from the first request:"
    );
    let lines = [
        ("all accepted", accepted),
        ("all acked by wasim", all_acked),
        ("all in the inboxes *", shown),
        ("all `sent` in the API", recorded),
        ("all `delivered` (receipts)", receipts),
    ];
    for (what, at) in lines {
        println!(
            "  {what:<28} {:6.2} s = {:6.0} msg/s",
            at.as_secs_f64(),
            rate(at)
        );
    }
    println!("  until all acked: {cpu}");
    println!("  * looked at once all were acked (the phones decrypt as wasim acks)");
}

/// Each session's share of `total` in bulk requests, all at once.
async fn send_bulk(api: &Api, sessions: &[String], total: usize) {
    let requests = sessions.iter().enumerate().flat_map(|(s, id)| {
        let share: Vec<usize> = (s..total).step_by(sessions.len()).collect();
        let chunks: Vec<Vec<usize>> = share.chunks(MAX_BULK).map(<[usize]>::to_vec).collect();
        chunks.into_iter().map(move |chunk| async move {
            let messages: Vec<Value> = chunk
                .iter()
                .map(|n| json!({ "to": format!("+{}", contact(s, n / sessions.len())), "text": format!("bulk {n}") }))
                .collect();
            let path = format!("/api/v1/sessions/{id}/messages/bulk");
            let (status, answer) = api.call(reqwest::Method::POST, &path, Some(json!({ "messages": messages }))).await;
            assert_eq!(status, 202, "{path}: {answer}");
        })
    });
    futures::future::join_all(requests).await;
}

/// Messages WhatsApp has acked, from the gateway's own counter.
async fn acked(api: &Api) -> usize {
    let url = format!("{}/metrics", api.base);
    let text = api
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("wagate_messages_sent_total "));
    let value = line.and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok());
    value.unwrap_or(0.0) as usize
}

/// Whether any session still has a message in `statuses` (a page of one
/// per status, cheap next to listing everything).
async fn any_in(api: &Api, sessions: &[String], statuses: &[&str]) -> bool {
    let probes = sessions.iter().flat_map(|id| {
        statuses.iter().map(move |status| async move {
            let path = format!("/api/v1/sessions/{id}/messages?status={status}&limit=1");
            !api.get(&path).await["items"].as_array().unwrap().is_empty()
        })
    });
    futures::future::join_all(probes).await.contains(&true)
}

/// Entries in every contact's inbox (a contact nobody wrote to yet has
/// no account: 404, nothing shown).
async fn inbox_entries(api: &Api) -> usize {
    let inboxes = (0..LINKED_SESSIONS * CONTACTS_EACH).map(|c| async move {
        let url = format!("{}/admin/contacts/1555030{c:04}/inbox", api.sim);
        let inbox: Value = api
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        inbox.as_array().map_or(0, Vec::len)
    });
    futures::future::join_all(inboxes).await.into_iter().sum()
}
