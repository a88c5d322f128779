//! Stream clients for the tests: a Server-Sent Events reader over a
//! reqwest response, and a WebSocket reader. Every read has a deadline.

use super::super::TestApp;
use super::super::live::LIVE;
use futures::StreamExt;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One SSE message: its `id:`, `event:` and `data:` (parsed as JSON).
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: String,
    pub kind: String,
    pub data: Value,
}

pub struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Sse {
    /// Opens `path` as `key`, resuming after `last_event_id` when given
    /// (as the `Last-Event-ID` header an `EventSource` sends).
    pub async fn open(app: &TestApp, path: &str, key: &str, last_event_id: Option<&str>) -> Sse {
        let mut request = app.request(reqwest::Method::GET, path, key);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Sse {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next message, skipping keep-alive comments; `None` when the
    /// server ends the stream.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&String::from_utf8(block).unwrap()) {
                    return Some(event);
                }
                continue;
            }
            let chunk = timeout(LIVE, self.response.chunk())
                .await
                .expect("an SSE message within the deadline")
                .expect("the stream reads");
            match chunk {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => {
                    assert!(self.buffer.is_empty(), "a message cut short");
                    return None;
                }
            }
        }
    }

    /// Messages up to and including the `count`th `message.received`.
    pub async fn until_messages(&mut self, count: usize) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut messages = 0;
        while messages < count {
            let event = self.next().await.expect("the stream stays open");
            if event.kind == "message.received" {
                messages += 1;
            }
            events.push(event);
        }
        events
    }
}

/// A block of `field: value` lines; `None` for a comment-only block.
fn parse(block: &str) -> Option<SseEvent> {
    let (mut id, mut kind, mut data) = (None, None, Vec::new());
    for line in block.lines() {
        if line.starts_with(':') || line.is_empty() {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_string()),
            "event" => kind = Some(value.to_string()),
            "data" => data.push(value),
            other => panic!("unexpected SSE field {other:?} in {block:?}"),
        }
    }
    if data.is_empty() {
        return None;
    }
    Some(SseEvent {
        id: id.expect("every message has an id"),
        kind: kind.expect("every message names its event"),
        data: serde_json::from_str(&data.join("\n")).expect("data is JSON"),
    })
}

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Socket(WsStream);

/// How a WebSocket read ended up.
#[derive(Debug)]
pub enum Frame {
    Event(Value),
    /// The server closed, with this close code.
    Closed(Option<u16>),
}

impl Socket {
    fn request(app: &TestApp, path_and_query: &str, key: Option<&str>) -> impl IntoClientRequest {
        let url = app.url(path_and_query).replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        if let Some(key) = key {
            let value = format!("Bearer {key}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        request
    }

    pub async fn open(app: &TestApp, path_and_query: &str, key: &str) -> Socket {
        let request = Socket::request(app, path_and_query, Some(key));
        let (stream, response) = timeout(LIVE, tokio_tungstenite::connect_async(request))
            .await
            .expect("the upgrade within the deadline")
            .expect("the upgrade is accepted");
        assert_eq!(response.status(), 101);
        Socket(stream)
    }

    /// The status and JSON body the server refused the upgrade with.
    pub async fn refused(app: &TestApp, path_and_query: &str, key: Option<&str>) -> (u16, Value) {
        let request = Socket::request(app, path_and_query, key);
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                let body = serde_json::from_slice(body).expect("error bodies are JSON");
                (response.status().as_u16(), body)
            }
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("the upgrade to {path_and_query} was accepted"),
        }
    }

    pub async fn next(&mut self) -> Frame {
        loop {
            let message = timeout(LIVE, self.0.next())
                .await
                .expect("a frame within the deadline");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Event(
                        serde_json::from_str(text.as_str()).expect("frames are JSON"),
                    );
                }
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| f.code.into()));
                }
                Some(Ok(Message::Binary(_))) => panic!("a binary frame"),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    pub async fn next_event(&mut self) -> Value {
        match self.next().await {
            Frame::Event(event) => event,
            Frame::Closed(code) => panic!("closed ({code:?}) while an event was due"),
        }
    }

    /// Events up to and including the `count`th `message.received`.
    pub async fn until_messages(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        let mut messages = 0;
        while messages < count {
            let event = self.next_event().await;
            if event["type"] == "message.received" {
                messages += 1;
            }
            events.push(event);
        }
        events
    }

    pub async fn close(mut self) {
        let _ = self.0.close(None).await;
    }
}
