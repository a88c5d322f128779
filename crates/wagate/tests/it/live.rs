//! The real app with the real session engine, talking to a wasim: the
//! whole path from the API to a simulated phone and back.

use super::app::eventually;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wagate::Config;

/// How long a live step may take before the test fails.
pub const LIVE: Duration = Duration::from_secs(30);

pub struct LiveApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl LiveApp {
    /// Starts wagate on port 0 over the database in `dir`, its sessions
    /// connecting to `sim`.
    pub async fn start(sim: &wasim::Sim, dir: &Path, admin_key: &str) -> LiveApp {
        let vars = BTreeMap::from([
            (
                "WAGATE_DATABASE_URL",
                format!("sqlite://{}", dir.join("wagate.db").display()),
            ),
            ("WAGATE_ADMIN_KEY", admin_key.to_string()),
            ("WAGATE_LISTEN", "127.0.0.1:0".to_string()),
            ("WAGATE_WA_URL", sim.ws_url()),
            ("WAGATE_WA_VERSION", "2.3000.1023456789".to_string()),
        ]);
        let config = Config::load_from(None, |name| vars.get(name).cloned()).unwrap();
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        let media_client: Arc<dyn wagate_engine::HttpClient> =
            Arc::new(wasim::media::SimHttpClient::new(sim.media().ca_pem()).unwrap());
        let build = move |ctx| wagate::engine_seam::build_engine_with(ctx, Some(media_client));
        let server = tokio::spawn(wagate::run_with_engine(
            config,
            listener,
            async move {
                let _ = stop.await;
            },
            build,
        ));
        let app = LiveApp {
            base,
            http: reqwest::Client::new(),
            admin_key: admin_key.to_string(),
            shutdown: Some(shutdown),
            server: Some(server),
        };
        let (http, health) = (app.http.clone(), app.url("/health"));
        eventually(Duration::from_secs(10), || {
            let (http, health) = (http.clone(), health.clone());
            async move {
                http.get(&health)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status() == 200)
            }
        })
        .await;
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with the admin key; returns status and JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.admin_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Polls a session until `check` accepts it.
    pub async fn session_until(
        &self,
        id: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let path = format!("/api/v1/sessions/{id}");
        let deadline = tokio::time::Instant::now() + LIVE;
        loop {
            let (_, v) = self.call(Method::GET, &path, None).await;
            if check(&v) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "session {id} never reached {what}; last: {v}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the app as SIGTERM would, engine included.
    pub async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        let server = self.server.take().unwrap();
        tokio::time::timeout(Duration::from_secs(15), server)
            .await
            .expect("app stops within 15s")
            .unwrap()
            .unwrap();
    }
}

impl Drop for LiveApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A call to the simulator's admin API.
pub async fn sim_call(
    sim: &wasim::Sim,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", sim.admin_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls the simulator until `check` accepts the answer.
pub async fn sim_until(
    sim: &wasim::Sim,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + LIVE;
    loop {
        let (_, v) = sim_call(sim, Method::GET, path, None).await;
        if check(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "simulator never showed {what}; last: {v}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Creates session `id`, scans its QR as `phone`, and waits for it to be
/// connected.
pub async fn linked_session(app: &LiveApp, sim: &wasim::Sim, id: &str, phone: &str) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"sessionId": id, "name": id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let qr = app
        .session_until(id, "qr", |s| s["status"] == "qr" && s["qrCode"].is_string())
        .await;
    let (status, body) = sim_call(
        sim,
        Method::POST,
        "/admin/scan",
        Some(json!({"qr": qr["qrCode"], "phone": phone})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.session_until(id, "connected", |s| s["status"] == "connected")
        .await
}
