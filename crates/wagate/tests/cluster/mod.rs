//! Several `wagate serve` processes on one PostgreSQL database, for the
//! failover and fencing tests: starting them, linking sessions through
//! them, queueing messages, and checking that every message reached its
//! contact once.

#![allow(dead_code)] // each user takes what it needs

use super::gateway::{Api, Gateway, NO_PACING, POLL, until};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use wagate_store::testing::TestDatabase;

/// Every node must seal and open the same WhatsApp state.
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
/// Contacts the sessions write to.
pub const CONTACTS: usize = 10;

pub fn session_id(i: usize) -> String {
    format!("fo{i:03}")
}

pub fn session_phone(i: usize) -> String {
    format!("1555030{i:04}")
}

pub fn contact_phone(c: usize) -> String {
    format!("1555040{c:04}")
}

/// A message the test queued, to hold the contact's inbox against.
pub struct Queued {
    pub session: String,
    pub from: String,
    pub contact: String,
    pub text: String,
}

pub struct Cluster {
    nodes: Vec<Option<Gateway>>,
    /// Each node's id, as it registered.
    pub ids: Vec<String>,
    apis: Vec<Api>,
    pub dir: PathBuf,
}

impl Cluster {
    /// Starts `count` nodes on `db`, with `env` on top of pacing off.
    pub async fn start(
        sim: &wasim::Sim,
        db: &TestDatabase,
        count: usize,
        env: &[(&str, &str)],
    ) -> Cluster {
        Cluster::start_each(sim, db, &vec![env; count]).await
    }

