//! The real app on port 0 over a fresh database, its session engine
//! talking to the test's own wasim; and small request helpers.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wagate::{Config, Services};
use wagate_store::Store;
use wagate_store::testing::{TestBackend, TestDatabase};

/// The WhatsApp Web version the client announces; pinned because the
/// simulator cannot answer the client's version lookup on the web.
const WA_VERSION: &str = "2.3000.1023456789";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_key: String,
    pub data_dir: PathBuf,
    /// The `WAGATE_DATABASE_URL` the app runs on.
    pub database_url: String,
    /// WhatsApp for this test alone; it outlives restarts of the app.
    pub sim: Arc<wasim::Sim>,
    /// The app's own store handle (the engine is built with it).
    store: Store,
    dir: Arc<tempfile::TempDir>,
    /// The database, on the backend `WAGATE_TEST_DATABASE` names; it
    /// outlives restarts of the app.
    database: Arc<TestDatabase>,
    /// Settings this test gives over the defaults; kept across restarts.
    env: Vec<(String, String)>,
    engine_stopped: Arc<AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
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
    /// The app over a fresh database, with a fresh simulator.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// As [`TestApp::spawn`], with `env` set over the test defaults.
    pub async fn spawn_with(env: &[(&str, &str)]) -> TestApp {
        let sim = Arc::new(wasim::Sim::start().await.unwrap());
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let admin_key = format!("test-admin-{}", wagate_core::NewApiKey::generate().secret);
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let database = Arc::new(TestDatabase::from_env().await);
        TestApp::start(sim, dir, database, admin_key, env.collect()).await
    }

    /// Stops the app cleanly and starts it again over the same database
    /// and simulator, as a process restart would.
    pub async fn restart(mut self) -> TestApp {
        self.halt().await;
        let (sim, dir, admin_key) = (self.sim.clone(), self.dir.clone(), self.admin_key.clone());
        let database = self.database.clone();
        let env = std::mem::take(&mut self.env);
        drop(self);
        TestApp::start(sim, dir, database, admin_key, env).await
    }

    async fn start(
        sim: Arc<wasim::Sim>,
        dir: Arc<tempfile::TempDir>,
        database: Arc<TestDatabase>,
        admin_key: String,
        env: Vec<(String, String)>,
    ) -> TestApp {
        // On SQLite the database file lives in the data directory, as in
        // a default install.
        let database_url = match database.backend {
            TestBackend::Sqlite => {
                format!("sqlite://{}", dir.path().join("db/wagate.db").display())
            }
            TestBackend::Postgres => database.url.clone(),
        };
        let mut vars = BTreeMap::from([
            ("WAGATE_DATABASE_URL", database_url.clone()),
            (
                "WAGATE_DATA_DIR",
                dir.path().join("db").display().to_string(),
            ),
            ("WAGATE_ADMIN_KEY", admin_key.clone()),
            ("WAGATE_LISTEN", "127.0.0.1:0".to_string()),
            ("WAGATE_WA_URL", sim.ws_url()),
            ("WAGATE_WA_VERSION", WA_VERSION.to_string()),
            // Tests send as fast as the queue goes unless they set a
            // session's pacing; a withheld ack is noticed quickly.
            ("WAGATE_SEND_MIN_INTERVAL_MS", "0".to_string()),
            ("WAGATE_SEND_HOURLY_CAP", "0".to_string()),
            ("WAGATE_SEND_FIRST_CONTACT_DAILY_CAP", "0".to_string()),
            ("WAGATE_SEND_ACK_TIMEOUT_MS", "1500".to_string()),
            // Tests make many sessions and messages per tenant; the tier
            // tests choose their tenants' tiers.
            ("WAGATE_DEFAULT_TIER", "unlimited".to_string()),
        ]);
        vars.extend(env.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let config = Config::load_from(None, |name| vars.get(name).cloned()).unwrap();
        let data_dir = config.data_dir.clone();
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();

        // Media goes to the simulator's host, whose certificate only this
        // client trusts.
        let media_client: Arc<dyn wagate_engine::HttpClient> =
            Arc::new(wasim::media::SimHttpClient::new(sim.media().ca_pem()).unwrap());
        let engine_stopped = Arc::new(AtomicBool::new(false));
        let store_slot = Arc::new(OnceLock::new());
        let (stopped, slot) = (engine_stopped.clone(), store_slot.clone());
        let build = move |ctx: wagate::EngineContext| async move {
            let _ = slot.set(ctx.store.clone());
            let engine = wagate::engine_seam::build_engine_with(ctx, Some(media_client)).await?;
            // Records that `run` awaited the engine's shutdown.
            Ok(Services::new(engine.control, async move {
                engine.shutdown.await;
                stopped.store(true, Ordering::SeqCst);
            }))
        };
        let server = tokio::spawn(wagate::run_with_engine(
            config,
            listener,
            async move {
                let _ = stop.await;
            },
            build,
        ));

        let http = reqwest::Client::new();
        let health = format!("{base}/health");
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
        TestApp {
            base,
            http,
            admin_key,
            data_dir,
            database_url,
            sim,
            store: store_slot.get().expect("the engine is built").clone(),
            dir,
            database,
            env,
            engine_stopped,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The database the app runs on.
    pub fn store(&self) -> &Store {
        &self.store
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

    /// GET as `key`, expecting 200; returns the body.
    pub async fn read(&self, path: &str, key: &str) -> Value {
        let response = self.get(path, key).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
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

    /// Shuts the app down as SIGTERM would and checks it stopped cleanly:
    /// the engine's shutdown ran and no client is left on the simulator.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    async fn halt(&mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        let server = self.server.take().unwrap();
        tokio::time::timeout(Duration::from_secs(15), server)
            .await
            .expect("app stops within 15s")
            .unwrap()
            .unwrap();
        assert!(
            self.engine_stopped.load(Ordering::SeqCst),
            "the engine's shutdown hook ran"
        );
        self.sim_until("/admin/stats", "every client gone", |s| {
            s["connections"] == 0
        })
        .await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
