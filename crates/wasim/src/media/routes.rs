//! The CDN's HTTP surface, as whatsapp-rust 0.7 speaks it:
//!
//! - upload: `POST {upload_path}/{token}?auth=..&token=..` with the encrypted
//!   body, answered `{"url", "direct_path"}`; files of 5 MiB and more are
//!   preceded by the same URL with `&resume=1` and no body.
//! - download: `GET https://{host}{direct_path}?token=..` (plus `auth=` when
//!   the client has a session); the CDN gates on the path and its token, not
//!   on the auth.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use sha2::{Digest, Sha256};
use wacore::download::MediaType;

use super::store::{BlobStore, token_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Every media type whose upload path the host accepts. `MediaType` is
/// non-exhaustive, so the list is spelled out; the paths themselves come from
/// wacore so they cannot drift from the client's.
pub(crate) const MEDIA_TYPES: [MediaType; 10] = [
    MediaType::Image,
    MediaType::Video,
    MediaType::Audio,
    MediaType::Document,
    MediaType::History,
    MediaType::AppState,
    MediaType::StickerPack,
    MediaType::StickerPackThumbnail,
    MediaType::LinkThumbnail,
    MediaType::ProductCatalogImage,
];

/// What the handlers share with [`super::MediaHost`].
pub(crate) struct HostState {
    pub(crate) store: BlobStore,
    pub(crate) auth: String,
    pub(crate) hostname: String,
    /// Downloads still to be refused with 503, as an overloaded CDN does.
    pub(crate) refuse_downloads: AtomicU32,
    /// Downloads refused so far.
    pub(crate) refused: AtomicU64,
}

impl HostState {
    fn url_for(&self, direct_path: &str) -> String {
        format!("https://{}{direct_path}", self.hostname)
    }

    fn upload_answer(&self, direct_path: &str) -> serde_json::Value {
        json!({ "url": self.url_for(direct_path), "direct_path": direct_path })
    }
}

pub(crate) fn router(state: Arc<HostState>, max_upload_bytes: usize) -> Router {
    Router::new()
        .route("/mms/{kind}/{token}", post(upload_mms))
        .route("/product/image/{token}", post(upload_product))
        .route("/v/{*rest}", get(download))
        // Over the cap the body extractor fails with 413, the CDN's answer.
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .with_state(state)
}

async fn upload_mms(
    State(state): State<Arc<HostState>>,
    Path((kind, token)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prefix = format!("/mms/{kind}");
    let Some(media_type) = MEDIA_TYPES.into_iter().find(|t| t.upload_path() == prefix) else {
        return (StatusCode::NOT_FOUND, "unknown media type").into_response();
    };
    upload(&state, media_type, &token, &query, body)
}

async fn upload_product(
    State(state): State<Arc<HostState>>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    upload(&state, MediaType::ProductCatalogImage, &token, &query, body)
}

fn upload(
    state: &HostState,
    media_type: MediaType,
    path_token: &str,
    query: &HashMap<String, String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Auth before the body: a stale token must read as 403 so the client
    // refreshes media_conn, whatever else is wrong with the request.
    if query.get("auth") != Some(&state.auth) {
        return (StatusCode::FORBIDDEN, "bad media auth").into_response();
    }
    if query.get("token").map(String::as_str) != Some(path_token) {
        return (StatusCode::BAD_REQUEST, "token query does not match path").into_response();
    }

    if query.get("resume").is_some() {
        return match state.store.path_for_token(path_token) {
            Some(path) => {
                let mut answer = state.upload_answer(&path);
                answer["resume"] = json!("complete");
                Json(answer).into_response()
            }
            // The client reads any 4xx here as "nothing uploaded yet".
            None => (StatusCode::NOT_FOUND, "no such upload").into_response(),
        };
    }
    // The host never offers a resume offset, so a client that sends one is
    // resuming an upload this host did not start.
    if query.get("file_offset").is_some_and(|o| o != "0") {
        return (StatusCode::BAD_REQUEST, "no partial upload to resume").into_response();
    }

    let body = match body {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    // The token is the client's SHA-256 of what it sends; checking it catches
    // a body that was truncated or re-encoded on the way.
    if token_of(&Sha256::digest(&body)) != path_token {
        return (StatusCode::BAD_REQUEST, "body does not match token").into_response();
    }

    let len = body.len();
    let direct_path = state.store.insert(media_type, body);
    tracing::debug!(?media_type, len, %direct_path, "media uploaded");
    Json(state.upload_answer(&direct_path)).into_response()
}

async fn download(
    State(state): State<Arc<HostState>>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let direct_path = format!("/v/{rest}");
    let refuse = state
        .refuse_downloads
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if refuse.is_ok() {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::SERVICE_UNAVAILABLE, "media host busy").into_response();
    }
    let Some(blob) = state.store.get(&direct_path) else {
        return (StatusCode::NOT_FOUND, "no such media").into_response();
    };
    // A token for other content means the reference is not this blob's.
    if let Some(token) = query.get("token")
        && *token != token_of(&blob.enc_sha256)
    {
        return (StatusCode::NOT_FOUND, "token does not match media").into_response();
    }
    tracing::debug!(%direct_path, len = blob.bytes.len(), "media downloaded");
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        blob.bytes,
    )
        .into_response()
}
