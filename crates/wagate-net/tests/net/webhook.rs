//! Webhook deliveries against a real receiver: what it is sent, and how
//! each kind of answer (or silence) is recorded.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::stream;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wagate_net::webhook::{
    DeliveryOutcome, DeliveryRequest, EndpointHeaders, RESPONSE_BODY_CAP, Verdict, WebhookSecret,
    deliver,
};
use wagate_net::{AddressPolicy, ClientOptions, Url, guarded_client};

use crate::support::{USER_AGENT, allowing, counting_server, serve, webhook_client, with_host};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &str = r#"{"event":"message.received","data":{"text":"hi"}}"#;
const DEADLINE: Duration = Duration::from_secs(5);

type Received = (HeaderMap, Bytes);

/// A receiver with one path per behaviour; `/ok` hands each request it
/// gets to the returned channel.
async fn receiver() -> (Url, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = Router::new()
        .route(
            "/ok",
            post(move |headers: HeaderMap, body: Bytes| {
                tx.send((headers, body)).unwrap();
                async { "thanks" }
            }),
        )
        .route(
            "/fail",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route("/slow", post(std::future::pending::<&'static str>))
        .route(
            "/throttled",
            post(|| async { (StatusCode::TOO_MANY_REQUESTS, [(RETRY_AFTER, "120")]) }),
        )
        .route(
            "/exactly-the-cap",
            post(|| async { vec![b'a'; RESPONSE_BODY_CAP] }),
        )
        .route(
            "/endless",
            post(|| async {
                let chunk = Bytes::from(vec![b'x'; 1024]);
                Body::from_stream(stream::repeat_with(move || {
                    Ok::<_, Infallible>(chunk.clone())
                }))
            }),
        );
    (serve(router).await, rx)
}

fn request(url: Url) -> DeliveryRequest {
    DeliveryRequest {
        url,
        msg_id: "msg_2bXz7kVqP1".into(),
        timestamp: 1_700_000_000,
        body: BODY.as_bytes().to_vec(),
        secret: WebhookSecret::parse(SECRET).unwrap(),
        headers: EndpointHeaders::new([("Authorization", "Bearer tenant-token")]).unwrap(),
    }
}

fn loopback() -> AddressPolicy {
    allowing(&["127.0.0.1/32"])
}

async fn deliver_to(base: &Url, path: &str) -> DeliveryOutcome {
    let policy = loopback();
    let req = request(base.join(path).unwrap());
    deliver(&webhook_client(&policy), &policy, req).await
}

/// The signature as a receiver computes it, with nothing of the crate's.
fn expected_signature(id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = BASE64
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn a_2xx_is_delivered_signed_and_with_the_tenants_headers() {
    let (base, mut received) = receiver().await;

    let outcome = deliver_to(&base, "/ok").await;
    assert_eq!(outcome.verdict, Verdict::Delivered);
    assert_eq!(outcome.status, Some(StatusCode::OK));
    assert_eq!(outcome.response_body, "thanks");
    assert_eq!(outcome.error, None);

    let (headers, body) = tokio::time::timeout(DEADLINE, received.recv())
        .await
        .expect("the receiver was called")
        .unwrap();
    assert_eq!(body, BODY.as_bytes());
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(
        header(&headers, "user-agent"),
        format!("wagate/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header(&headers, "authorization"), "Bearer tenant-token");
    assert_eq!(header(&headers, "webhook-id"), "msg_2bXz7kVqP1");
    assert_eq!(header(&headers, "webhook-timestamp"), "1700000000");
    assert_eq!(
        header(&headers, "webhook-signature"),
        expected_signature("msg_2bXz7kVqP1", "1700000000", &body)
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_its_answer_kept() {
    let (base, _) = receiver().await;
    let outcome = deliver_to(&base, "/fail").await;
    assert_eq!(outcome.verdict, Verdict::Retry);
    assert_eq!(outcome.status, Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(outcome.response_body, "boom");
    assert_eq!(outcome.requested_wait(), None);
}

#[tokio::test]
async fn gone_disables_rather_than_retries() {
    let (base, _) = receiver().await;
    let outcome = deliver_to(&base, "/gone").await;
    assert_eq!(outcome.verdict, Verdict::Gone);
    assert!(!outcome.verdict.is_retried());
    assert_eq!(outcome.status, Some(StatusCode::GONE));
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let (target, hits) = counting_server("127.0.0.1", "arrived").await;
    let location = target.join("/elsewhere").unwrap().to_string();
    let router = Router::new().route(
        "/moved",
        post(move || async move { (StatusCode::FOUND, [(LOCATION, location)]) }),
    );
    let base = serve(router).await;

    let outcome = deliver_to(&base, "/moved").await;
    assert_eq!(outcome.verdict, Verdict::Retry);
    assert_eq!(outcome.status, Some(StatusCode::FOUND));
    // `deliver` has returned, so a followed redirect would have landed.
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn a_receiver_slower_than_the_deadline_is_retried() {
    let (base, _) = receiver().await;
    let policy = loopback();
    let options = ClientOptions {
        timeout: Duration::from_millis(300),
        ..ClientOptions::webhook(USER_AGENT)
    };
    let client = guarded_client(&policy, options).unwrap();

    let outcome = deliver(&client, &policy, request(base.join("/slow").unwrap())).await;
    assert_eq!(outcome.verdict, Verdict::Retry);
    assert_eq!(outcome.status, None);
    assert!(outcome.timed_out);
    assert_eq!(
        outcome.error.as_deref(),
        Some("the endpoint did not answer in time")
    );
    assert!(outcome.latency >= Duration::from_millis(300));
    assert!(outcome.latency < DEADLINE, "{:?}", outcome.latency);
    assert_eq!(outcome.requested_wait(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn a_private_address_is_refused_before_connecting() {
    let (url, hits) = counting_server("127.0.0.1", "secret").await;
    let policy = AddressPolicy::default();
    let client = webhook_client(&policy);

    let by_literal = deliver(&client, &policy, request(url.clone())).await;
    assert_eq!(by_literal.verdict, Verdict::Refused);
    assert!(by_literal.verdict.is_retried());
    assert_eq!(by_literal.status, None);
    assert_eq!(
        by_literal.error.as_deref(),
        Some("127.0.0.1 is a loopback address")
    );

    let by_name = deliver(&client, &policy, request(with_host(&url, "localhost"))).await;
    assert_eq!(by_name.verdict, Verdict::Refused);
    assert_eq!(
        by_name.error.as_deref(),
        Some("localhost resolves only to addresses that are not allowed (a loopback address)")
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn a_closed_port_is_retried_with_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let base = Url::parse(&format!("http://{address}/")).unwrap();

    let outcome = deliver_to(&base, "/hook").await;
    assert_eq!(outcome.verdict, Verdict::Retry);
    assert!(!outcome.timed_out);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("could not reach the endpoint: "),
        "{error}"
    );
}

#[tokio::test]
async fn the_stored_answer_is_capped() {
    let (base, _) = receiver().await;

    let endless = deliver_to(&base, "/endless").await;
    assert_eq!(endless.verdict, Verdict::Delivered);
    assert_eq!(endless.response_body.len(), RESPONSE_BODY_CAP);
    assert!(endless.body_truncated);
    assert_eq!(endless.error, None);

    let exact = deliver_to(&base, "/exactly-the-cap").await;
    assert_eq!(exact.response_body.len(), RESPONSE_BODY_CAP);
    assert!(!exact.body_truncated);
}

#[tokio::test]
async fn retry_after_is_read() {
    let (base, _) = receiver().await;
    let outcome = deliver_to(&base, "/throttled").await;
    assert_eq!(outcome.verdict, Verdict::Retry);
    assert_eq!(outcome.status, Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(outcome.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(outcome.requested_wait(), Some(Duration::from_secs(120)));
}
