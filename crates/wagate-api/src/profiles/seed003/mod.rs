//! The internal microservice API of seed 003, at the root: `POST
//! /sessions/init`, `GET` and `DELETE /sessions/:sessionId`, `POST
//! /messages/send`, with `GET /health` served by the native handler.
//!
//! Its `Authorization: Bearer <secret>` is a wagate API key: a tenant or
//! admin key acts in its tenant, a session key on its own session only.
//! Every answer, errors included, has the document's shape; received
//! messages reach its clients through webhook endpoints of shape
//! `seed003`, set up with the native webhook API.

mod error;
mod extract;
mod input;
mod send;
mod sessions;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};
use error::wrong_method;

pub fn router() -> Router<AppState> {
    Router::new()
        // A session may be called `init`: its reads and deletes reach it
        // as they would through `/sessions/:sessionId`.
        .route(
            "/sessions/init",
            post(sessions::init)
                .get(sessions::get_session_named_init)
                .delete(sessions::delete_session_named_init)
                .fallback(wrong_method),
        )
        .route(
            "/sessions/{session_id}",
            get(sessions::get_session)
                .delete(sessions::delete_session)
                .fallback(wrong_method),
        )
        .route("/messages/send", post(send::send).fallback(wrong_method))
}
