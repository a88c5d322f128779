//! Endpoints that stop getting deliveries: gone, failing too long,
//! disabled by their tenant, or of a shape the event has no form in.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use wagate_store::events::{EndpointPatch, NewEndpoint};

use crate::support::{
    Receiver, SECRET, TENANT, add_endpoint, all_deliveries, append, eventually, loopback_settings,
    outbox, start,
};

#[tokio::test]
async fn a_410_disables_the_endpoint_tells_the_tenant_and_cancels_the_rest() {
    let (events, _dir) = outbox().await;
    let gone = Receiver::start(|_, _| StatusCode::GONE.into_response()).await;
    let watcher = Receiver::start(|_, _| StatusCode::OK.into_response()).await;
    let gone_url = gone.url("/old");
    add_endpoint(&events, "wh_gone", &gone_url, &["*"]).await;
    add_endpoint(
        &events,
        "wh_watch",
        &watcher.url("/"),
        &["webhook.disabled"],
    )
    .await;
    // One at a time, so the first 410 is recorded before anything else
    // is claimed.
    let mut settings = loopback_settings(5);
    settings.max_in_flight = 1;
    let dispatcher = start(&events, settings);

    append(&events, 3).await;
    let told = watcher.wait_for(1).await;
    let payload = told[0].json();
    assert_eq!(payload["type"], "webhook.disabled");
    assert_eq!(payload["sessionId"], "s1");
    assert_eq!(
        payload["data"],
        json!({
            "endpointId": "wh_gone",
            "url": gone_url,
            "reason": "the endpoint answered 410 Gone",
        })
    );
    assert!(told[0].header("webhook-id").starts_with("evt_"));

    let endpoint = events.endpoint(TENANT, "wh_gone").await.unwrap().unwrap();
    assert!(!endpoint.enabled);
    assert_eq!(
        endpoint.disabled_reason.as_deref(),
        Some("the endpoint answered 410 Gone")
    );
    assert_eq!(gone.count(), 1);
    let mut states: Vec<String> = events
        .deliveries("wh_gone", None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.status)
        .collect();
    states.sort();
    assert_eq!(states, ["cancelled", "cancelled", "failed"]);
    let log = events.attempts("wh_gone", None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].status_code, log[0].verdict.as_str()),
        (Some(410), "gone")
    );
    dispatcher.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_longer_than_allowed_is_disabled() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| StatusCode::BAD_REQUEST.into_response()).await;
    add_endpoint(&events, "wh_a", &receiver.url("/"), &["*"]).await;
    let mut settings = loopback_settings(10);
    // Any failure after the first has been failing "too long".
    settings.retry.give_up_after = Duration::ZERO;
    let dispatcher = start(&events, settings);

    append(&events, 1).await;
    let endpoint = eventually("the endpoint to be disabled", || async {
        let endpoint = events.endpoint(TENANT, "wh_a").await.unwrap().unwrap();
        (!endpoint.enabled).then_some(endpoint)
    })
    .await;
    let reason = endpoint.disabled_reason.unwrap();
    assert!(
        reason.starts_with("no successful delivery since "),
        "{reason}"
    );
    // The first failure starts the run; the second finds it too long.
    assert_eq!(receiver.count(), 2);
    all_deliveries(&events, "wh_a", "failed").await;
    let told = events.after(TENANT, None, 0, 10).await.unwrap();
    let disabled: Vec<_> = told
        .iter()
        .filter(|e| e.kind == "webhook.disabled")
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].data["reason"], json!(reason));
    dispatcher.stop().await;
}

#[tokio::test]
async fn deliveries_to_an_endpoint_disabled_since_they_were_queued_are_cancelled() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| StatusCode::OK.into_response()).await;
    add_endpoint(&events, "wh_a", &receiver.url("/"), &["*"]).await;
    append(&events, 2).await;
    let off = EndpointPatch {
        enabled: Some(false),
        ..EndpointPatch::default()
    };
    events.update_endpoint(TENANT, "wh_a", off).await.unwrap();

    let dispatcher = start(&events, loopback_settings(3));
    let cancelled = all_deliveries(&events, "wh_a", "cancelled").await;
    assert!(
        cancelled
            .iter()
            .all(|d| d.last_error.as_deref() == Some("endpoint disabled"))
    );
    assert_eq!(receiver.count(), 0);
    assert!(events.attempts("wh_a", None, 10).await.unwrap().is_empty());
    dispatcher.stop().await;
}

#[tokio::test]
async fn an_event_the_endpoints_shape_has_no_form_for_is_skipped() {
    let (events, _dir) = outbox().await;
    let receiver = Receiver::start(|_, _| StatusCode::OK.into_response()).await;
    events
        .create_endpoint(NewEndpoint {
            id: "wh_seed".into(),
            tenant: TENANT,
            session: None,
            url: receiver.url("/"),
            events: vec!["*".into()],
            secret: SECRET.into(),
            headers: Vec::new(),
            shape: "seed000".into(),
        })
        .await
        .unwrap();
    let dispatcher = start(&events, loopback_settings(3));

    append(&events, 1).await;
    all_deliveries(&events, "wh_seed", "skipped").await;
    assert_eq!(receiver.count(), 0);
    dispatcher.stop().await;
}
