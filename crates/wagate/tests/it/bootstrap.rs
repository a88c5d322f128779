//! First start: the admin key is generated and printed once (or taken
//! from WAGATE_ADMIN_KEY), and the master key file is created private.
//! These run the real `wagate serve` process.

use super::TestApp;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A `wagate serve` child process with its output as lines.
struct Serve {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
}

fn lines_of(reader: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Serve {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Serve {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wagate"));
        command
            .arg("serve")
            .current_dir(dir)
            .env(
                "WAGATE_DATABASE_URL",
                format!("sqlite://{}", dir.join("wagate.db").display()),
            )
            .env("WAGATE_LISTEN", "127.0.0.1:0")
            .env("WAGATE_LOG", "info")
            .env_remove("WAGATE_ADMIN_KEY")
            .env_remove("WAGATE_MASTER_KEY")
            .env_remove("WAGATE_CONFIG")
            .env_remove("WAGATE_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        Serve {
            child,
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    /// Waits for the "listening" log line; returns the base URL.
    fn wait_listening(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.stderr.recv_timeout(left) else {
                break;
            };
            self.stderr_seen.push(line.clone());
            if line.contains("wagate listening") {
                let address = line
                    .split("address=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap();
                return format!("http://{address}");
            }
        }
        panic!(
            "wagate did not start; stderr so far:\n{}",
            self.stderr_seen.join("\n")
        );
    }

    /// Stops with SIGTERM and waits for a clean exit; returns all stdout.
    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "wagate did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr: Vec<String> = self.stderr.iter().collect();
        assert!(
            exit.success(),
            "exit {exit:?}; stderr:\n{}",
            stderr.join("\n")
        );
        assert!(
            stderr.iter().any(|l| l.contains("wagate stopped")),
            "{stderr:?}"
        );
        self.stdout.iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Only reached with the child still running when a test failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn printed_key(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("wgk_"))
        .map(str::to_string)
}

#[tokio::test]
async fn admin_key_is_generated_and_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    let mut first = Serve::start(dir.path(), &[]);
    let base = first.wait_listening();
    let response = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let stdout = first.terminate();
    let admin_key = printed_key(&stdout).expect("first start prints the admin key");

    let mut second = Serve::start(dir.path(), &[]);
    let base = second.wait_listening();
    let tenants = http
        .get(format!("{base}/api/v1/tenants"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(tenants.status(), 200, "the printed key is an admin key");
    let stdout = second.terminate();
    assert_eq!(printed_key(&stdout), None, "printed only once: {stdout}");

    let db = std::fs::read(dir.path().join("wagate.db")).unwrap();
    let needle = admin_key.as_bytes();
    assert!(
        !db.windows(needle.len()).any(|w| w == needle),
        "only the digest is stored"
    );
}

#[tokio::test]
async fn admin_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let key = "env-provided-admin-key-0123456789";
    let mut serve = Serve::start(dir.path(), &[("WAGATE_ADMIN_KEY", key)]);
    let base = serve.wait_listening();
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{base}/api/v1/tenants"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let stdout = serve.terminate();
    assert_eq!(
        printed_key(&stdout),
        None,
        "a configured key is never printed"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn master_key_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let path = app.data_dir.join("master.key");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(wagate::config::MasterKey::from_base64(&text).is_some());
    app.stop().await;
}
