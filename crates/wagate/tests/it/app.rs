//! Starting the real app on port 0 over a fresh database, and small
//! request helpers.

use super::fake_engine::{EngineDown, FakeEngine};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wagate::{Config, Services};
use wagate_core::SessionControl;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_key: String,
    pub data_dir: PathBuf,
    /// Set when the app runs with the fake engine.
    pub engine: Option<Arc<FakeEngine>>,
    engine_stopped: Arc<AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Retries `check` until it returns `Some` or `within` passes.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks status and error kind; returns the body for further checks.
pub async fn assert_error(response: Response, status: u16, kind: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let body: Value = response.json().await.expect("error bodies are JSON");
    assert_eq!(body["error"], kind, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

impl TestApp {
    /// The app with a session engine that is down: every session command
    /// is refused as unavailable. Independent of the engine `wagate serve`
    /// builds, so these tests keep their meaning when that changes.
    pub async fn spawn() -> TestApp {
        TestApp::start(None).await
    }

    /// The app over [`FakeEngine`].
    pub async fn spawn_with_fake_engine() -> TestApp {
        TestApp::start(Some(Arc::new(FakeEngine::default()))).await
    }

    async fn start(engine: Option<Arc<FakeEngine>>) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let admin_key = format!("test-admin-{}", wagate_core::NewApiKey::generate().secret);
        let vars = BTreeMap::from([
            (
                "WAGATE_DATABASE_URL".to_string(),
                format!("sqlite://{}", dir.path().join("db/wagate.db").display()),
            ),
            ("WAGATE_ADMIN_KEY".to_string(), admin_key.clone()),
            ("WAGATE_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ]);
        let config = Config::load_from(None, |name| vars.get(name).cloned()).unwrap();
        let data_dir = config.data_dir.clone();
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        let shutdown_signal = async move {
            let _ = stop.await;
        };
        let engine_stopped = Arc::new(AtomicBool::new(false));
        let stopped = engine_stopped.clone();
        let fake = engine.clone();
        let build = move |ctx: wagate::EngineContext| async move {
            let control: Arc<dyn SessionControl> = match fake {
                Some(fake) => {
                    fake.attach(ctx.store.clone());
                    fake
                }
                None => Arc::new(EngineDown),
            };
            Ok(Services::new(control, async move {
                stopped.store(true, Ordering::SeqCst);
            }))
        };
        let server = tokio::spawn(wagate::run_with_engine(
            config,
            listener,
            shutdown_signal,
            build,
        ));
        let app = TestApp {
            base,
            http: reqwest::Client::new(),
            admin_key,
            data_dir,
            engine,
            engine_stopped,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        };
        let http = app.http.clone();
        let health = app.url("/health");
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

    pub fn engine(&self) -> &FakeEngine {
        self.engine
            .as_deref()
            .expect("started with the fake engine")
    }

    /// A request authenticated with `key` as a Bearer token.
    pub fn request(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(key)
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.request(Method::GET, path, key).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Response {
        self.request(Method::POST, path, key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, key: &str) -> Response {
        self.request(Method::DELETE, path, key)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_tenant(&self, name: &str) -> i64 {
        let response = self
            .post("/api/v1/tenants", &self.admin_key, json!({ "name": name }))
            .await;
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a key as `by`; returns its id and secret.
    pub async fn create_key(&self, by: &str, body: Value) -> (i64, String) {
        let response = self.post("/api/v1/keys", by, body).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        (
            body["id"].as_i64().unwrap(),
            body["key"].as_str().unwrap().to_string(),
        )
    }

    /// A tenant with a tenant key; returns (tenant id, key).
    pub async fn tenant_with_key(&self, name: &str) -> (i64, String) {
        let tenant = self.create_tenant(name).await;
        let (_, key) = self
            .create_key(
                &self.admin_key,
                json!({ "scope": "tenant", "tenantId": tenant }),
            )
            .await;
        (tenant, key)
    }

    /// Creates a session as `by`; returns the whole 201 body.
    pub async fn create_session(&self, by: &str, session_id: &str) -> Value {
        let response = self
            .post("/api/v1/sessions", by, json!({ "sessionId": session_id }))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// Shuts the app down as SIGTERM would and checks it stopped cleanly,
    /// engine included.
    pub async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        let server = self.server.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("app stops within 10s")
            .unwrap()
            .unwrap();
        assert!(
            self.engine_stopped.load(Ordering::SeqCst),
            "the engine's shutdown hook ran"
        );
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
