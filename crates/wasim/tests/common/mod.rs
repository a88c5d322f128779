//! A real whatsapp-rust client driven against a wasim, with its events
//! recorded so tests can wait for them.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use wasim::Sim;
use wasim::media::SimHttpClient;
use whatsapp_rust::Client;
use whatsapp_rust::bot::{Bot, BotHandle};
use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::store::traits::Backend;
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::Event;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn init_logs() {
    let _ = env_logger::builder().is_test(true).try_init();
}

pub struct TestClient {
    pub handle: Option<BotHandle>,
    pub client: Arc<Client>,
    pub backend: Arc<dyn Backend>,
    events: Arc<Mutex<Vec<Arc<Event>>>>,
    changed: Arc<Notify>,
}

impl TestClient {
    /// Starts a client on `backend` (fresh for pairing, reused to log in).
    pub async fn start(sim: &Sim, backend: Arc<dyn Backend>) -> TestClient {
        TestClient::start_with(sim, backend, None).await
    }

    /// Like `start`, and when `pair_code` is given the client also asks to
    /// be linked by code (its `Event::PairingCode` carries the code).
    pub async fn start_with(
        sim: &Sim,
        backend: Arc<dyn Backend>,
        pair_code: Option<PairCodeOptions>,
    ) -> TestClient {
        let events: Arc<Mutex<Vec<Arc<Event>>>> = Arc::default();
        let changed = Arc::new(Notify::new());
        let (ev, ch) = (events.clone(), changed.clone());
        let mut builder = Bot::builder()
            .with_backend_arc(backend.clone())
            .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(sim.ws_url()))
            .with_http_client(SimHttpClient::new(sim.media().ca_pem()).expect("http client"))
            .with_version((2, 3000, 1_023_456_789))
            .on_event(move |event, _client| {
                let (ev, ch) = (ev.clone(), ch.clone());
                async move {
                    ev.lock().unwrap().push(event);
                    ch.notify_waiters();
                }
            });
        if let Some(options) = pair_code {
            builder = builder.with_pair_code(options);
        }
        let bot = builder.build().await.expect("bot builds");
        let handle = bot.spawn();
        let client = handle.client();
        TestClient {
            handle: Some(handle),
            client,
            backend,
            events,
            changed,
        }
    }

    /// Waits until `pick` finds something among the events so far.
    pub async fn wait_for<T>(&self, what: &str, pick: impl Fn(&Event) -> Option<T>) -> T {
        self.wait_all(what, |events| events.iter().find_map(|e| pick(e)))
            .await
    }

    /// Waits until `pick` finds something in the whole event history.
    pub async fn wait_all<T>(&self, what: &str, pick: impl Fn(&[Arc<Event>]) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let notified = self.changed.notified();
            if let Some(found) = pick(&self.events.lock().unwrap()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .events
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|e| format!("{:?}", std::mem::discriminant(&**e)))
                    .collect();
                panic!(
                    "timed out waiting for {what}; {} events seen: {seen:?}",
                    seen.len()
                );
            }
        }
    }

    pub fn count(&self, pick: impl Fn(&Event) -> bool) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| pick(e))
            .count()
    }

    pub async fn qr(&self) -> String {
        self.wait_for("a QR code", |e| match e {
            Event::PairingQrCode(q) => Some(q.code.clone()),
            _ => None,
        })
        .await
    }

    /// The code the client shows for linking by code.
    pub async fn pair_code(&self) -> String {
        self.wait_for("a pairing code", |e| match e {
            Event::PairingCode(p) => Some(p.code.clone()),
            _ => None,
        })
        .await
    }

    pub async fn connected(&self) {
        self.wait_for("Connected", |e| {
            matches!(e, Event::Connected(_)).then_some(())
        })
        .await
    }

    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

pub async fn admin(
    sim: &Sim,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let http = reqwest::Client::new();
    let mut req = http.request(method, format!("{}{path}", sim.admin_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("admin request");
    let status = resp.status().as_u16();
    let value = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, value)
}

/// Polls the admin API until `check` accepts the answer.
pub async fn admin_until(
    sim: &Sim,
    path: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, v) = admin(sim, reqwest::Method::GET, path, None).await;
        if check(&v) {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}; last answer {v}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh client linked to `phone` by QR, connected.
pub async fn paired_client(sim: &Sim, phone: &str) -> TestClient {
    let backend: Arc<dyn Backend> = Arc::new(whatsapp_rust::wacore::store::InMemoryBackend::new());
    let client = TestClient::start(sim, backend).await;
    let qr = client.qr().await;
    let (status, body) = admin(
        sim,
        reqwest::Method::POST,
        "/admin/scan",
        Some(serde_json::json!({"qr": qr, "phone": phone})),
    )
    .await;
    assert_eq!(status, 200, "scan: {body}");
    client.connected().await;
    client
}

/// `phone`'s user JID.
pub fn user_jid(phone: &str) -> whatsapp_rust::Jid {
    format!("{phone}@s.whatsapp.net").parse().unwrap()
}

impl TestClient {
    /// Sends `text` to `phone`'s user JID; returns the message id.
    pub async fn send_text(&self, phone: &str, text: &str) -> String {
        let msg = whatsapp_rust::waproto::whatsapp::Message {
            conversation: Some(text.into()),
            ..Default::default()
        };
        self.send(phone, msg).await
    }

    /// Sends `msg` to `phone`'s user JID; returns the message id.
    pub async fn send(
        &self,
        phone: &str,
        msg: whatsapp_rust::waproto::whatsapp::Message,
    ) -> String {
        self.client
            .send_message(user_jid(phone), msg)
            .await
            .expect("send")
            .message_id
    }

    /// Waits for the server's ack (or nack) of message `id`.
    pub async fn server_ack(&self, id: &str) -> whatsapp_rust::types::events::ServerAck {
        self.wait_for("the server's ack", |e| match e {
            Event::ServerAck(ack) if ack.id == id => Some(ack.clone()),
            _ => None,
        })
        .await
    }

    /// How many server acks for message `id` arrived so far.
    pub fn acks_for(&self, id: &str) -> usize {
        self.count(|e| matches!(e, Event::ServerAck(ack) if ack.id == id))
    }
}

/// The entry for message `id` in `contact`'s inbox, once it is there.
pub async fn inbox_entry(sim: &Sim, contact: &str, id: &str) -> serde_json::Value {
    let inbox = admin_until(
        sim,
        &format!("/admin/contacts/{contact}/inbox"),
        "the message in the contact's inbox",
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|e| e["id"] == id))
        },
    )
    .await;
    let found = inbox.as_array().unwrap().iter().find(|e| e["id"] == id);
    found.cloned().unwrap()
}

/// `contact` sends `body` (with `to` set to `to`); returns the message id.
pub async fn contact_send(
    sim: &Sim,
    contact: &str,
    to: &str,
    mut body: serde_json::Value,
) -> String {
    body["to"] = serde_json::json!(to);
    let path = format!("/admin/contacts/{contact}/send");
    let (status, answer) = admin(sim, reqwest::Method::POST, &path, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().expect("message id").to_string()
}

impl TestClient {
    /// The message with stanza id `id`, once the client reports it.
    pub async fn received(&self, id: &str) -> whatsapp_rust::types::events::InboundMessage {
        self.wait_for("the contact's message", |e| match e {
            Event::Messages(batch) => batch
                .messages
                .iter()
                .find(|m| m.info.id.as_str() == id)
                .cloned(),
            _ => None,
        })
        .await
    }
}
