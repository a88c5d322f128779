//! The size cap, the deadline and upstream failures.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use axum::routing::get;
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use tokio::net::TcpListener;
use wagate_net::{FetchError, Url, fetch_capped};

use crate::support::{allowing, client_with_deadline, media_client, serve};

const KIB: usize = 1024;

/// A body of `chunks` chunks of 1 KiB, sent chunked (no Content-Length).
fn chunked(chunks: usize) -> Body {
    Body::from_stream(stream::iter(
        (0..chunks).map(|_| Ok::<_, Infallible>(vec![7u8; KIB])),
    ))
}

/// One chunk, then nothing, ever: the response never finishes.
fn never_finishing(content_length: Option<u64>) -> Response {
    let first = stream::once(async { Ok::<_, Infallible>(vec![1u8; KIB]) });
    let mut response = Response::new(Body::from_stream(first.chain(stream::pending())));
    if let Some(length) = content_length {
        response.headers_mut().insert(CONTENT_LENGTH, length.into());
    }
    response
}

async fn limits_server() -> Url {
    let router = Router::new()
        .route("/sized", get(|| async { vec![7u8; 10 * KIB] }))
        .route(
            "/chunked/{n}",
            get(|Path(n): Path<usize>| async move { chunked(n) }),
        )
        .route(
            "/endless",
            get(|| async {
                Body::from_stream(stream::repeat_with(|| Ok::<_, Infallible>(vec![7u8; KIB])))
            }),
        )
        .route(
            "/huge-declared",
            get(|| async { never_finishing(Some(10_000_000_000)) }),
        )
        .route("/stalls-in-body", get(|| async { never_finishing(None) }))
        .route(
            "/stalls-before-head",
            get(std::future::pending::<&'static str>),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such file") }),
        );
    serve(router).await
}

async fn fetch(base: &Url, path: &str, max_bytes: u64) -> Result<wagate_net::Fetched, FetchError> {
    let policy = allowing(&["127.0.0.1/32"]);
    let url = base.join(path).unwrap();
    fetch_capped(&media_client(&policy), &url, max_bytes, &policy).await
}

fn assert_too_large(result: Result<wagate_net::Fetched, FetchError>, cap: u64) {
    match result {
        Err(err @ FetchError::TooLarge { max_bytes }) => {
            assert_eq!(max_bytes, cap);
            assert_eq!(err.http_status(), StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(
                err.to_string(),
                format!("the file at the URL is larger than the limit of {cap} bytes")
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused() {
    let base = limits_server().await;
    assert_too_large(fetch(&base, "/sized", 1000).await, 1000);
    assert_eq!(
        fetch(&base, "/sized", 10 * KIB as u64)
            .await
            .unwrap()
            .bytes
            .len(),
        10 * KIB
    );
}

/// The body never finishes, so only a check of the header can answer
/// before the client's (one-minute) deadline.
#[tokio::test]
async fn a_declared_length_is_refused_before_the_body_is_read() {
    let base = limits_server().await;
    assert_too_large(
        fetch(&base, "/huge-declared", 1024 * 1024).await,
        1024 * 1024,
    );
}

#[tokio::test]
async fn a_chunked_body_is_cut_off_at_the_cap() {
    let base = limits_server().await;
    let cap = 10 * KIB as u64;
    assert_too_large(fetch(&base, "/chunked/11", cap).await, cap);
    let exact = fetch(&base, "/chunked/10", cap).await.unwrap();
    assert_eq!(exact.bytes, vec![7u8; 10 * KIB]);
}

#[tokio::test]
async fn an_endless_body_is_cut_off_at_the_cap() {
    let base = limits_server().await;
    assert_too_large(
        fetch(&base, "/endless", 64 * KIB as u64).await,
        64 * KIB as u64,
    );
}

#[tokio::test]
async fn the_deadline_covers_a_body_that_never_finishes() {
    let base = limits_server().await;
    let policy = allowing(&["127.0.0.1/32"]);
    let client = client_with_deadline(&policy, Duration::from_millis(300));

    for path in ["/stalls-in-body", "/stalls-before-head"] {
        let url = base.join(path).unwrap();
        let err = fetch_capped(&client, &url, 1024 * 1024, &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::TimedOut), "{path}: {err:?}");
        assert_eq!(err.http_status(), StatusCode::GATEWAY_TIMEOUT);
    }
}

#[tokio::test]
async fn an_error_status_is_reported_with_the_status() {
    let base = limits_server().await;
    let err = fetch(&base, "/missing", 1024).await.unwrap_err();
    assert!(
        matches!(err, FetchError::UpstreamStatus { status } if status == StatusCode::NOT_FOUND),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the server at the URL answered 404 Not Found"
    );
    assert_eq!(err.http_status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_closed_port_is_a_connection_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let base = Url::parse(&format!("http://{address}/")).unwrap();

    let err = fetch(&base, "/file.jpg", 1024).await.unwrap_err();
    assert!(
        matches!(err, FetchError::ConnectionFailed { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("could not fetch the URL: "),
        "{err}"
    );
    assert_eq!(err.http_status(), StatusCode::BAD_GATEWAY);
}

/// https goes through TLS (rustls is compiled in): a plain-HTTP server on
/// the other end fails the handshake instead of being spoken to in clear.
#[tokio::test]
async fn https_is_spoken_with_tls() {
    let base = limits_server().await;
    let mut url = base.join("/sized").unwrap();
    url.set_scheme("https").unwrap();
    let policy = allowing(&["127.0.0.1/32"]);

    let err = fetch_capped(&media_client(&policy), &url, 1024 * 1024, &policy)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::ConnectionFailed { .. }),
        "{err:?}"
    );
}
