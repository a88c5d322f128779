//! Content type and file name of what was fetched.

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::Redirect;
use axum::routing::get;
use wagate_net::{Fetched, fetch_capped};

use crate::support::{allowing, media_client, serve};

async fn fetch(path: &str) -> Fetched {
    let router = Router::new()
        .route(
            "/download",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "application/pdf"),
                        (
                            CONTENT_DISPOSITION,
                            "attachment; filename=\"report 2024.pdf\"",
                        ),
                    ],
                    "%PDF-1.7",
                )
            }),
        )
        .route(
            "/voice",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "audio/ogg; codecs=opus"),
                        (
                            CONTENT_DISPOSITION,
                            "attachment; filename*=UTF-8''gr%C3%BC%C3%9Fe.ogg",
                        ),
                    ],
                    "OggS",
                )
            }),
        )
        .route(
            "/media/cat.jpg",
            get(|| async { ([(CONTENT_TYPE, "image/jpeg")], "jpeg") }),
        )
        .route("/go", get(|| async { Redirect::to("/files/photo.png") }))
        .route("/files/photo.png", get(|| async { "png" }))
        .route("/blob", get(|| async { Body::from("raw") }));
    let base = serve(router).await;
    let policy = allowing(&["127.0.0.1/32"]);
    let url = base.join(path).unwrap();
    fetch_capped(&media_client(&policy), &url, 1024, &policy)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_name_comes_from_content_disposition() {
    let fetched = fetch("/download").await;
    assert_eq!(fetched.bytes, b"%PDF-1.7");
    assert_eq!(fetched.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(fetched.file_name.as_deref(), Some("report 2024.pdf"));
}

#[tokio::test]
async fn an_encoded_name_and_the_content_type_parameters_are_kept() {
    let fetched = fetch("/voice").await;
    assert_eq!(
        fetched.content_type.as_deref(),
        Some("audio/ogg; codecs=opus")
    );
    assert_eq!(fetched.file_name.as_deref(), Some("grüße.ogg"));
}

#[tokio::test]
async fn otherwise_the_name_comes_from_the_url_path() {
    let fetched = fetch("/media/cat.jpg").await;
    assert_eq!(fetched.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(fetched.file_name.as_deref(), Some("cat.jpg"));
}

#[tokio::test]
async fn after_a_redirect_the_final_path_names_the_file() {
    let fetched = fetch("/go").await;
    assert_eq!(fetched.bytes, b"png");
    assert_eq!(fetched.file_name.as_deref(), Some("photo.png"));
}

#[tokio::test]
async fn a_path_without_an_extension_names_nothing() {
    let fetched = fetch("/blob").await;
    assert_eq!(fetched.content_type, None);
    assert_eq!(fetched.file_name, None);
}
