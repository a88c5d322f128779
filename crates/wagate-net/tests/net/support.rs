//! Local servers on port 0 and clients pointed at them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use wagate_net::{AddressPolicy, ClientOptions, Url, guarded_client};

pub const USER_AGENT: &str = "wagate-net-tests";

/// Serves `router` on `ip`, port 0; returns the base URL.
pub async fn serve_on(ip: &str, router: Router) -> Url {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Url::parse(&format!("http://{address}/")).unwrap()
}

pub async fn serve(router: Router) -> Url {
    serve_on("127.0.0.1", router).await
}

/// Counts requests that reached a server, to prove a refused one got none.
#[derive(Clone, Default)]
pub struct Hits(Arc<AtomicUsize>);

impl Hits {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub fn record(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A server answering `body` on every path, counting the requests.
pub async fn counting_server(ip: &str, body: &'static str) -> (Url, Hits) {
    let hits = Hits::default();
    let counter = hits.clone();
    let router = Router::new().fallback(get(move || {
        counter.0.fetch_add(1, Ordering::SeqCst);
        async move { body }
    }));
    (serve_on(ip, router).await, hits)
}

pub fn allowing(entries: &[&str]) -> AddressPolicy {
    AddressPolicy::from_allow_list(entries).unwrap()
}

pub fn media_client(policy: &AddressPolicy) -> reqwest::Client {
    guarded_client(policy, ClientOptions::media(USER_AGENT)).unwrap()
}

pub fn webhook_client(policy: &AddressPolicy) -> reqwest::Client {
    guarded_client(policy, ClientOptions::webhook(USER_AGENT)).unwrap()
}

/// A media client whose whole-request deadline is `timeout`.
pub fn client_with_deadline(policy: &AddressPolicy, timeout: Duration) -> reqwest::Client {
    let options = ClientOptions {
        timeout,
        ..ClientOptions::media(USER_AGENT)
    };
    guarded_client(policy, options).unwrap()
}

/// `base` with its host replaced, e.g. by `localhost` or an IPv6 literal.
pub fn with_host(base: &Url, host: &str) -> Url {
    let mut url = base.clone();
    url.set_host(Some(host)).unwrap();
    url
}
