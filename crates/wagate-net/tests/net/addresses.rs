//! Which addresses a fetch may reach, by IP literal and by name.

use std::error::Error as _;

use reqwest::StatusCode;
use wagate_net::{AddressPolicy, FetchError, HostRefused, Reason, Url, fetch_capped};

use crate::support::{allowing, counting_server, media_client, webhook_client, with_host};

const CAP: u64 = 1024 * 1024;

async fn refusal(url: &Url, policy: &AddressPolicy) -> String {
    match fetch_capped(&media_client(policy), url, CAP, policy).await {
        Err(err @ FetchError::AddressRefused { .. }) => {
            assert_eq!(err.http_status(), StatusCode::UNPROCESSABLE_ENTITY);
            err.to_string()
        }
        other => panic!("{url}: expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_is_refused_by_default() {
    let (url, hits) = counting_server("127.0.0.1", "secret").await;
    let policy = AddressPolicy::default();

    let message = refusal(&url, &policy).await;
    assert_eq!(message, "127.0.0.1 is a loopback address");
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn loopback_is_refused_by_name() {
    let (url, hits) = counting_server("127.0.0.1", "secret").await;
    let policy = AddressPolicy::default();

    let message = refusal(&with_host(&url, "localhost"), &policy).await;
    assert_eq!(
        message,
        "localhost resolves only to addresses that are not allowed (a loopback address)"
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn loopback_is_refused_in_other_spellings() {
    let (url, hits) = counting_server("127.0.0.1", "secret").await;
    let policy = AddressPolicy::default();

    let mapped = with_host(&url, "[::ffff:127.0.0.1]");
    let message = refusal(&mapped, &policy).await;
    assert_eq!(
        message,
        "::ffff:127.0.0.1 is an IPv4-mapped address of 127.0.0.1, a loopback address"
    );
    let port = url.port().unwrap();
    for spelling in ["2130706433", "0x7f.1", "127.1"] {
        let url = Url::parse(&format!("http://{spelling}:{port}/")).unwrap();
        assert_eq!(
            refusal(&url, &policy).await,
            "127.0.0.1 is a loopback address"
        );
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn the_allow_list_lets_loopback_through() {
    let (url, hits) = counting_server("127.0.0.1", "hello").await;
    let policy = allowing(&["127.0.0.1/32"]);
    let client = media_client(&policy);

    for url in [url.clone(), with_host(&url, "localhost")] {
        let fetched = fetch_capped(&client, &url, CAP, &policy).await.unwrap();
        assert_eq!(fetched.bytes, b"hello");
    }
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn an_allow_list_for_one_address_refuses_its_neighbours() {
    let (url, hits) = counting_server("127.0.0.2", "hello").await;
    let policy = allowing(&["127.0.0.1/32"]);

    assert_eq!(
        refusal(&url, &policy).await,
        "127.0.0.2 is a loopback address"
    );
    assert_eq!(hits.count(), 0);
}

/// A caller that sends its own request (as webhook delivery does) still
/// cannot reach a refused address through a host name: the resolver is
/// part of the client.
#[tokio::test]
async fn the_client_refuses_names_without_check_url() {
    let (url, hits) = counting_server("127.0.0.1", "secret").await;
    let client = webhook_client(&AddressPolicy::default());

    let err = client
        .post(with_host(&url, "localhost"))
        .send()
        .await
        .unwrap_err();
    let mut source = err.source();
    let refused = loop {
        let cause = source.expect("a HostRefused in the error chain");
        if let Some(refused) = cause.downcast_ref::<HostRefused>() {
            break refused;
        }
        source = cause.source();
    };
    assert_eq!(refused.host, "localhost");
    assert_eq!(refused.first.reason(), Reason::Loopback);
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn urls_that_are_not_http_are_bad_urls() {
    let policy = AddressPolicy::default();
    let client = media_client(&policy);
    for (url, message) in [
        (
            "ftp://example.com/a.jpg",
            "only http and https URLs are accepted, not ftp:",
        ),
        (
            "file:///etc/passwd",
            "only http and https URLs are accepted, not file:",
        ),
        (
            "https://user:secret@example.com/a.jpg",
            "URLs with a user name or password are not accepted",
        ),
    ] {
        let err = fetch_capped(&client, &Url::parse(url).unwrap(), CAP, &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::BadUrl { .. }), "{url}: {err:?}");
        assert_eq!(err.to_string(), message);
        assert_eq!(err.http_status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
