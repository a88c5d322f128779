//! Liveness and readiness, both without credentials so orchestrators and
//! load balancers can poll them.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Server time, RFC 3339.
    #[schema(example = "2024-01-15T10:30:00.000Z")]
    pub timestamp: String,
}

fn body() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok",
        timestamp: crate::views::rfc3339(Utc::now()),
    })
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthBody)))]
pub async fn health() -> Json<HealthBody> {
    body()
}

/// The process can serve requests: its database answers.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, description = "Ready", body = HealthBody),
    (status = 503, description = "Database unreachable", body = crate::error::ErrorBody),
))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<HealthBody>, ApiError> {
    state.store.ping().await.map_err(|err| {
        tracing::warn!(%err, "readiness check failed");
        ApiError::Unavailable("Database is not reachable".to_string())
    })?;
    Ok(body())
}
