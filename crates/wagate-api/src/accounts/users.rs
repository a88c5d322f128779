//! Managing users: admins (an admin key or an admin user) list, create,
//! read, change and delete them.

use crate::AppState;
use crate::auth::{Caller, TenantQuery, tenant_not_found};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::views::rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_core::{Email, Password, TenantId, UserRole};
use wagate_store::domain::{NewUser, User, UserChanges};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(list_users).post(create_user))
        .route(
            "/api/v1/admin/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
}

/// A user as shown: never the password or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: i64,
    #[schema(example = "user@example.com")]
    pub email: String,
    /// `admin` or `customer`.
    #[schema(example = "customer")]
    pub role: &'static str,
    pub tenant_id: i64,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email.to_string(),
            role: u.role.as_str(),
            tenant_id: u.tenant.0,
            disabled: u.is_disabled(),
            created_at: rfc3339(u.created_at),
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(example = "user@example.com")]
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// `admin` or `customer`.
    #[schema(example = "customer")]
    pub role: String,
    /// The user's tenant: required for customers; admins default to the
    /// default tenant.
    pub tenant_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<String>,
    /// A new password ends the user's logins (its refresh tokens).
    pub password: Option<String>,
    /// `true` stops the user logging in and ends its logins.
    pub disabled: Option<bool>,
    pub tenant_id: Option<i64>,
}

fn parse_role(raw: &str) -> Result<UserRole, ApiError> {
    UserRole::parse(raw).ok_or_else(|| ApiError::validation("role", "must be admin or customer"))
}

/// `id` as a tenant that exists.
async fn existing_tenant(state: &AppState, id: i64) -> Result<TenantId, ApiError> {
    match state.store.tenant(TenantId(id)).await? {
        Some(tenant) => Ok(tenant.id),
        None => Err(tenant_not_found(id)),
    }
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("User '{id}' not found"))
}

async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    let user_id: i64 = id.parse().map_err(|_| user_not_found(id))?;
    state
        .store
        .user(user_id)
        .await?
        .ok_or_else(|| user_not_found(id))
}

/// List users, of every tenant or of `?tenantId=`.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "users", params(TenantQuery),
    responses((status = 200, body = UserList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    query: TenantQuery,
) -> Result<Json<UserList>, ApiError> {
    caller.require_admin()?;
    let users = state.store.users(query.tenant_id.map(TenantId)).await?;
    Ok(Json(UserList {
        users: users.into_iter().map(UserView::from).collect(),
    }))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, err)]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    caller.require_admin()?;
    let email = Email::parse(&req.email)?;
    let password = Password::new(&req.password)?;
    let role = parse_role(&req.role)?;
    let tenant = match (role, req.tenant_id) {
        (_, Some(id)) => existing_tenant(&state, id).await?,
        (UserRole::Admin, None) => state.store.default_tenant().await?.id,
        (UserRole::Customer, None) => {
            return Err(ApiError::validation(
                "tenantId",
                "is required for customer users",
            ));
        }
    };
    let password_hash = state.accounts.hash(password).await?;
    let user = state
        .store
        .create_user(&NewUser {
            tenant,
            email,
            role,
            password_hash,
        })
        .await?;
    tracing::info!(user_id = user.id, role = role.as_str(), "user created");
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(find_user(&state, &id).await?.into()))
}

/// An admin user may not lock itself out; another admin may.
fn refuse_self_lockout(caller: &Caller, user: &User, what: &str) -> Result<(), ApiError> {
    if caller.user_id() == Some(user.id) {
        return Err(ApiError::Conflict(format!(
            "You cannot {what} your own user; another admin can"
        )));
    }
    Ok(())
}

/// Change a user's role, password, tenant, or whether it is disabled.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "An admin disabling or demoting itself", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(user_id = %id), err)]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserView>, ApiError> {
    caller.require_admin()?;
    let user = find_user(&state, &id).await?;
    let role = req.role.as_deref().map(parse_role).transpose()?;
    let password = req.password.as_deref().map(Password::new).transpose()?;
    if role == Some(UserRole::Customer) {
        refuse_self_lockout(&caller, &user, "demote")?;
    }
    if req.disabled == Some(true) {
        refuse_self_lockout(&caller, &user, "disable")?;
    }
    let tenant = match req.tenant_id {
        Some(tenant) => Some(existing_tenant(&state, tenant).await?),
        None => None,
    };
    let password_hash = match password {
        Some(password) => Some(state.accounts.hash(password).await?),
        None => None,
    };
    let changes = UserChanges {
        role,
        tenant,
        password_hash,
        disabled: req.disabled,
    };
    let user = state
        .store
        .update_user(user.id, &changes)
        .await?
        .ok_or_else(|| user_not_found(&id))?;
    Ok(Json(user.into()))
}

/// Delete a user; its logins end with it.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An admin deleting itself", body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
#[tracing::instrument(skip_all, fields(user_id = %id), err)]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let user = find_user(&state, &id).await?;
    refuse_self_lockout(&caller, &user, "delete")?;
    if !state.store.delete_user(user.id).await? {
        return Err(user_not_found(&id));
    }
    tracing::info!(user_id = user.id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}
