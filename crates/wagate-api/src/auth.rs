//! Who is calling: the API key from `Authorization: Bearer <key>` or
//! `X-Api-Key: <key>`, resolved to its scope, tenant and session; or a
//! user's access token in `Authorization: Bearer <jwt>`, which acts as the
//! key its role stands for (see `crate::accounts`).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use wagate_core::{ApiKeyScope, KeyDigest, SessionId, SessionKey, TenantId};
use wagate_store::domain::SessionRecord;

/// What a request was authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API key, by id.
    ApiKey(i64),
    /// A user's access token, by user id.
    User(i64),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key or the user behind the request, for logs and audits.
    pub credential: Credential,
    pub scope: ApiKeyScope,
    pub tenant: TenantId,
    /// The one session a session-scoped key may touch.
    pub session: Option<SessionId>,
}

const MISSING: &str = "Missing API key: send 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = presented_key(parts)?;
        // Tokens come as `Authorization: Bearer` only; `X-Api-Key` is for keys.
        let user = if parts.headers.contains_key(AUTHORIZATION) {
            crate::accounts::bearer_caller(state, secret).await?
        } else {
            None
        };
        let caller = match user {
            Some(caller) => caller,
            None => key_caller(state, secret).await?,
        };
        crate::limits::count_call(state, &caller).await?;
        Ok(caller)
    }
}

/// The caller an API key's secret stands for.
async fn key_caller(state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let key = state
        .store
        .find_api_key(&KeyDigest::of(secret))
        .await?
        .filter(|key| !key.is_revoked())
        .ok_or_else(|| ApiError::Forbidden("Invalid API key".to_string()))?;
    Ok(Caller {
        credential: Credential::ApiKey(key.id),
        scope: key.scope,
        tenant: key.tenant,
        session: key.session,
    })
}

/// The key (or token) as sent, before any lookup.
fn presented_key(parts: &Parts) -> Result<&str, ApiError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized(MISSING.to_string()))?;
        let (scheme, key) = value.trim().split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
            return Err(ApiError::Unauthorized(
                "Authorization header must be 'Bearer <key>'".to_string(),
            ));
        }
        return Ok(key.trim());
    }
    match parts.headers.get("x-api-key").map(|v| v.to_str()) {
        Some(Ok(key)) if !key.trim().is_empty() => Ok(key.trim()),
        _ => Err(ApiError::Unauthorized(MISSING.to_string())),
    }
}

impl Caller {
    /// The API key used, when the caller sent one.
    pub fn key_id(&self) -> Option<i64> {
        match self.credential {
            Credential::ApiKey(id) => Some(id),
            Credential::User(_) => None,
        }
    }

    /// The logged-in user, when the caller sent an access token.
    pub fn user_id(&self) -> Option<i64> {
        match self.credential {
            Credential::User(id) => Some(id),
            Credential::ApiKey(_) => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.scope == ApiKeyScope::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "This action needs an admin key or an admin user".to_string(),
            ))
        }
    }

    /// Session keys act on their session only; everything account-wide
    /// (creating sessions, managing keys) needs a tenant or admin key.
    pub fn require_tenant_or_admin(&self) -> Result<(), ApiError> {
        if self.scope == ApiKeyScope::Session {
            Err(ApiError::Forbidden(
                "This action needs a tenant or admin key".to_string(),
            ))
        } else {
            Ok(())
        }
    }

    /// The tenant an account-wide action runs in: the caller's own, or for
    /// an admin the one asked for (`None`: every tenant). A tenant key
    /// naming another tenant is told it does not exist.
    pub fn tenant_filter(&self, asked: Option<i64>) -> Result<Option<TenantId>, ApiError> {
        match (self.scope, asked) {
            (ApiKeyScope::Admin, asked) => Ok(asked.map(TenantId)),
            (_, Some(asked)) if asked != self.tenant.0 => Err(tenant_not_found(asked)),
            _ => Ok(Some(self.tenant)),
        }
    }

    /// The session `raw_id` names, if this caller may see it. Every
    /// session the caller may not see is "not found", never "forbidden", so
    /// keys cannot probe other tenants. Admins address a session by id
    /// alone while it is unique, else with `tenantId`.
    pub async fn session(
        &self,
        state: &AppState,
        raw_id: &str,
        tenant_id: Option<i64>,
    ) -> Result<SessionRecord, ApiError> {
        let id = SessionId::parse(raw_id)?;
        if self.session.as_ref().is_some_and(|own| *own != id) {
            return Err(ApiError::session_not_found(&id));
        }
        let tenant = match self.tenant_filter(tenant_id)? {
            Some(tenant) => tenant,
            None => {
                let mut found = state.store.sessions_with_id(&id).await?;
                return match found.len() {
                    0 => Err(ApiError::session_not_found(&id)),
                    1 => Ok(found.remove(0)),
                    _ => Err(ApiError::validation(
                        "tenantId",
                        format!("is required: several tenants have a session '{id}'"),
                    )),
                };
            }
        };
        let key = SessionKey {
            tenant,
            session: id,
        };
        state
            .store
            .session(&key)
            .await?
            .ok_or_else(|| ApiError::session_not_found(&key.session))
    }
}

pub fn tenant_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Tenant '{id}' not found"))
}

/// The `?tenantId=` an admin may add to address one tenant.
#[derive(Debug, Default, Clone, Copy, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Admin keys only: the tenant to act in (default: every tenant for
    /// listings, the only match for a session id).
    #[param(rename = "tenantId")]
    pub tenant_id: Option<i64>,
}

impl<S: Send + Sync> FromRequestParts<S> for TenantQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let raw = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| *name == "tenantId")
            .map(|(_, value)| value);
        let tenant_id = raw
            .map(|v| v.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::validation("tenantId", "must be an integer"))?;
        Ok(TenantQuery { tenant_id })
    }
}