    /// Starts a node on `db` per entry of `envs`, each with its own
    /// settings on top of pacing off.
    pub async fn start_each(
        sim: &wasim::Sim,
        db: &TestDatabase,
        envs: &[&[(&str, &str)]],
    ) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("wagate-cluster-")
            .tempdir()
            .unwrap()
            .keep();
        println!("logs in {}", dir.display());
        let mut all: Vec<(&str, &str)> = NO_PACING.to_vec();
        all.extend([
            ("WAGATE_DATABASE_URL", db.url.as_str()),
            ("WAGATE_MASTER_KEY", MASTER_KEY),
        ]);
        let http = reqwest::Client::new();
        let mut nodes = Vec::new();
        let mut apis = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            let mut env_i = all.clone();
            env_i.extend_from_slice(env);
            let mut node = Gateway::start(&dir, &format!("node{i}"), &sim.ws_url(), &env_i);
            node.ready(&http).await;
            apis.push(Api {
                http: http.clone(),
                base: node.base.clone(),
                sim: sim.admin_url(),
            });
            nodes.push(Some(node));
        }
        // Any node with the API lists them all.
        let mut listed = Value::Null;
        for api in &apis {
            let (status, body) = api
                .call(reqwest::Method::GET, "/api/v1/admin/nodes", None)
                .await;
            if status == 200 {
                listed = body;
                break;
            }
        }
        let ids = apis
            .iter()
            .map(|api| {
                let node = listed["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|n| n["address"] == api.base.as_str())
                    .unwrap_or_else(|| panic!("{} is not listed: {listed}", api.base));
                node["id"].as_str().unwrap().to_string()
            })
            .collect();
        Cluster {
            nodes,
            ids,
            apis,
            dir,
        }
    }

    pub fn api(&self, i: usize) -> Api {
        self.apis[i].clone()
    }

    pub fn node(&self, i: usize) -> &Gateway {
        self.nodes[i].as_ref().expect("a running node")
    }

    /// Links sessions `0..count`, session `i` through node `i % nodes`,
    /// which then runs it.
    pub async fn link_round_robin(&self, count: usize) {
        futures::future::join_all((0..count).map(|i| {
            let api = self.api(i % self.apis.len());
            async move { api.link(&session_id(i), &session_phone(i)).await }
        }))
        .await;
    }

    /// Which node runs each session, as a live node's API says.
    pub async fn placement(&self) -> BTreeMap<String, String> {
        let api = self.live_api();
        let listed = api.get("/api/v1/sessions").await;
        listed["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let id = s["sessionId"].as_str().unwrap().to_string();
                (id, s["node"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }

    fn live_api(&self) -> Api {
        let i = self
            .nodes
            .iter()
            .position(Option::is_some)
            .expect("a live node");
        self.api(i)
    }

    /// Queues `per` messages for every placed session, each through a
    /// live node other than the one running it; returns them by id.
    pub async fn queue_elsewhere(
        &self,
        placement: &BTreeMap<String, String>,
        per: usize,
    ) -> HashMap<String, Queued> {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect();
        let answers =
            futures::future::join_all(placement.iter().enumerate().map(|(n, (session, owner))| {
                let other = live
                    .iter()
                    .copied()
                    .find(|i| self.ids[*i] != *owner)
                    .unwrap_or(live[0]);
                let api = self.api(other);
                let index: usize = session[2..].parse().unwrap();
                async move {
                    let wanted: Vec<Queued> = (0..per)
                        .map(|k| Queued {
                            session: session.clone(),
                            from: session_phone(index),
                            contact: contact_phone((n + k) % CONTACTS),
                            text: format!("{session} #{k}"),
                        })
                        .collect();
                    let messages: Vec<Value> = wanted
                        .iter()
                        .map(|q| json!({ "to": format!("+{}", q.contact), "text": q.text }))
                        .collect();
                    let path = format!("/api/v1/sessions/{session}/messages/bulk");
                    let (status, answer) = api
                        .call(
                            reqwest::Method::POST,
                            &path,
                            Some(json!({ "messages": messages })),
                        )
                        .await;
                    assert_eq!(status, 202, "{path}: {answer}");
                    let listed = answer["messages"].as_array().unwrap().clone();
                    listed
                        .iter()
                        .zip(wanted)
                        .map(|(m, q)| (m["id"].as_str().unwrap().to_string(), q))
                        .collect::<Vec<_>>()
                }
            }))
            .await;
        answers.into_iter().flatten().collect()
    }

    /// SIGKILL for node `i`.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].take().expect("a running node").kill();
    }

    /// SIGSTOP or SIGCONT for node `i`.
    pub fn signal(&self, i: usize, signal: &str) {
        let pid = self.node(i).pid().to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// SIGTERM for every node left.
    pub fn stop_all(&mut self) {
        for node in self.nodes.iter_mut().filter_map(Option::take) {
            node.stop();
        }
    }

    /// How many messages of `sessions` are queued or being sent.
    pub async fn unsent(&self, api: &Api, sessions: &[String]) -> usize {
        let counts = futures::future::join_all(sessions.iter().flat_map(|id| {
            ["queued", "sending"].map(|status| async move {
                let path = format!("/api/v1/sessions/{id}/messages?status={status}&limit=100");
                api.get(&path).await["items"].as_array().map_or(0, Vec::len)
            })
        }))
        .await;
        counts.iter().sum()
    }

    /// Waits until no session of `0..sessions` has a message queued or
    /// being sent.
    pub async fn drained(&self, api: &Api, sessions: usize) {
        let done = until(Duration::from_secs(90), POLL, async || {
            let waiting = futures::future::join_all((0..sessions).flat_map(|i| {
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
            (!waiting.contains(&true)).then_some(())
        })
        .await;
        assert!(done.is_some(), "messages still queued after 90 s");
    }
}

/// Sends `text` from session `session` to contact `to` through `api` and
/// waits until the contact shows it.
pub async fn send_and_see(api: &Api, session: &str, to: &str, text: &str) {
    let body = json!({ "to": format!("+{to}"), "text": text });
    let path = format!("/api/v1/sessions/{session}/messages");
    let (status, sent) = api.call(reqwest::Method::POST, &path, Some(body)).await;
    assert_eq!(status, 202, "{sent}");
    let id = sent["id"].as_str().unwrap().to_string();
    let seen = until(Duration::from_secs(30), POLL, async || {
        // 404 until the contact's first message reaches it.
        let url = format!("{}/admin/contacts/{to}/inbox", api.sim);
        let inbox: Value = api.http.get(url).send().await.ok()?.json().await.ok()?;
        inbox
            .as_array()?
            .iter()
            .any(|e| e["id"] == id.as_str())
            .then_some(())
    })
    .await;
    assert!(seen.is_some(), "{text:?} never reached {to}");
}

/// Connected again on a node other than `gone`, since `since`.
pub fn back_elsewhere(session: &Value, gone: &str, since: chrono::DateTime<chrono::Utc>) -> bool {
    let node = session["node"].as_str().unwrap_or("");
    let reconnected = session["lastConnected"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t >= since);
    session["status"] == "connected" && !node.is_empty() && node != gone && reconnected
}

/// Waits until every queued message is in its contact's inbox, then
/// checks each entry is one the test queued, from the right session with
/// the right text, and each id shows once. Returns entries by copies (a
/// resend under the same id adds a copy to the entry, never a second one).
pub async fn check_inboxes(api: &Api, queued: &HashMap<String, Queued>) -> BTreeMap<u64, u64> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut missing = queued.len();
    until(Duration::from_secs(60), POLL, async || {
        entries.clear();
        for phone in (0..CONTACTS).map(contact_phone) {
            let inbox = api.sim_get(&format!("/admin/contacts/{phone}/inbox")).await;
            entries.extend(
                inbox
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| (phone.clone(), e.clone())),
            );
        }
        let shown: HashSet<&str> = entries
            .iter()
            .filter_map(|(_, e)| e["id"].as_str())
            .collect();
        missing = queued
            .keys()
            .filter(|id| !shown.contains(id.as_str()))
            .count();
        (missing == 0).then_some(())
    })
    .await;
    assert_eq!(
        missing, 0,
        "{missing} queued messages never reached their contact"
    );
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut copies = BTreeMap::new();
    for (phone, entry) in &entries {
        let id = entry["id"].as_str().unwrap();
        let asked = queued
            .get(id)
            .unwrap_or_else(|| panic!("{phone} shows {id}, never queued: {entry}"));
        assert_eq!(*phone, asked.contact, "{id} reached another contact");
        assert_eq!(entry["from"], asked.from.as_str(), "{entry}");
        assert_eq!(entry["text"], asked.text.as_str(), "{entry}");
        *by_id.entry(id).or_default() += 1;
        *copies.entry(entry["copies"].as_u64().unwrap()).or_default() += 1;
    }
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "ids shown as more than one entry: {twice:?}"
    );
    // The texts are unique too: no message went out a second time under
    // another id.
    let texts: HashSet<&str> = entries
        .iter()
        .filter_map(|(_, e)| e["text"].as_str())
        .collect();
    assert_eq!(texts.len(), entries.len(), "a text shown twice");
    copies
}
