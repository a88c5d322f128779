//! The live event stream end to end: Server-Sent Events and WebSocket
//! clients get a session's or a tenant's events in commit order, resume
//! after the last id they saw with nothing missed or repeated, see only
//! what their filter and key allow, and are let go when the server stops.

mod client;

use super::{TestApp, assert_error};
use client::{Frame, Socket, Sse, SseEvent};
use reqwest::Method;
use serde_json::{Value, json};

/// Contact `from` sends `count` texts `"{text} 1"`, … to `to`; returns
/// their message ids in sending order.
async fn send_many(app: &TestApp, from: &str, to: &str, count: usize, text: &str) -> Vec<String> {
    let (status, answer) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{from}/send-many"),
            Some(json!({ "to": to, "count": count, "text": text })),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let ids = answer["ids"].as_array().unwrap();
    ids.iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect()
}

fn texts<'a>(payloads: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    payloads
        .into_iter()
        .filter(|p| p["type"] == "message.received")
        .map(|p| p["data"]["text"].as_str().unwrap().to_string())
        .collect()
}

fn numbered(text: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{text} {n}")).collect()
}

fn ids(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn sse_sends_a_sessions_events_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.create_session(&admin, "shop").await;
    let mut sse = Sse::open(&app, "/api/v1/sessions/shop/events", &admin, None).await;
    app.scan(&admin, "shop", "15550300001").await;
    let sent = send_many(&app, "15550300002", "15550300001", 20, "hello").await;

    let events = sse.until_messages(20).await;
    for event in &events {
        // One shape everywhere: the native webhook payload.
        assert_eq!(event.data["id"], event.id.as_str());
        assert_eq!(event.data["type"], event.kind.as_str());
        assert_eq!(event.data["sessionId"], "shop");
        assert!(event.data["timestamp"].is_string(), "{}", event.data);
    }
    let payloads: Vec<&Value> = events.iter().map(|e| &e.data).collect();
    assert_eq!(texts(payloads.iter().copied()), numbered("hello", 20));
    let message_ids: Vec<&Value> = payloads
        .iter()
        .filter(|p| p["type"] == "message.received")
        .map(|p| &p["data"]["id"])
        .collect();
    assert_eq!(message_ids, sent.iter().collect::<Vec<_>>());
    let connected = events
        .iter()
        .position(|e| e.kind == "session.status" && e.data["data"]["status"] == "connected")
        .expect("the session's connection is in the stream");
    let first_message = events
        .iter()
        .position(|e| e.kind == "message.received")
        .unwrap();
    assert!(connected < first_message, "{:?}", ids(&events));
    let mut unique = ids(&events);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), events.len(), "every event once");
}

#[tokio::test]
async fn sse_resumes_after_the_last_event_id_with_no_gap_and_no_repeat() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    let (phone, contact) = ("15550300011", "15550300012");
    app.linked_session(&admin, "shop", phone).await;
    let path = "/api/v1/sessions/shop/events";
    let mut sse = Sse::open(&app, path, &admin, None).await;
    // Stays connected throughout: it shows when everything is committed.
    let mut witness = Sse::open(&app, "/api/v1/events", &admin, None).await;
    send_many(&app, contact, phone, 5, "before").await;
    let before = sse.until_messages(5).await;
    let last = before.last().unwrap().id.clone();
    drop(sse);

    // More than one page of the outbox arrives while the client is away.
    send_many(&app, contact, phone, 120, "away").await;
    let seen = witness.until_messages(125).await;
    let at = seen.iter().position(|e| e.id == last).unwrap();
    let missed = &seen[at + 1..];

    let mut resumed = Sse::open(&app, path, &admin, Some(&last)).await;
    let replayed = resumed.until_messages(120).await;
    assert_eq!(ids(&replayed), ids(missed));
    let payloads = replayed.iter().map(|e| &e.data);
    assert_eq!(texts(payloads), numbered("away", 120));
    // Then it follows new commits, starting with the very next one.
    send_many(&app, contact, phone, 1, "after").await;
    let next = resumed.next().await.unwrap();
    assert_eq!(next.data["data"]["text"], "after 1");

    // Clients that cannot set the header name the id in the query; the
    // header wins when both are sent.
    let third = &before[2].id;
    let query = format!("{path}?lastEventId={third}");
    let mut by_query = Sse::open(&app, &query, &admin, None).await;
    assert_eq!(by_query.next().await.unwrap().id, before[3].id);
    let mut both = Sse::open(&app, &query, &admin, Some(&last)).await;
    assert_eq!(both.next().await.unwrap().id, missed[0].id);
}

