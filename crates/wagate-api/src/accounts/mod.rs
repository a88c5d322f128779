//! User accounts, the dashboard side of the API: users log in with an
//! email and a password and get JSON Web Tokens; an access token then
//! stands in for an API key (an admin user as an admin key, a customer as
//! a tenant key of its tenant).

pub mod login;
pub mod profile;
pub mod tokens;
pub mod users;

use crate::AppState;
use crate::auth::{Caller, Credential};
use crate::error::ApiError;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokens::{TokenKeys, TokenKind, TokenRefused};
use tokio::sync::Semaphore;
use wagate_core::{ApiKeyScope, Password, PasswordHash, UserRole};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(profile::router())
        .merge(users::router())
}

/// Access tokens live 15 minutes unless configured otherwise.
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(900);
/// Refresh tokens live 30 days unless configured otherwise.
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);

/// Token keys and password hashing, shared by every request.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub tokens: TokenKeys,
    /// Argon2id takes 19 MiB and a core for tens of milliseconds; a burst
    /// of logins queues here instead of starving everything else.
    hashing: Arc<Semaphore>,
}

impl Accounts {
    pub fn new(tokens: TokenKeys) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // The decoy is made on first use; making it now keeps the first
        // login for an unknown email as quick as any other.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(|| {
                PasswordHash::decoy();
            });
        }
        Accounts {
            tokens,
            hashing: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Accounts whose tokens are good for this process only, with the
    /// default lifetimes.
    pub fn ephemeral() -> Self {
        Accounts::new(TokenKeys::random(DEFAULT_ACCESS_TTL, DEFAULT_REFRESH_TTL))
    }

    /// Hashes a new password off the async workers.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, ApiError> {
        let _permit = self.hashing.acquire().await.map_err(closed)?;
        tokio::task::spawn_blocking(move || PasswordHash::of(&password))
            .await
            .map_err(|err| ApiError::Internal(format!("password hashing: {err}")))
    }

    /// Checks `candidate` against `hash` off the async workers.
    pub async fn verify(&self, hash: PasswordHash, candidate: String) -> Result<bool, ApiError> {
        let _permit = self.hashing.acquire().await.map_err(closed)?;
        tokio::task::spawn_blocking(move || hash.verify(&candidate))
            .await
            .map_err(|err| ApiError::Internal(format!("password check: {err}")))
    }
}

fn closed(_: tokio::sync::AcquireError) -> ApiError {
    ApiError::Internal("password hashing is shut down".to_string())
}

/// What a role may do, in API-key terms.
pub fn scope_of(role: UserRole) -> ApiKeyScope {
    match role {
        UserRole::Admin => ApiKeyScope::Admin,
        UserRole::Customer => ApiKeyScope::Tenant,
    }
}

pub(crate) fn token_error(refused: TokenRefused) -> ApiError {
    match refused {
        TokenRefused::Expired => ApiError::Unauthorized("Token expired".to_string()),
        TokenRefused::Invalid => ApiError::Unauthorized("Invalid token".to_string()),
    }
}

/// The caller behind a bearer credential, when it is an access token;
/// `None` when it is not a JWT at all, so it is looked up as an API key.
/// The user is read on every request: a disabled or deleted user, or a
/// changed role or tenant, counts at once, not when the token expires.
pub(crate) async fn bearer_caller(
    state: &AppState,
    credential: &str,
) -> Result<Option<Caller>, ApiError> {
    if !tokens::looks_like_jwt(credential) {
        return Ok(None);
    }
    let now = chrono::Utc::now().timestamp();
    let claims = state
        .accounts
        .tokens
        .verify(credential, TokenKind::Access, now)
        .map_err(token_error)?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| token_error(TokenRefused::Invalid))?;
    let user = state
        .store
        .user(user_id)
        .await?
        .filter(|user| !user.is_disabled())
        .ok_or_else(|| {
            ApiError::Unauthorized("Invalid token: its user is disabled or deleted".to_string())
        })?;
    Ok(Some(Caller {
        credential: Credential::User(user.id),
        scope: scope_of(user.role),
        tenant: user.tenant,
        session: None,
    }))
}
