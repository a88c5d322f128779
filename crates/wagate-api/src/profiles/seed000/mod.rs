//! The seed 000 profile: the "Maytapi alternative" gateway API under
//! `/api/v1/gateway`. Each session has its own API key, sent as
//! `x-api-key`, and its own webhook URL, which gets the seed 000 event
//! shapes (`message_received`, `connected`, `disconnected`, `qr_code`).
//!
//! Creating and listing sessions need the admin or a tenant key; the
//! session routes also take the session's own key. Every answer has the
//! document's `success` flag, failures included ([`express`]).

mod create;
pub(crate) mod express;
mod send;
mod session;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

/// Where the profile is mounted.
pub const PREFIX: &str = "/api/v1/gateway";

pub fn router() -> Router<AppState> {
    // The file routes check their body against the media limits
    // themselves, as they stream it (`send::upload_limit`).
    let uploads = DefaultBodyLimit::disable();
    let routes = Router::new()
        .route("/sessions", post(create::create_session))
        .route("/sessions/list", get(session::list_sessions))
        .route("/{id}", delete(session::delete_session))
        .route("/{id}/status", get(session::session_status))
        .route("/{id}/qr", get(session::session_qr))
        .route("/{id}/send", post(send::send_text))
        .route("/{id}/send-image", post(send::send_image).layer(uploads))
        .route(
            "/{id}/send-document",
            post(send::send_document).layer(uploads),
        )
        .method_not_allowed_fallback(express::wrong_method)
        .fallback(express::no_route);
    // Nested, so the fallback answers every unknown path under the prefix
    // in the profile's shape and no other.
    Router::new().nest(PREFIX, routes)
}
