//! The outbound queue across a crash: a `wagate serve` process killed with
//! SIGKILL while its senders drain loses no accepted message, and the one
//! started after it resends what was in flight under the same ids, so
//! every contact shows each message once (a resend adds a copy to the
//! entry, never a second entry).
//!
//! `cargo test -p wagate --all-features --test crash -- --nocapture`
//! prints what was in flight at the kill and how many were resent.

mod gateway;

use gateway::{Api, Gateway, NO_PACING, POLL, eventually, until};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};
use wagate_core::{SessionId, SessionKey};
use wagate_store::outbound::ListFilter;

const SESSIONS: usize = 20;
const PER_SESSION: usize = 100;
const TOTAL: usize = SESSIONS * PER_SESSION;
/// Each session writes to this many contacts, out of a shared pool, so
/// phones receive from several sessions at once.
const CONTACTS_EACH: usize = 4;
const CONTACT_POOL: usize = 10;
/// Statuses that mean WhatsApp took the message.
const DONE: [&str; 3] = ["sent", "delivered", "read"];

/// What the test asked for, to hold each contact's inbox against.
struct Queued {
    session: usize,
    contact: String,
    text: String,
}

fn session_id(i: usize) -> String {
    format!("crash{i:02}")
}

fn session_phone(i: usize) -> String {
    format!("1555010{i:04}")
}

