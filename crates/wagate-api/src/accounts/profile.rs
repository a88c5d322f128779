//! The logged-in user's own account.

use super::users::UserView;
use crate::AppState;
use crate::auth::{Caller, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::views::TenantView;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users/profile", get(profile))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub user: UserView,
    /// The tenant the user acts in.
    pub tenant: TenantView,
}

/// The user the access token belongs to, and its tenant.
#[utoipa::path(get, path = "/api/v1/users/profile", tag = "users",
    responses((status = 200, body = Profile),
        (status = 401, description = "No token, or an expired or invalid one", body = ErrorBody),
        (status = 403, description = "An API key instead of a user's token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Profile>, ApiError> {
    let user_id = caller.user_id().ok_or_else(|| {
        ApiError::Forbidden(
            "The profile belongs to a user: send the access token from POST /api/v1/auth/login"
                .to_string(),
        )
    })?;
    // The extractor just read the user; it may have been deleted since.
    let user =
        state.store.user(user_id).await?.ok_or_else(|| {
            ApiError::Unauthorized("Invalid token: its user is deleted".to_string())
        })?;
    let tenant = state
        .store
        .tenant(user.tenant)
        .await?
        .ok_or_else(|| tenant_not_found(user.tenant.0))?;
    Ok(Json(Profile {
        user: user.into(),
        tenant: tenant.into(),
    }))
}
