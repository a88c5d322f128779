//! Redirects: re-checked hop by hop for media, never followed for webhooks.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{any, get};
use reqwest::StatusCode;
use wagate_net::{FetchError, Url, fetch_capped};

use crate::support::{
    allowing, counting_server, media_client, serve, serve_on, webhook_client, with_host,
};

const CAP: u64 = 1024 * 1024;

/// A server on 127.0.0.1 whose `/hop` redirects to `location`, and whose
/// `/final` answers.
async fn redirecting_to(location: String) -> Url {
    let router = Router::new()
        // Any method: webhook deliveries POST.
        .route("/hop", any(move || async move { Redirect::to(&location) }))
        .route("/final", get(|| async { "arrived" }));
    serve(router).await
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused() {
    // Both servers are real, so only the policy can stop the second hop.
    let (refused, hits) = counting_server("127.0.0.2", "secret").await;
    let allowed = redirecting_to(refused.join("/latest/meta-data").unwrap().into()).await;
    let policy = allowing(&["127.0.0.1/32"]);

    let err = fetch_capped(
        &media_client(&policy),
        &allowed.join("/hop").unwrap(),
        CAP,
        &policy,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::AddressRefused { .. }), "{err:?}");
    let target = format!("http://127.0.0.2:{}", refused.port().unwrap());
    assert_eq!(
        err.to_string(),
        format!(
            "the server redirected to {target}, which is refused: 127.0.0.2 is a loopback address"
        )
    );
    assert_eq!(err.http_status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn a_redirect_to_a_refused_name_is_refused_by_the_resolver() {
    let (refused, hits) = counting_server("127.0.0.1", "secret").await;
    let router = Router::new().route(
        "/hop",
        get(move || async move { Redirect::to(with_host(&refused, "localhost").as_str()) }),
    );
    let allowed = serve_on("127.0.0.2", router).await;
    let policy = allowing(&["127.0.0.2/32"]);

    let err = fetch_capped(
        &media_client(&policy),
        &allowed.join("/hop").unwrap(),
        CAP,
        &policy,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::AddressRefused { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("localhost resolves only to"),
        "{err}"
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn allowed_redirects_are_followed() {
    let origin = redirecting_to("/final".into()).await;
    let policy = allowing(&["127.0.0.1/32"]);

    let fetched = fetch_capped(
        &media_client(&policy),
        &origin.join("/hop").unwrap(),
        CAP,
        &policy,
    )
    .await
    .unwrap();
    assert_eq!(fetched.bytes, b"arrived");
}

#[tokio::test]
async fn a_webhook_client_does_not_follow_redirects() {
    let (target, hits) = counting_server("127.0.0.1", "arrived").await;
    let origin = redirecting_to(target.into()).await;
    let policy = allowing(&["127.0.0.1/32"]);
    let client = webhook_client(&policy);
    let hop = origin.join("/hop").unwrap();

    let response = client.post(hop.clone()).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let err = fetch_capped(&client, &hop, CAP, &policy).await.unwrap_err();
    assert!(
        matches!(err, FetchError::UpstreamStatus { status } if status == StatusCode::SEE_OTHER),
        "{err:?}"
    );
    assert_eq!(err.http_status(), StatusCode::BAD_GATEWAY);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn media_redirects_stop_after_three_hops() {
    // `/chain/n` redirects to `/chain/n-1`; `/chain/0` answers.
    let router = Router::new().route(
        "/chain/{n}",
        get(|Path(n): Path<u32>| async move {
            match n {
                0 => "end".into_response(),
                n => Redirect::to(&format!("/chain/{}", n - 1)).into_response(),
            }
        }),
    );
    let base = serve(router).await;
    let policy = allowing(&["127.0.0.1/32"]);
    let client = media_client(&policy);

    let three = base.join("/chain/3").unwrap();
    let fetched = fetch_capped(&client, &three, CAP, &policy).await.unwrap();
    assert_eq!(fetched.bytes, b"end");

    let four = base.join("/chain/4").unwrap();
    let err = fetch_capped(&client, &four, CAP, &policy)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects(_)), "{err:?}");
    assert_eq!(err.to_string(), "the server redirected more than 3 times");
    assert_eq!(err.http_status(), StatusCode::BAD_GATEWAY);
}