fn contact_phone(c: usize) -> String {
    format!("1555020{c:04}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_drain_loses_nothing_and_shows_each_message_once() {
    let started = Instant::now();
    let sim = wasim::Sim::start().await.unwrap();
    // Kept when the test fails: the database and both processes' logs.
    let dir = tempfile::Builder::new()
        .prefix("wagate-crash-")
        .tempdir()
        .unwrap()
        .keep();
    println!("data and logs in {}", dir.display());
    let http = reqwest::Client::new();
    let mut first = Gateway::start(&dir, "first", &sim.ws_url(), &NO_PACING);
    first.ready(&http).await;
    let mut api = Api {
        http: http.clone(),
        base: first.base.clone(),
        sim: sim.admin_url(),
    };
    futures::future::join_all((0..SESSIONS).map(|i| {
        let api = api.clone();
        async move { api.link(&session_id(i), &session_phone(i)).await }
    }))
    .await;
    println!("linked {SESSIONS} sessions by {:.1?}", started.elapsed());

    let queued = queue_all(&api).await;
    let seen = eventually("a third sent", Duration::from_secs(60), async || {
        let seen = statuses(&api).await;
        (taken(&seen) >= TOTAL / 3).then_some(seen)
    })
    .await;
    first.kill();
    assert!(
        taken(&seen) < TOTAL,
        "the drain ended before the kill: {seen:?}"
    );
    println!(
        "killed at {:.1?}; the API showed {seen:?}",
        started.elapsed()
    );
    println!("stored at the kill: {:?}", stored_statuses(&dir).await);

    let mut second = Gateway::start(&dir, "second", &sim.ws_url(), &NO_PACING);
    second.ready(&http).await;
    api.base = second.base.clone();
    // On a timeout the listing check below names what is stuck.
    until(Duration::from_secs(60), POLL, async || {
        drained(&api).await.then_some(())
    })
    .await;
    println!("drained again by {:.1?}", started.elapsed());
    let attempts = check_listings(&api, &queued).await;
    println!("tries per message (claims, not sends): {attempts:?}");

    let copies = check_inboxes(&api, &queued).await;
    let resent: u64 = copies
        .iter()
        .filter(|(n, _)| **n > 1)
        .map(|(_, ids)| ids)
        .sum();
    let extra: u64 = copies.iter().map(|(n, ids)| (n - 1) * ids).sum();
    println!(
        "inboxes: {TOTAL} distinct ids, one entry each; ids by copies {copies:?}: {resent} \
         resent after the kill"
    );
    let stats = api.sim_get("/admin/stats").await;
    assert_eq!(stats["duplicateMessages"], extra, "{stats}");
    second.stop();
    std::fs::remove_dir_all(&dir).unwrap();
    println!("whole test: {:.1?}", started.elapsed());
}

/// How many WhatsApp took (acked), of counts by status.
fn taken(counts: &BTreeMap<String, usize>) -> usize {
    DONE.iter().filter_map(|s| counts.get(*s)).sum()
}

/// Nothing queued or sending in any session: a cheap probe (a page of
/// one), where listing every message on each poll would slow the drain.
async fn drained(api: &Api) -> bool {
    let waiting = futures::future::join_all((0..SESSIONS).flat_map(|i| {
        ["queued", "sending"].map(|status| async move {
            let path = format!(
                "/api/v1/sessions/{}/messages?status={status}&limit=1",
                session_id(i)
            );
            api.get(&path).await["items"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
    }))
    .await;
    !waiting.contains(&true)
}

/// Queues every session's messages in one bulk request each, so every
/// sender starts draining within moments of the others and the kill can
/// land in the middle (single sends would still be arriving while the
/// first sessions finish). Returns the messages by id.
async fn queue_all(api: &Api) -> HashMap<String, Queued> {
    let answers = futures::future::join_all((0..SESSIONS).map(|session| async move {
        let wanted: Vec<Queued> = (0..PER_SESSION)
            .map(|n| Queued {
                session,
                contact: contact_phone((session + n % CONTACTS_EACH) % CONTACT_POOL),
                text: format!("{} #{n}", session_id(session)),
            })
            .collect();
        let messages: Vec<Value> = wanted
            .iter()
            .map(|q| json!({ "to": format!("+{}", q.contact), "text": q.text }))
            .collect();
        let path = format!("/api/v1/sessions/{}/messages/bulk", session_id(session));
        let body = json!({ "messages": messages });
        let (status, answer) = api.call(reqwest::Method::POST, &path, Some(body)).await;
        assert_eq!(status, 202, "{path}: {answer}");
        let listed = answer["messages"].as_array().unwrap();
        assert_eq!(listed.len(), PER_SESSION, "{answer}");
        // Listed in the order asked.
        listed
            .iter()
            .zip(wanted)
            .map(|(m, q)| {
                assert_eq!(m["status"], "queued", "{m}");
                assert_eq!(m["to"], format!("{}@s.whatsapp.net", q.contact), "{m}");
                (m["id"].as_str().unwrap().to_string(), q)
            })
            .collect::<Vec<_>>()
    }))
    .await;
    let queued: HashMap<_, _> = answers.into_iter().flatten().collect();
    assert_eq!(queued.len(), TOTAL, "every message has its own id");
    queued
}

/// One page of each session's messages (all of them: PER_SESSION fits).
async fn listings(api: &Api) -> Vec<Value> {
    futures::future::join_all((0..SESSIONS).map(|i| async move {
        let path = format!(
            "/api/v1/sessions/{}/messages?limit={PER_SESSION}",
            session_id(i)
        );
        let page = api.get(&path).await;
        assert!(
            page["nextCursor"].is_null(),
            "{path} has more than one page"
        );
        page
    }))
    .await
}

/// Messages by status, as the API shows them.
async fn statuses(api: &Api) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for page in listings(api).await {
        for item in page["items"].as_array().unwrap() {
            *counts
                .entry(item["status"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    counts
}

/// Messages by status in the database the killed process left: what
/// was in flight (`sending`) at the kill. Read before the restart, which
/// puts those back in the queue.
async fn stored_statuses(dir: &Path) -> BTreeMap<String, usize> {
    let url = format!("sqlite://{}", dir.join("wagate.db").display());
    let pool = wagate_store::db::Db::open(&url).await.unwrap();
    let store = wagate_store::Store::new(pool.clone());
    let tenant = store.default_tenant().await.unwrap().id;
    let queue = wagate_store::Outbound::new(wagate_store::Committer::start(pool.clone()));
    let mut counts = BTreeMap::new();
    for i in 0..SESSIONS {
        let key = SessionKey {
            tenant,
            session: SessionId::parse(&session_id(i)).unwrap(),
        };
        let page = queue
            .list(
                &key,
                &ListFilter {
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for record in page.items {
            *counts
                .entry(record.status.as_str().to_string())
                .or_default() += 1;
        }
    }
    pool.close().await;
    counts
}

/// Every listed message is one the test queued, sent or later; returns
/// how many messages took how many tries.
async fn check_listings(api: &Api, queued: &HashMap<String, Queued>) -> BTreeMap<u64, usize> {
    let mut attempts = BTreeMap::new();
    let mut stuck = Vec::new();
    let mut listed = 0;
    for (i, page) in listings(api).await.iter().enumerate() {
        for item in page["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            let asked = queued
                .get(id)
                .unwrap_or_else(|| panic!("{id} was never queued: {item}"));
            assert_eq!(asked.session, i, "{id} listed under another session");
            if !DONE.contains(&item["status"].as_str().unwrap()) {
                let fields = ["id", "status", "attempts", "lastError", "waitReason"];
                stuck.push(fields.map(|f| item[f].to_string()).join(" "));
            }
            *attempts
                .entry(item["attempts"].as_u64().unwrap())
                .or_default() += 1;
            listed += 1;
        }
    }
    assert!(
        stuck.is_empty(),
        "{} not sent:\n{}",
        stuck.len(),
        stuck.join("\n")
    );
    assert_eq!(listed, TOTAL);
    attempts
}

/// Waits until every message is in its contact's inbox, then checks each
/// id shows as exactly one entry, from the right session with the right
/// text. Returns how many ids were shown with how many copies.
async fn check_inboxes(api: &Api, queued: &HashMap<String, Queued>) -> BTreeMap<u64, u64> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut missing: Vec<&String> = Vec::new();
    until(Duration::from_secs(30), POLL, async || {
        entries.clear();
        for phone in (0..CONTACT_POOL).map(contact_phone) {
            let inbox = api.sim_get(&format!("/admin/contacts/{phone}/inbox")).await;
            let inbox = inbox.as_array().unwrap().iter();
            entries.extend(inbox.map(|e| (phone.clone(), e.clone())));
        }
        let shown: HashSet<&str> = entries
            .iter()
            .filter_map(|(_, e)| e["id"].as_str())
            .collect();
        missing = queued
            .keys()
            .filter(|id| !shown.contains(id.as_str()))
            .collect();
        missing.is_empty().then_some(())
    })
    .await;
    let missing: Vec<String> = missing
        .iter()
        .map(|id| format!("{id} ({} to {})", queued[*id].text, queued[*id].contact))
        .collect();
    assert!(
        missing.is_empty(),
        "{} never shown:\n{}",
        missing.len(),
        missing.join("\n")
    );
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut copies = BTreeMap::new();
    for (phone, entry) in &entries {
        let id = entry["id"].as_str().unwrap();
        let asked = queued
            .get(id)
            .unwrap_or_else(|| panic!("{phone} shows {id}, never queued: {entry}"));
        assert_eq!(*phone, asked.contact, "{id} reached another contact");
        assert_eq!(entry["from"], session_phone(asked.session), "{entry}");
        assert_eq!(entry["text"], asked.text, "{entry}");
        *by_id.entry(id).or_default() += 1;
        *copies.entry(entry["copies"].as_u64().unwrap()).or_default() += 1;
    }
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "ids shown as more than one entry: {twice:?}"
    );
    copies
}