#[tokio::test]
async fn websocket_follows_the_tenant_and_resumes_with_last_event_id() {
    let app = TestApp::spawn().await;
    let (_, key) = app.tenant_with_key("acme").await;
    let (phone, contact) = ("15550300021", "15550300022");
    app.linked_session(&key, "desk", phone).await;
    let mut ws = Socket::open(&app, "/api/v1/events/ws", &key).await;
    let mut narrowed = Socket::open(&app, "/api/v1/events/ws?session=desk", &key).await;
    let mut witness = Sse::open(&app, "/api/v1/events", &key, None).await;
    // Another session of the tenant reports its status meanwhile.
    app.create_session(&key, "idle").await;
    loop {
        let event = witness.next().await.unwrap();
        if event.data["sessionId"] == "idle" {
            break;
        }
    }

    send_many(&app, contact, phone, 5, "one").await;
    let frames = ws.until_messages(5).await;
    assert!(
        frames.iter().any(|f| f["sessionId"] == "idle"),
        "{frames:?}"
    );
    for frame in &frames {
        assert!(frame["id"].as_str().unwrap().starts_with("evt_"), "{frame}");
        assert!(frame["timestamp"].is_string(), "{frame}");
    }
    assert_eq!(texts(&frames), numbered("one", 5));
    let only_desk = narrowed.until_messages(5).await;
    assert!(
        only_desk.iter().all(|f| f["sessionId"] == "desk"),
        "{only_desk:?}"
    );
    assert_eq!(texts(&only_desk), numbered("one", 5));
    let last = frames.last().unwrap()["id"].as_str().unwrap().to_string();
    ws.close().await;

    send_many(&app, contact, phone, 8, "two").await;
    witness.until_messages(13).await;
    let query = format!("/api/v1/events/ws?lastEventId={last}&events=message.received");
    let mut resumed = Socket::open(&app, &query, &key).await;
    let missed = resumed.until_messages(8).await;
    assert_eq!(missed.len(), 8, "{missed:?}");
    assert_eq!(texts(&missed), numbered("two", 8));
    send_many(&app, contact, phone, 1, "three").await;
    assert_eq!(texts(&[resumed.next_event().await]), ["three 1"]);
}

#[tokio::test]
async fn filters_and_keys_decide_what_a_stream_shows() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    let (_, other) = app.tenant_with_key("other").await;
    app.create_session(&admin, "shop").await;
    let path = "/api/v1/sessions/shop/events";
    let mut only = Sse::open(
        &app,
        &format!("{path}?events=message.received"),
        &admin,
        None,
    )
    .await;
    let mut all = Sse::open(&app, path, &admin, None).await;
    app.scan(&admin, "shop", "15550300031").await;
    send_many(&app, "15550300032", "15550300031", 2, "hi").await;
    let everything = all.until_messages(2).await;
    assert!(everything.iter().any(|e| e.kind == "session.status"));
    let filtered = only.until_messages(2).await;
    let kinds: Vec<&str> = filtered.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["message.received", "message.received"]);

    let bad = app
        .get(&format!("{path}?events=message.received,bogus"), &admin)
        .await;
    let body = assert_error(bad, 400, "Validation Error").await;
    assert!(
        body["message"].as_str().unwrap().contains("\"bogus\""),
        "{body}"
    );
    let (status, body) =
        Socket::refused(&app, "/api/v1/events/ws?events=bogus", Some(&admin)).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("\"bogus\""),
        "{body}"
    );

    // Another tenant's session does not exist for this key.
    assert_error(app.get(path, &other).await, 404, "Not Found").await;
    let (status, _) = Socket::refused(&app, "/api/v1/events/ws?session=shop", Some(&other)).await;
    assert_eq!(status, 404);
    // Nor do its events: resuming after one is refused like a made-up id.
    let foreign = &everything[0].id;
    let resume = app
        .request(Method::GET, "/api/v1/events", &other)
        .header("last-event-id", foreign)
        .send()
        .await
        .unwrap();
    let body = assert_error(resume, 400, "Validation Error").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown event id"),
        "{body}"
    );
    let made_up = app
        .get(
            &format!("{path}?lastEventId=evt_0123456789abcdef01234567"),
            &admin,
        )
        .await;
    assert_error(made_up, 400, "Validation Error").await;
    let garbled = app.get(&format!("{path}?lastEventId=42"), &admin).await;
    assert_error(garbled, 400, "Validation Error").await;

    let anonymous = app.http.get(app.url(path)).send().await.unwrap();
    assert_error(anonymous, 401, "Unauthorized").await;
    let (status, body) = Socket::refused(&app, "/api/v1/events/ws", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("Unauthorized"))
    );
}

#[tokio::test]
async fn open_streams_end_when_the_server_stops() {
    let app = TestApp::spawn().await;
    let admin = app.admin_key.clone();
    app.create_session(&admin, "shop").await;
    let mut sse = Sse::open(&app, "/api/v1/sessions/shop/events", &admin, None).await;
    let mut ws = Socket::open(&app, "/api/v1/events/ws", &admin).await;
    // Would time out if an open stream held the graceful shutdown up.
    app.stop().await;
    while sse.next().await.is_some() {}
    let code = loop {
        if let Frame::Closed(code) = ws.next().await {
            break code;
        }
    };
    assert_eq!(code, Some(1001), "closed as going away");
}
