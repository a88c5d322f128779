//! A real `wagate serve` process over a database directory that outlives
//! it, so a test can kill it (SIGKILL, not a graceful stop) and start
//! another over the same data; and the few API calls around it: linking
//! a session to a wasim phone, waiting on a condition.
//!
//! Shared by the crash tests and the outbound and webhook benchmarks
//! (`#[path]`).

#![allow(dead_code)] // each user takes what it needs

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_KEY: &str = "process-admin-key-0123456789";
/// Pinned: the simulator cannot answer the client's version lookup.
pub const WA_VERSION: &str = "2.3000.1023456789";

/// Pacing off and nothing else changed: senders go as fast as the queue.
pub const NO_PACING: [(&str, &str); 3] = [
    ("WAGATE_SEND_MIN_INTERVAL_MS", "0"),
    ("WAGATE_SEND_HOURLY_CAP", "0"),
    ("WAGATE_SEND_FIRST_CONTACT_DAILY_CAP", "0"),
];

/// A port nobody listens on right now. `127.0.0.1:0` would not tell us
/// which port the child got, so we pick one and hand it over.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

pub struct Gateway {
    child: Child,
    pub base: String,
    /// Where the process logs (its stderr).
    pub log: PathBuf,
}

impl Gateway {
    /// Starts `wagate serve` on the database in `dir`; `run` names its
    /// log file, so each start over the same directory keeps its own.
    pub fn start(dir: &Path, run: &str, ws_url: &str, env: &[(&str, &str)]) -> Gateway {
        let port = free_port();
        // WAGATE_TEST_LOG_DIR keeps the logs after the run's temporary
        // directory is gone; WAGATE_TEST_LOG sets their level.
        let log = std::env::var_os("WAGATE_TEST_LOG_DIR")
            .map_or_else(|| dir.to_path_buf(), std::path::PathBuf::from)
            .join(format!("wagate-{run}.log"));
        let level = std::env::var("WAGATE_TEST_LOG")
            .unwrap_or_else(|_| "info,whatsapp_rust=warn,wacore=warn".into());
        let mut command = Command::new(env!("CARGO_BIN_EXE_wagate"));
        command
            .arg("serve")
            // No stray ./wagate.toml or WAGATE_* of the caller's shell.
            .current_dir(dir)
            .env_remove("WAGATE_CONFIG")
            .env_remove("WAGATE_MASTER_KEY")
            .env(
                "WAGATE_DATABASE_URL",
                format!("sqlite://{}", dir.join("wagate.db").display()),
            )
            .env("WAGATE_DATA_DIR", dir)
            .env("WAGATE_ADMIN_KEY", ADMIN_KEY)
            .env("WAGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("WAGATE_WA_URL", ws_url)
            .env("WAGATE_WA_VERSION", WA_VERSION)
            .env("WAGATE_LOG", level)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("start wagate serve");
        Gateway {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the API answers; fails early if the process died.
    pub async fn ready(&mut self, http: &reqwest::Client) {
        let health = format!("{}/health", self.base);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!("wagate exited with {exit}:\n{}", self.log_tail());
            }
            if http
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wagate never answered:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown hook, no flush, sockets dropped by the kernel.
    pub fn kill(mut self) {
        // `Child::kill` is SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as an operator stops it; returns how long it took.
    pub fn stop(mut self) -> Duration {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "exit {exit}:\n{}", self.log_tail());
        started.elapsed()
    }

    /// The last lines the process logged, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // Only a failed test leaves a child running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls to one gateway's API and its wasim's admin API.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub sim: String,
}

impl Api {
    /// A request with the admin key; status and JSON body (`Null` when
    /// there is none or the connection failed: status 0).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.sim);
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Creates session `id` (it starts connecting and shows a QR).
    pub async fn create_session(&self, id: &str) {
        let body = json!({ "sessionId": id });
        let (status, body) = self
            .call(reqwest::Method::POST, "/api/v1/sessions", Some(body))
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Creates session `id`, scans its QR as `phone` and waits until it
    /// is connected.
    pub async fn link(&self, id: &str, phone: &str) {
        self.create_session(id).await;
        let path = format!("/api/v1/sessions/{id}");
        let qr = eventually(
            &format!("a QR for {id}"),
            Duration::from_secs(30),
            async || Some(self.get(&path).await["qrCode"].clone()).filter(Value::is_string),
        )
        .await;
        let scan = json!({ "qr": qr, "phone": phone });
        let url = format!("{}/admin/scan", self.sim);
        let response = self.http.post(url).json(&scan).send().await.unwrap();
        assert_eq!(response.status(), 200, "scan for {id}");
        self.connected(id).await;
    }

    /// Waits until session `id` shows as connected.
    pub async fn connected(&self, id: &str) {
        let path = format!("/api/v1/sessions/{id}");
        eventually(
            &format!("{id} connected"),
            Duration::from_secs(30),
            async || (self.get(&path).await["status"] == "connected").then_some(()),
        )
        .await;
    }

    /// Adds a webhook endpoint for session `id` that gets its received
    /// messages at `url`; returns the endpoint's id and signing secret.
    pub async fn message_webhook(&self, id: &str, url: &str) -> (String, String) {
        let body = json!({ "url": url, "shape": "native", "events": ["message.received"] });
        let path = format!("/api/v1/sessions/{id}/webhooks");
        let (status, answer) = self.call(reqwest::Method::POST, &path, Some(body)).await;
        assert_eq!(status, 201, "{path}: {answer}");
        let field = |name: &str| answer[name].as_str().unwrap().to_string();
        (field("id"), field("secret"))
    }

    /// wasim contact `from` sends `count` texts to `to` (`"{text} 1"`, …);
    /// returns their ids in that order.
    pub async fn contact_sends_many(
        &self,
        from: &str,
        to: &str,
        count: usize,
        text: &str,
    ) -> Vec<String> {
        let url = format!("{}/admin/contacts/{from}/send-many", self.sim);
        let body = json!({ "to": to, "count": count, "text": text });
        let response = self.http.post(url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 200, "send-many from {from}");
        let answer: Value = response.json().await.unwrap();
        serde_json::from_value(answer["ids"].clone()).unwrap()
    }
}

/// How often [`eventually`] asks: each poll costs the gateway CPU that
/// the work being waited for needs too, on a machine that may have two
/// cores.
pub const POLL: Duration = Duration::from_millis(100);

/// Retries `check` every [`POLL`] until it returns `Some` or `within`
/// passes.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let found = until(within, POLL, check).await;
    found.unwrap_or_else(|| panic!("{what}: not within {within:?}"))
}

/// Retries `check` every `every` until it returns `Some`; `None` once
/// `within` passed, for callers that say themselves what is missing.
pub async fn until<T>(
    within: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}
