//! Deliveries that arrive: signed, retried until the receiver takes them,
//! and never lost to a dead dispatcher or a receiver that was down.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::{
    Receiver, add_endpoint, all_deliveries, append, assert_signed, eventually, fast_retry,
    loopback_settings, outbox, start,
};

fn ok() -> axum::response::Response {
    StatusCode::NO_CONTENT.into_response()
}

#[tokio::test]
async fn an_event_is_delivered_once_signed_in_the_native_shape() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| ok()).await;
    add_endpoint(&events, "wh_a", &receiver.url("/hooks"), &["*"]).await;
    let dispatcher = start(&events, loopback_settings(3));

    let ids = append(&events, 1).await;
    all_deliveries(&events, "wh_a", "delivered").await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_signed(request);
    assert_eq!(request.path, "/hooks");
    assert_eq!(request.header("webhook-id"), ids[0]);
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("x-tenant-token"), "t0ken");
    let payload = request.json();
    assert_eq!(payload["id"], json!(ids[0]));
    assert_eq!(payload["type"], "message.received");
    assert_eq!(payload["sessionId"], "s1");
    assert_eq!(payload["data"], json!({ "n": 0, "text": "hello" }));
    let stamp = payload["timestamp"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(stamp).unwrap();

    // A resend is the same message to the receiver: same webhook-id.
    let seq = events
        .event_by_id(crate::support::TENANT, &ids[0])
        .await
        .unwrap()
        .unwrap()
        .seq;
    events.resend("wh_a", seq).await.unwrap();
    dispatcher.wake();
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].header("webhook-id"), ids[0]);
    assert_signed(&got[1]);
    dispatcher.stop().await;
}

#[tokio::test]
async fn failures_are_retried_under_the_same_webhook_id_until_one_succeeds() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, n| {
        if n <= 3 {
            (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance").into_response()
        } else {
            ok()
        }
    })
    .await;
    add_endpoint(&events, "wh_a", &receiver.url("/"), &["*"]).await;
    let dispatcher = start(&events, loopback_settings(10));

    let ids = append(&events, 1).await;
    let delivered = all_deliveries(&events, "wh_a", "delivered").await;
    assert_eq!(delivered[0].attempts, 4);
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    for request in &got {
        assert_eq!(request.header("webhook-id"), ids[0]);
        assert_signed(request);
    }

    let mut log = events.attempts("wh_a", None, 10).await.unwrap();
    log.reverse();
    let seen: Vec<_> = log
        .iter()
        .map(|a| (a.attempt, a.status_code, a.verdict.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, Some(500), "retry"),
            (2, Some(500), "retry"),
            (3, Some(500), "retry"),
            (4, Some(204), "delivered"),
        ]
    );
    assert_eq!(
        log[0].response_body.as_deref(),
        Some("down for maintenance")
    );
    assert!(log[0].error.as_deref().unwrap().contains("500"));
    assert_eq!(log[3].error, None);
    // The success ended the endpoint's failure run.
    let endpoint = events
        .endpoint(crate::support::TENANT, "wh_a")
        .await
        .unwrap()
        .unwrap();
    assert!(endpoint.enabled);
    assert_eq!(endpoint.failing_since, None);
    dispatcher.stop().await;
}

#[tokio::test]
async fn a_claim_left_by_a_dead_dispatcher_is_delivered_when_it_runs_out() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| ok()).await;
    add_endpoint(&events, "wh_a", &receiver.url("/"), &["*"]).await;
    let ids = append(&events, 1).await;
    // Taken by a dispatcher that then died without recording anything.
    let lost = events
        .claim_deliveries(10, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(lost.len(), 1);

    let dispatcher = start(&events, loopback_settings(3));
    let delivered = all_deliveries(&events, "wh_a", "delivered").await;
    assert_eq!(delivered[0].attempts, 2);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), ids[0]);
    dispatcher.stop().await;
}

// Several worker threads, as in the gateway: attempts really overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_down_while_events_pile_up_gets_them_all_when_it_comes_up() {
    let (events, _dir) = outbox().await;
    // A port nobody listens on yet.
    let address = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    add_endpoint(&events, "wh_a", &format!("http://{address}/"), &["*"]).await;
    let mut settings = loopback_settings(1);
    settings.retry = fast_retry(100, Duration::from_millis(100));
    let dispatcher = start(&events, settings);

    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.extend(append(&events, 50).await);
    }
    eventually("every delivery to have failed at least once", || async {
        let deliveries = events.deliveries("wh_a", None, 1000).await.unwrap();
        let tried = deliveries.len() == 200 && deliveries.iter().all(|d| d.last_error.is_some());
        tried.then_some(())
    })
    .await;
    let log = events.attempts("wh_a", None, 1).await.unwrap();
    assert!(log[0].error.as_deref().unwrap().contains("could not reach"));

    let listener = TcpListener::bind(address).await.unwrap();
    let receiver = Receiver::serve(listener, Arc::new(|_: &str, _| ok()));
    all_deliveries(&events, "wh_a", "delivered").await;
    let got: HashSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(got, ids.into_iter().collect());
    dispatcher.stop().await;
}
