//! "linkPreview": true without a title: the gateway fetches the linked
//! page when it sends, and the contact sees the page's card; a page it
//! cannot or may not read leaves the text as it is, still sent.

use super::TestApp;
use super::sending::{linked_shop, queue, sent};
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CUSTOMER: &str = "15550200003";

/// The page and its picture, as a shop's own site serves them.
const PAGE: &str = r#"<!doctype html>
<html><head>
  <meta charset="utf-8">
  <title>Sofa | Shop</title>
  <meta property="og:title" content="Sofa &amp; Chair set">
  <meta property="og:description" content="Seats three, ships in a week">
  <meta property="og:image" content="/img/sofa.png">
</head><body><h1>Sofa</h1></body></html>"#;

/// A local site on `ip`: `/sofa` (the page) and `/img/sofa.png` (an
/// 800×400 picture); returns its base URL and a count of requests.
async fn shop_site(ip: &str) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let (page_hits, image_hits) = (hits.clone(), hits.clone());
    let router = Router::new()
        .route(
            "/sofa",
            get(move || {
                page_hits.fetch_add(1, Ordering::SeqCst);
                async { ([(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response() }
            }),
        )
        .route(
            "/img/sofa.png",
            get(move || {
                image_hits.fetch_add(1, Ordering::SeqCst);
                async { ([(CONTENT_TYPE, "image/png")], png(800, 400)).into_response() }
            }),
        );
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, hits)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn text_linking(url: &str) -> Value {
    json!({"to": CUSTOMER, "text": format!("Back in stock: {url} 🛋"), "linkPreview": true})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_sees_the_linked_pages_card() {
    // The shop's site is on this machine, which the media allow-list
    // lets the gateway call; previews use the same list by default.
    let app = TestApp::spawn_with(&[("WAGATE_MEDIA_FETCH_ALLOW", "127.0.0.1/32")]).await;
    linked_shop(&app).await;
    let (base, hits) = shop_site("127.0.0.1").await;
    let url = format!("{base}/sofa");

    let id = queue(&app, text_linking(&url)).await;

    let got = app.received(CUSTOMER, &id).await;
    assert_eq!(got["text"], format!("Back in stock: {url} 🛋"), "{got}");
    let card = &got["linkPreview"];
    assert_eq!(card["url"], url, "{got}");
    assert_eq!(card["title"], "Sofa & Chair set", "{got}");
    assert_eq!(card["description"], "Seats three, ships in a week", "{got}");
    let thumbnail = &card["thumbnail"];
    assert_eq!(thumbnail["jpeg"], true, "{got}");
    // Scaled to 300 px on its longest side, the shape kept.
    assert_eq!(
        (&thumbnail["width"], &thumbnail["height"]),
        (&json!(300), &json!(150))
    );
    let size = thumbnail["size"].as_u64().unwrap();
    assert!(size > 100 && size < 64 * 1024, "{got}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "the page and its picture");

    let message = sent(&app, &id).await;
    assert_eq!(message["type"], "text", "{message}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_read_leaves_the_text_without_a_card() {
    let app = TestApp::spawn_with(&[("WAGATE_MEDIA_FETCH_ALLOW", "127.0.0.1/32")]).await;
    linked_shop(&app).await;
    // Nothing listens on a port just given back.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let unreachable = format!("http://{closed}/sofa");
    // A loopback address outside the allow-list: refused before dialling.
    let (refused_base, refused_hits) = shop_site("127.0.0.2").await;
    let refused = format!("{refused_base}/sofa");

    for url in [unreachable, refused] {
        let id = queue(&app, text_linking(&url)).await;
        let got = app.received(CUSTOMER, &id).await;
        assert_eq!(got["text"], format!("Back in stock: {url} 🛋"), "{got}");
        assert_eq!(got["linkPreview"], Value::Null, "{got}");
        sent(&app, &id).await;
    }
    assert_eq!(refused_hits.load(Ordering::SeqCst), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_the_sender_gives_is_used_and_the_page_is_not_fetched() {
    let app = TestApp::spawn_with(&[("WAGATE_MEDIA_FETCH_ALLOW", "127.0.0.1/32")]).await;
    linked_shop(&app).await;
    let (base, hits) = shop_site("127.0.0.1").await;
    let url = format!("{base}/sofa");

    let mut body = text_linking(&url);
    body["preview"] = json!({"title": "Our sofa", "description": "Only this week"});
    let id = queue(&app, body).await;

    let got = app.received(CUSTOMER, &id).await;
    assert_eq!(
        got["linkPreview"],
        json!({"url": url, "title": "Our sofa", "description": "Only this week"}),
        "{got}"
    );
    sent(&app, &id).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_fetching_off_a_preview_shows_only_what_the_request_gives() {
    let app = TestApp::spawn_with(&[
        ("WAGATE_MEDIA_FETCH_ALLOW", "127.0.0.1/32"),
        ("WAGATE_LINK_PREVIEW_FETCH", "false"),
    ])
    .await;
    linked_shop(&app).await;
    let (base, hits) = shop_site("127.0.0.1").await;
    let url = format!("{base}/sofa");

    let bare = queue(&app, text_linking(&url)).await;
    let mut body = text_linking(&url);
    body["preview"] = json!({"description": "Only this week"});
    let described = queue(&app, body).await;

    let got = app.received(CUSTOMER, &bare).await;
    assert_eq!(got["linkPreview"], Value::Null, "{got}");
    let got = app.received(CUSTOMER, &described).await;
    assert_eq!(
        got["linkPreview"],
        json!({"url": url, "title": null, "description": "Only this week"}),
        "{got}"
    );
    sent(&app, &described).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    app.stop().await;
}
