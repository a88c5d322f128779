//! `wagate demo` end to end, the way a newcomer uses it: every request
//! after the start is one of the `curl` commands the demo prints, parsed
//! back from its text and sent as is.
//!
//! Built only with `--features demo` (see `[[test]]` in Cargo.toml):
//! `cargo test -p wagate --features demo --test demo`.

use serde_json::Value;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wagate::demo::{CONTACT, Curl, DemoOptions, PHONE, Step};

const WITHIN: Duration = Duration::from_secs(30);

/// Log lines of the whole test binary, so a test can look for one.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("warn,wagate_engine=info")
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Splits a shell command into words: spaces separate, single quotes
/// quote, `'\''` is a quote inside quotes. Enough for what the demo prints.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => {
                let escaped = chars.next().expect("a character after \\");
                word.get_or_insert_with(String::new).push(escaped);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Runs a printed `curl -s [-X M] URL [-H h]... [-d body]` line.
async fn run_printed(line: &str) -> (u16, Value) {
    let words = shell_words(line);
    assert_eq!(&words[..2], ["curl", "-s"], "{line}");
    let (mut method, mut url, mut headers, mut body) = ("GET".to_string(), None, vec![], None);
    let mut rest = words[2..].iter();
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-X" => method = rest.next().unwrap().clone(),
            "-H" => headers.push(rest.next().unwrap().clone()),
            "-d" => body = Some(rest.next().unwrap().clone()),
            u if u.starts_with("http://") => url = Some(u.to_string()),
            other => panic!("unexpected word {other:?} in {line}"),
        }
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, url.expect("a URL"));
    for header in headers {
        let (name, value) = header.split_once(": ").expect("Name: value");
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn next_step(steps: &mut mpsc::UnboundedReceiver<Step>) -> Step {
    tokio::time::timeout(WITHIN, steps.recv())
        .await
        .expect("the demo moves on within 30 s")
        .expect("the demo is still running")
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never saw {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn options(listen: SocketAddr, keep: bool) -> DemoOptions {
    DemoOptions {
        listen,
        sim_listen: "127.0.0.1:0".parse().unwrap(),
        keep,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_commands_link_send_and_receive() {
    let logs = logs();
    let (steps_tx, mut steps) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let demo = tokio::spawn(wagate::demo::run(
        options("127.0.0.1:0".parse().unwrap(), false),
        async move {
            let _ = stopped.await;
        },
        move |step: &Step| {
            let _ = steps_tx.send(step.clone());
        },
    ));

    let Step::Started {
        admin_key,
        api_url,
        database,
        status,
        ..
    } = next_step(&mut steps).await
    else {
        panic!("the demo starts by saying where everything is");
    };
    assert!(admin_key.starts_with("wgk_"));
    assert!(api_url.starts_with("http://127.0.0.1:"), "{api_url}");
    assert!(database.exists(), "{}", database.display());
    let (code, session) = run_printed(&status.to_string()).await;
    assert_eq!(code, 200, "{session}");
    assert_eq!(session["sessionId"], "demo");

    let step = next_step(&mut steps).await;
    let text = step.to_string();
    let Step::Qr {
        qr, scan, renewed, ..
    } = step
    else {
        panic!("then it shows the QR code");
    };
    assert!(!renewed);
    assert!(qr.starts_with("2@"), "{qr}");
    assert!(text.contains(&qr) && text.contains('█'), "{text}");
    let scan = scan.to_string();
    assert!(text.contains(&scan), "the scan command is printed: {text}");
    assert!(
        scan.contains(&qr) && scan.contains(PHONE),
        "one command with the exact QR text and a phone: {scan}"
    );
    let (code, body) = run_printed(&scan).await;
    assert_eq!(code, 200, "{body}");

    let step = next_step(&mut steps).await;
    let text = step.to_string();
    let Step::Connected {
        phone,
        send,
        inbox,
        reply,
        ..
    } = step
    else {
        panic!("then it says the session is connected");
    };
    assert_eq!(phone, PHONE);
    for command in [&send, &inbox, &reply] {
        assert!(text.contains(&command.to_string()), "{text}");
    }
    let (code, session) = run_printed(&status.to_string()).await;
    assert_eq!((code, &session["status"]), (200, &Value::from("connected")));

    // Accepted into the queue; the inbox below shows it went out.
    let (code, sent) = run_printed(&send.to_string()).await;
    assert_eq!(code, 202, "{sent}");
    let id = sent["id"]
        .as_str()
        .expect("a WhatsApp message id")
        .to_string();
    let inbox = inbox.to_string();
    until("the message in the contact's inbox", async || {
        let (_, messages) = run_printed(&inbox).await;
        messages.as_array().is_some_and(|all| {
            all.iter()
                .any(|m| m["id"] == id.as_str() && m["text"] == "Hello from wagate!")
        })
    })
    .await;

    let (code, body) = run_printed(&reply.to_string()).await;
    assert_eq!(code, 200, "{body}");
    until("the reply logged as an inbound message", async || {
        let logs = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
        logs.lines().any(|line| {
            line.contains("inbound message")
                && line.contains(CONTACT)
                && line.contains("Hi! Got your message.")
        })
    })
    .await;

    stop.send(()).unwrap();
    tokio::time::timeout(WITHIN, demo)
        .await
        .expect("the demo stops")
        .unwrap()
        .unwrap();
    assert!(matches!(
        next_step(&mut steps).await,
        Step::Stopped { kept: None }
    ));
    assert!(!database.exists(), "the temporary database is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_explained() {
    let _ = logs();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = wagate::demo::run(options(addr, false), std::future::pending(), |_: &Step| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("{addr} is already in use")), "{err}");
    assert!(err.contains("--listen"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_leaves_the_database() {
    let _ = logs();
    let (started, stop) = oneshot::channel::<()>();
    let mut started = Some(started);
    let mut kept = None;
    wagate::demo::run(
        options("127.0.0.1:0".parse().unwrap(), true),
        async move {
            let _ = stop.await;
        },
        |step: &Step| match step {
            Step::Started { .. } => {
                let _ = started.take().map(|s| s.send(()));
            }
            Step::Stopped { kept: dir } => kept = dir.clone(),
            _ => {}
        },
    )
    .await
    .unwrap();
    let dir = kept.expect("the directory is reported as kept");
    assert!(dir.join("wagate.db").exists(), "{}", dir.display());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn curl_lines_quote_for_the_shell() {
    let curl = Curl::post(
        "http://127.0.0.1:1/x",
        Some(serde_json::json!({"text": "it's"})),
    )
    .bearer("k");
    let line = curl.to_string();
    assert_eq!(
        line,
        r#"curl -s -X POST http://127.0.0.1:1/x -H 'Authorization: Bearer k' -H 'Content-Type: application/json' -d '{"text":"it'\''s"}'"#
    );
    assert_eq!(shell_words(&line).last().unwrap(), r#"{"text":"it's"}"#);
    assert_eq!(Curl::get("http://h/y").to_string(), "curl -s http://h/y");
}
