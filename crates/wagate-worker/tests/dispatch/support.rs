//! A fresh outbox per test, scripted receivers on port 0, and waiting on
//! conditions with a deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::time::Instant;
use wagate_core::{SessionId, SessionKey, TenantId};
use wagate_net::AddressPolicy;
use wagate_net::webhook::WebhookRetry;
use wagate_store::events::{DeliveryRecord, Endpoint, NewEndpoint, NewEvent};
use wagate_store::{Committer, Events, StateCipher};
use wagate_worker::{DispatchSettings, Dispatcher, NativeRender};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const TENANT: TenantId = TenantId(1);
const DEADLINE: Duration = Duration::from_secs(30);

/// A migrated database in a temporary directory, and its outbox.
pub async fn outbox() -> (Events, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wagate.db").display());
    let pool = wagate_store::db::Db::open(&url).await.unwrap();
    let (cipher, _) = StateCipher::generate();
    let events = Events::new(Committer::start(pool), Arc::new(cipher))
        .await
        .unwrap();
    (events, dir)
}

/// Retries `tries - 1` times, `every` apart, without jitter.
pub fn fast_retry(tries: usize, every: Duration) -> WebhookRetry {
    let mut delays = vec![Duration::ZERO];
    delays.resize(tries, every);
    WebhookRetry {
        delays,
        jitter_percent: 0,
        give_up_after: Duration::from_secs(24 * 3600),
    }
}

/// Settings that may call receivers on 127.0.0.1, retrying `tries` times.
pub fn loopback_settings(tries: usize) -> DispatchSettings {
    settings(
        AddressPolicy::from_allow_list(["127.0.0.1/32"]).unwrap(),
        tries,
    )
}

pub fn settings(policy: AddressPolicy, tries: usize) -> DispatchSettings {
    DispatchSettings {
        retry: fast_retry(tries, Duration::from_millis(50)),
        ..DispatchSettings::new(policy).unwrap()
    }
}

pub fn start(events: &Events, settings: DispatchSettings) -> Dispatcher {
    Dispatcher::start(events.clone(), settings, Arc::new(NativeRender))
}

pub fn session() -> SessionKey {
    SessionKey {
        tenant: TENANT,
        session: SessionId::parse("s1").unwrap(),
    }
}

pub async fn add_endpoint(events: &Events, id: &str, url: &str, filter: &[&str]) -> Endpoint {
    events
        .create_endpoint(NewEndpoint {
            id: id.into(),
            tenant: TENANT,
            session: None,
            url: url.into(),
            events: filter.iter().map(|s| s.to_string()).collect(),
            secret: SECRET.into(),
            headers: vec![("x-tenant-token".into(), "t0ken".into())],
            shape: "native".into(),
        })
        .await
        .unwrap()
}

/// Appends `count` `message.received` events; returns their ids.
pub async fn append(events: &Events, count: usize) -> Vec<String> {
    let batch: Vec<NewEvent> = (0..count)
        .map(|n| NewEvent {
            id: format!("evt_{:024x}", rand::random::<u64>()),
            key: session(),
            kind: "message.received".into(),
            data: json!({ "n": n, "text": "hello" }),
            held_for: None,
        })
        .collect();
    let ids = batch.iter().map(|e| e.id.clone()).collect();
    events.append(batch).await.unwrap();
    ids
}

/// Polls `check` until it gives a value; fails the test at the deadline.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The endpoint's deliveries once every one has reached `status`.
pub async fn all_deliveries(events: &Events, endpoint: &str, status: &str) -> Vec<DeliveryRecord> {
    let what = format!("every delivery to {endpoint} to be {status}");
    eventually(&what, || async {
        let all = events.deliveries(endpoint, None, 1000).await.unwrap();
        let done = !all.is_empty() && all.iter().all(|d| d.status == status);
        done.then_some(all)
    })
    .await
}

/// One request as a receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A receiver on 127.0.0.1 that logs every request and answers as
/// `answer(path, n)` says, `n` counting requests from 1.
#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
}

type Answer = dyn Fn(&str, usize) -> Response + Send + Sync;

impl Receiver {
    pub async fn start(
        answer: impl Fn(&str, usize) -> Response + Send + Sync + 'static,
    ) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::serve(listener, Arc::new(answer))
    }

    /// Serves on `listener`, e.g. bound to the port of an endpoint that
    /// was unreachable so far.
    pub fn serve(listener: TcpListener, answer: Arc<Answer>) -> Receiver {
        let address = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let mut seen = seen.lock().unwrap();
            let path = uri.path().to_owned();
            seen.push(Received {
                path: path.clone(),
                headers,
                body,
            });
            let response = answer(&path, seen.len());
            async move { response }
        });
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver { address, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(&format!("{n} requests at the receiver"), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Checks the signature as a receiver would, with nothing of the
/// gateway's code: HMAC-SHA256 over `id.timestamp.body` with the secret's
/// bytes, base64, tagged `v1,`.
pub fn assert_signed(request: &Received) {
    let key = BASE64
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let id = request.header("webhook-id");
    let timestamp = request.header("webhook-timestamp");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    let sent: Vec<&str> = request.header("webhook-signature").split(' ').collect();
    assert!(
        sent.contains(&expected.as_str()),
        "{sent:?} lacks {expected}"
    );
    let skew = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!(skew.abs() < 300, "webhook-timestamp is {skew} s off");
}
