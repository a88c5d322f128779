//! Logging in, keeping a login going, and logging out.

use super::tokens::{TokenKind, TokenRefused};
use super::users::UserView;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, HeaderValue};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::{Email, KeyDigest, PasswordHash};
use wagate_store::domain::{NewRefreshToken, NextRefreshToken, Rotation, User};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "user@example.com")]
    pub email: String,
    #[schema(example = "password")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    /// The refresh token of the last login or refresh.
    pub refresh_token: String,
}

/// A new pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <accessToken>`.
    #[schema(example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...")]
    pub access_token: String,
    /// Exchange at `/api/v1/auth/refresh` for a new pair, once.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds the access token is valid for.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Seconds the refresh token is valid for.
    #[schema(example = 2592000)]
    pub refresh_expires_in: u64,
    pub user: UserView,
}

/// Token answers must not be kept by caches or proxies (RFC 6749 5.1).
type Tokens = ([(axum::http::HeaderName, HeaderValue); 1], Json<TokenPair>);

fn no_store(pair: TokenPair) -> Tokens {
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(pair),
    )
}

/// One message for an unknown email and a wrong password, so the answer
/// does not tell which emails have accounts.
fn bad_login() -> ApiError {
    ApiError::Unauthorized("Invalid email or password".to_string())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Log in with an email and a password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair),
        (status = 400, body = ErrorBody),
        (status = 401, description = "Unknown email or wrong password (the same answer)", body = ErrorBody),
        (status = 403, description = "The user is disabled", body = ErrorBody)))]
#[tracing::instrument(skip_all, err)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Tokens, ApiError> {
    let email = Email::parse(&req.email)?;
    if req.password.is_empty() {
        return Err(ApiError::validation("password", "is required"));
    }
    let user = state.store.user_by_email(&email).await?;
    // An unknown email is checked against a decoy hash of the same cost, so
    // it takes as long to refuse as a wrong password.
    let hash = user.as_ref().map_or_else(
        || PasswordHash::decoy().clone(),
        |user| user.password_hash.clone(),
    );
    let matches = state.accounts.verify(hash, req.password).await?;
    let user = user.filter(|_| matches).ok_or_else(bad_login)?;
    if user.is_disabled() {
        return Err(ApiError::Forbidden("This user is disabled".to_string()));
    }
    state.store.record_login(user.id).await?;
    let family = hex::encode(rand::random::<[u8; 16]>());
    let (refresh_token, claims) = state
        .accounts
        .tokens
        .issue(&user, TokenKind::Refresh, now());
    state
        .store
        .create_refresh_token(&NewRefreshToken {
            user_id: user.id,
            family,
            digest: KeyDigest::of(&refresh_token),
            expires_at: claims.exp,
        })
        .await?;
    tracing::info!(user_id = user.id, "user logged in");
    Ok(no_store(pair(&state, user, refresh_token)))
}

fn pair(state: &AppState, user: User, refresh_token: String) -> TokenPair {
    let tokens = &state.accounts.tokens;
    let (access_token, _) = tokens.issue(&user, TokenKind::Access, now());
    TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: tokens.access_ttl.as_secs(),
        refresh_expires_in: tokens.refresh_ttl.as_secs(),
        user: user.into(),
    }
}

fn refresh_error(refused: TokenRefused) -> ApiError {
    match refused {
        TokenRefused::Expired => ApiError::Unauthorized("Refresh token expired".to_string()),
        TokenRefused::Invalid => ApiError::Unauthorized("Invalid refresh token".to_string()),
    }
}

/// Exchange a refresh token for a new pair. Each refresh token works
/// once; using one again ends the login it belongs to.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair),
        (status = 400, body = ErrorBody),
        (status = 401, description = "Refresh token invalid, expired, used or revoked", body = ErrorBody)))]
#[tracing::instrument(skip_all, err)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Tokens, ApiError> {
    let tokens = &state.accounts.tokens;
    let claims = tokens
        .verify(&req.refresh_token, TokenKind::Refresh, now())
        .map_err(refresh_error)?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| refresh_error(TokenRefused::Invalid))?;
    let gone = || {
        ApiError::Unauthorized("Invalid refresh token: its user is disabled or deleted".to_string())
    };
    let user = state
        .store
        .user(user_id)
        .await?
        .filter(|user| !user.is_disabled())
        .ok_or_else(gone)?;
    let (next_token, next_claims) = tokens.issue(&user, TokenKind::Refresh, now());
    let next = NextRefreshToken {
        digest: KeyDigest::of(&next_token),
        expires_at: next_claims.exp,
    };
    let presented = KeyDigest::of(&req.refresh_token);
    match state
        .store
        .rotate_refresh_token(&presented, &next, now())
        .await?
    {
        Rotation::Rotated { user_id, .. } if user_id == user.id => {}
        Rotation::Rotated { .. } | Rotation::Unknown => {
            return Err(refresh_error(TokenRefused::Invalid));
        }
        Rotation::Reused { user_id } => {
            tracing::warn!(
                user_id,
                "a used refresh token came back; its login is revoked"
            );
            return Err(ApiError::Unauthorized(
                "Refresh token already used; log in again".to_string(),
            ));
        }
        Rotation::Revoked => {
            return Err(ApiError::Unauthorized(
                "Refresh token revoked; log in again".to_string(),
            ));
        }
    }
    Ok(no_store(pair(&state, user, next_token)))
}

/// End a login: its refresh token, and every one it was exchanged for,
/// stops working. Access tokens already issued run out on their own
/// (`jwt_access_ttl_s`).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Logged out (also when it already was)"),
        (status = 400, body = ErrorBody),
        (status = 401, description = "Not a refresh token of this gateway", body = ErrorBody)))]
#[tracing::instrument(skip_all, err)]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    // Even an expired token may end its login; a forged one may not.
    state
        .accounts
        .tokens
        .verify_signature(&req.refresh_token, TokenKind::Refresh)
        .map_err(refresh_error)?;
    state
        .store
        .revoke_refresh_family(&KeyDigest::of(&req.refresh_token))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
