//! Addresses the dispatcher will not follow or call.

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::IntoResponse;
use wagate_net::AddressPolicy;

use crate::support::{
    Receiver, add_endpoint, all_deliveries, append, loopback_settings, outbox, settings, start,
};

#[tokio::test]
async fn a_redirect_is_not_followed_and_counts_as_a_failure() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|path, _| {
        if path == "/hook" {
            (StatusCode::FOUND, [(LOCATION, "/landed")]).into_response()
        } else {
            StatusCode::OK.into_response()
        }
    })
    .await;
    add_endpoint(&events, "wh_a", &receiver.url("/hook"), &["*"]).await;
    let dispatcher = start(&events, loopback_settings(2));

    append(&events, 1).await;
    all_deliveries(&events, "wh_a", "failed").await;
    let paths: Vec<String> = receiver.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/hook", "/hook"]);
    let log = events.attempts("wh_a", None, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    for attempt in &log {
        assert_eq!(attempt.status_code, Some(302));
        assert_eq!(attempt.verdict, "retry");
        let error = attempt.error.as_deref().unwrap();
        assert!(error.contains("redirects are not followed"), "{error}");
    }
    dispatcher.stop().await;
}

#[tokio::test]
async fn a_private_address_not_allow_listed_is_refused_without_a_connection() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| StatusCode::OK.into_response()).await;
    let port = receiver.address.port();
    add_endpoint(&events, "wh_ip", &receiver.url("/"), &["*"]).await;
    add_endpoint(
        &events,
        "wh_name",
        &format!("http://localhost:{port}/"),
        &["*"],
    )
    .await;
    let dispatcher = start(&events, settings(AddressPolicy::default(), 1));

    append(&events, 1).await;
    for endpoint in ["wh_ip", "wh_name"] {
        all_deliveries(&events, endpoint, "failed").await;
        let log = events.attempts(endpoint, None, 10).await.unwrap();
        assert_eq!(log.len(), 1, "{endpoint}");
        assert_eq!(log[0].verdict, "refused", "{endpoint}");
        assert_eq!(log[0].status_code, None, "{endpoint}");
        let error = log[0].error.as_deref().unwrap();
        assert!(error.contains("a loopback address"), "{error}");
    }
    assert_eq!(receiver.count(), 0);
    dispatcher.stop().await;
}
