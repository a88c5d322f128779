//! A burst of texts from one contact, for load and crash tests: handed to
//! the account's devices as fast as the phone can encrypt them.

use super::bad;
use crate::admin::{AdminError, phone};
use crate::phone::Outgoing;
use crate::world::World;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use waproto::whatsapp as wa;

/// Enough for a load test, few enough to build in one request.
const MAX_COUNT: i64 = 10_000;

#[derive(Deserialize)]
pub struct ManyBody {
    to: String,
    count: Option<i64>,
    /// Each message is this text and its number; `msg` when absent.
    text: Option<String>,
}

/// `POST /admin/contacts/{phone}/send-many`: `count` texts numbered from 1,
/// so each is distinct. Answers once every one is on its way to each
/// linked device (or queued for one that is offline).
pub async fn send_many(
    State(world): State<Arc<World>>,
    Path(from): Path<String>,
    body: Result<Json<ManyBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let from = phone(&from, "contactPhone")?;
    let to = phone(&body.to, "to")?;
    let count = body
        .count
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .ok_or_else(|| bad(format!("count: 1 to {MAX_COUNT} messages")))?;
    let prefix = match body.text.as_deref() {
        Some("") => return Err(bad("text: empty".into())),
        Some(text) => text,
        None => "msg",
    };
    let batch = (1..=count)
        .map(|n| Outgoing {
            message: wa::Message {
                conversation: Some(format!("{prefix} {n}")),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    let ids = crate::phone::send_all(&world, &from, &to, batch)
        .await
        .map_err(|e| AdminError::BadRequest(format!("could not send: {e:#}")))?;
    Ok(Json(json!({"ids": ids})))
}
