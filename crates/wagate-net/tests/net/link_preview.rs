//! Link previews fetched from a local site: the card's fields, the head
//! read without the rest, and pages that give no preview.

use std::convert::Infallible;
use std::io::Cursor;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream::{self, StreamExt};
use wagate_net::link_preview::{PreviewError, PreviewFetcher, PreviewLimits};
use wagate_net::{AddressPolicy, FetchError, Url};

use crate::support::{Hits, USER_AGENT, allowing, serve};

const PAGE: &str = r#"<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Sofa &amp; Chair">
<meta property="og:description" content="Seats three">
<meta property="og:image" content="/img/sofa.png">
</head><body>…</body></html>"#;

fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbaImage::from_pixel(width, height, image::Rgba([20, 90, 200, 255]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(picture)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn html(body: impl Into<Body>) -> Response {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], body.into()).into_response()
}

async fn site(image_hits: Hits) -> Url {
    let router = Router::new()
        .route("/sofa", get(|| async { html(PAGE) }))
        .route(
            "/old",
            get(|| async { (StatusCode::MOVED_PERMANENTLY, [(LOCATION, "/sofa")]) }),
        )
        .route(
            "/img/sofa.png",
            get(move || {
                image_hits.record();
                async { ([(CONTENT_TYPE, "image/png")], png(900, 600)) }
            }),
        )
        .route(
            "/head-then-nothing",
            get(|| async {
                // The head arrives; the rest of the page never does.
                let head = stream::once(async {
                    Ok::<_, Infallible>(PAGE.replace("/img/sofa.png", "/missing.png"))
                });
                html(Body::from_stream(head.chain(stream::pending())))
            }),
        )
        .route(
            "/broken-image",
            get(|| async { html(PAGE.replace("/img/sofa.png", "/missing.png")) }),
        )
        .route(
            "/feed.json",
            get(|| async { ([(CONTENT_TYPE, "application/json")], "{}") }),
        )
        .route(
            "/blank",
            get(|| async { html("<html><head></head><body>hi</body></html>") }),
        )
        .route("/gone", get(|| async { StatusCode::NOT_FOUND }));
    serve(router).await
}

fn fetcher(policy: AddressPolicy) -> PreviewFetcher {
    PreviewFetcher::new(policy, PreviewLimits::default(), USER_AGENT).unwrap()
}

#[tokio::test]
async fn a_page_gives_its_title_description_and_a_small_jpeg() {
    let hits = Hits::default();
    let base = site(hits.clone()).await;
    let previews = fetcher(allowing(&["127.0.0.1"]));
    // Through a redirect: the image is relative to where the page ended up.
    let preview = previews.fetch(&base.join("/old").unwrap()).await.unwrap();
    assert_eq!(preview.title.as_deref(), Some("Sofa & Chair"));
    assert_eq!(preview.description.as_deref(), Some("Seats three"));
    let thumbnail = preview.thumbnail.expect("a thumbnail");
    assert_eq!((thumbnail.width, thumbnail.height), (300, 200));
    assert_eq!(&thumbnail.jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn only_the_head_is_read() {
    let base = site(Hits::default()).await;
    let started = Instant::now();
    let preview = fetcher(allowing(&["127.0.0.1"]))
        .fetch(&base.join("/head-then-nothing").unwrap())
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Sofa & Chair"));
    assert!(
        started.elapsed() < PreviewLimits::default().timeout,
        "waited for the body: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_broken_image_leaves_the_card_without_a_thumbnail() {
    let base = site(Hits::default()).await;
    let preview = fetcher(allowing(&["127.0.0.1"]))
        .fetch(&base.join("/broken-image").unwrap())
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Sofa & Chair"));
    assert_eq!(preview.thumbnail, None);
}

#[tokio::test]
async fn pages_that_give_no_preview_say_why() {
    let base = site(Hits::default()).await;
    let previews = fetcher(allowing(&["127.0.0.1"]));
    let fetch = |path: &'static str| {
        let url = base.join(path).unwrap();
        let previews = previews.clone();
        async move { previews.fetch(&url).await.unwrap_err() }
    };
    assert!(
        matches!(fetch("/feed.json").await, PreviewError::NotHtml(Some(t)) if t == "application/json")
    );
    assert!(matches!(fetch("/blank").await, PreviewError::Empty));
    assert!(matches!(
        fetch("/gone").await,
        PreviewError::Fetch(FetchError::UpstreamStatus { status }) if status == 404
    ));
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allow_listed() {
    let hits = Hits::default();
    let base = site(hits.clone()).await;
    let refused = fetcher(AddressPolicy::default())
        .fetch(&base.join("/sofa").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            PreviewError::Fetch(FetchError::AddressRefused { .. })
        ),
        "{refused:?}"
    );
    let by_name = fetcher(AddressPolicy::default())
        .fetch(&Url::parse(&format!("http://localhost:{}/sofa", base.port().unwrap())).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            by_name,
            PreviewError::Fetch(FetchError::AddressRefused { .. })
        ),
        "{by_name:?}"
    );
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn a_slow_page_times_out() {
    let router = Router::new().route("/slow", get(std::future::pending::<&'static str>));
    let base = serve(router).await;
    let limits = PreviewLimits {
        timeout: Duration::from_millis(300),
        ..PreviewLimits::default()
    };
    let previews = PreviewFetcher::new(allowing(&["127.0.0.1"]), limits, USER_AGENT).unwrap();
    let failed = previews
        .fetch(&base.join("/slow").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(failed, PreviewError::Fetch(FetchError::TimedOut)),
        "{failed:?}"
    );
}
