//! An S3-compatible server for tests: moto's, on a free loopback port,
//! stopped when dropped. Shared by the blob store suite and the gateway's
//! end-to-end tests (included there by path).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wagate_store::blobs::S3Settings;

/// How long the server may take to come up before a test fails.
const READY_WITHIN: Duration = Duration::from_secs(60);

pub struct MotoServer {
    child: Child,
    /// `host:port`
    pub address: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` on the PATH, else Python with moto installed.
fn command() -> Option<Command> {
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("moto_server").is_file())
    });
    if on_path {
        return Some(Command::new("moto_server"));
    }
    let importable = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    importable.then(|| {
        let mut c = Command::new("python3");
        c.args(["-m", "moto.server"]);
        c
    })
}

impl MotoServer {
    /// A running server; `None`, said loudly, only when moto is not
    /// installed (`.ci/run` installs it, so CI never skips).
    pub fn start() -> Option<MotoServer> {
        let Some(mut command) = command() else {
            eprintln!(
                "\n!!! SKIPPED: moto is not installed, so the S3 tests cannot run.\n\
                 !!! Install it with: python3 -m pip install 'moto[server]'\n"
            );
            return None;
        };
        let mut child = command
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto is installed but does not start");
        // It names the port it got in a line like
        // ` * Running on http://127.0.0.1:37065`.
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("http://").nth(1) {
                    let _ = tx.send(address.trim().to_string());
                }
            }
        });
        let deadline = Instant::now() + READY_WITHIN;
        let mut server = MotoServer {
            child,
            address: String::new(),
        };
        server.address = rx
            .recv_timeout(READY_WITHIN)
            .expect("moto did not say which port it listens on");
        while server.request("GET", "/", &[]).is_err() {
            assert!(Instant::now() < deadline, "moto did not answer in time");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Settings for `bucket` on this server, which it creates.
    pub fn bucket(&self, bucket: &str, prefix: &str) -> S3Settings {
        let status = self
            .request("PUT", &format!("/{bucket}"), &[])
            .expect("moto answers");
        assert_eq!(status.0, 200, "creating bucket {bucket}");
        S3Settings {
            bucket: bucket.to_string(),
            region: "us-east-1".to_string(),
            endpoint: Some(self.endpoint()),
            prefix: prefix.to_string(),
            access_key_id: Some("test-key-id".to_string()),
            secret_access_key: Some("test-secret".to_string()),
            path_style: true,
        }
    }

    /// The object at `key` as the bucket holds it, asked of the server
    /// directly rather than through the store under test.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let (status, body) = self
            .request("GET", &format!("/{bucket}/{key}"), &[])
            .expect("moto answers");
        (status == 200).then_some(body)
    }

    /// One HTTP/1.1 request; status and body. Moto does not check
    /// signatures, but reads objects only for a request that has one.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let mut conn = TcpStream::connect(&self.address)?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test-key-id/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Connection: close\r\n\r\n",
            self.address,
            body.len()
        )?;
        conn.write_all(body)?;
        let mut response = Vec::new();
        conn.read_to_end(&mut response)?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no HTTP response"))?;
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no HTTP status"))?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Err(std::io::Error::other("chunked responses are not read here"));
        }
        Ok((status, response[split + 4..].to_vec()))
    }
}
