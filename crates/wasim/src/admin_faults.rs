//! Admin API for the faults a sender's retry logic must survive: lost or
//! refused message acks, and numbers that are not on WhatsApp.

use crate::admin::{AdminError, phone};
use crate::faults::AckMode;
use crate::world::World;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(
            "/admin/media/refuse",
            get(media_refusals).post(refuse_media),
        )
        .route("/admin/acks", get(ack_mode).post(set_ack_mode))
        .route(
            "/admin/unregistered",
            get(unregistered)
                .post(mark_unregistered)
                .delete(clear_unregistered),
        )
}

/// The code a nack carries when the request names none: the server is
/// unavailable, the failure a sender should retry.
const DEFAULT_NACK: &str = "503";

#[derive(Deserialize)]
struct AckBody {
    mode: String,
    error: Option<String>,
}

fn describe(mode: &AckMode) -> Value {
    match mode {
        AckMode::Normal => json!({"mode": "normal", "error": null}),
        AckMode::Withhold => json!({"mode": "withhold", "error": null}),
        AckMode::Nack(code) => json!({"mode": "nack", "error": code}),
    }
}

async fn ack_mode(State(world): State<Arc<World>>) -> Json<Value> {
    Json(describe(&world.lock().ack_mode))
}

async fn set_ack_mode(
    State(world): State<Arc<World>>,
    body: Result<Json<AckBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let mode = match body.mode.as_str() {
        "normal" => AckMode::Normal,
        "withhold" => AckMode::Withhold,
        "nack" => {
            let code = body.error.unwrap_or_else(|| DEFAULT_NACK.into());
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AdminError::BadRequest(format!(
                    "error: '{code}' is not a numeric error code"
                )));
            }
            AckMode::Nack(code)
        }
        other => {
            return Err(AdminError::BadRequest(format!(
                "mode: '{other}' is not normal, withhold or nack"
            )));
        }
    };
    let answer = describe(&mode);
    world.lock().ack_mode = mode;
    Ok(Json(answer))
}

#[derive(Deserialize)]
struct PhonesBody {
    phones: Vec<String>,
}

fn phones(raw: &[String]) -> Result<Vec<String>, AdminError> {
    raw.iter().map(|p| phone(p, "phones")).collect()
}

fn listing(world: &World) -> Json<Value> {
    let mut list: Vec<String> = world.lock().unregistered.iter().cloned().collect();
    list.sort();
    Json(json!({"unregistered": list}))
}

async fn unregistered(State(world): State<Arc<World>>) -> Json<Value> {
    listing(&world)
}

async fn mark_unregistered(
    State(world): State<Arc<World>>,
    body: Result<Json<PhonesBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let phones = phones(&body.phones)?;
    crate::faults::unregister(&world, &phones).map_err(|e| {
        AdminError::BadRequest(format!(
            "phones: {} has linked devices, so it is on WhatsApp",
            e.0
        ))
    })?;
    Ok(listing(&world))
}

/// Without a body every number is on WhatsApp again; with one, the
/// numbers it lists are.
async fn clear_unregistered(
    State(world): State<Arc<World>>,
    body: Option<Json<PhonesBody>>,
) -> Result<Json<Value>, AdminError> {
    match body {
        Some(Json(body)) => crate::faults::reregister(&world, Some(&phones(&body.phones)?)),
        None => crate::faults::reregister(&world, None),
    }
    Ok(listing(&world))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefuseBody {
    /// How many of the next downloads the media host answers with 503.
    next_downloads: u32,
}

fn media_host(world: &World) -> Result<&crate::media::MediaHost, AdminError> {
    world
        .media
        .as_deref()
        .ok_or_else(|| AdminError::NotFound("this simulator runs no media host".into()))
}

fn refusals(host: &crate::media::MediaHost) -> Value {
    let (left, refused) = host.refused_downloads();
    json!({"nextDownloads": left, "refused": refused})
}

/// `POST /admin/media/refuse`: the next downloads fail as on a busy CDN.
async fn refuse_media(
    State(world): State<Arc<World>>,
    body: Result<Json<RefuseBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let host = media_host(&world)?;
    host.refuse_next_downloads(body.next_downloads);
    Ok(Json(refusals(host)))
}

/// `GET /admin/media/refuse`: refusals left and made.
async fn media_refusals(State(world): State<Arc<World>>) -> Result<Json<Value>, AdminError> {
    Ok(Json(refusals(media_host(&world)?)))
}
