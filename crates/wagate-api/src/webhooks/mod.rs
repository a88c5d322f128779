//! Webhook endpoints: where a tenant's events are POSTed, their delivery
//! log, and sending events to them again.
//!
//! Endpoints belong to a tenant; one may be narrowed to a session. A
//! session key sees and manages only its own session's endpoints. Another
//! tenant's endpoint, like another tenant's session, is "not found".

pub mod endpoints;
mod fields;
pub mod log;
pub mod view;

pub use endpoints::{
    CreateEndpointRequest, EndpointList, UpdateEndpointRequest, create_endpoint,
    create_session_endpoint, delete_endpoint, get_endpoint, list_endpoints, update_endpoint,
};
pub use log::{AttemptPage, DeliveryPage, list_attempts, list_deliveries, replay, resend};
pub use view::EndpointView;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Router;
use axum::routing::{get, post};
use wagate_core::{SessionId, TenantId, WebhookShape};
use wagate_store::events::{Endpoint, NewEndpoint};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/webhooks",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(get_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .route("/api/v1/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/api/v1/webhooks/{id}/attempts", get(list_attempts))
        .route("/api/v1/webhooks/{id}/resend", post(resend))
        .route("/api/v1/webhooks/{id}/replay", post(replay))
        .route(
            "/api/v1/sessions/{id}/webhooks",
            post(create_session_endpoint),
        )
}

const ID_PREFIX: &str = "wh_";

fn new_endpoint_id() -> String {
    let bytes: [u8; 12] = rand::random();
    format!("{ID_PREFIX}{}", hex::encode(bytes))
}

/// The tenant an endpoint route acts in: the caller's own, or for an
/// admin the one named by `?tenantId=` (else the admin key's own).
fn tenant_of(caller: &Caller, asked: Option<i64>) -> Result<TenantId, ApiError> {
    Ok(caller.tenant_filter(asked)?.unwrap_or(caller.tenant))
}

fn endpoint_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Webhook endpoint '{id}' not found"))
}

/// Whether a session key may see the endpoint: only its own session's.
fn visible(caller: &Caller, endpoint: &Endpoint) -> bool {
    caller
        .session
        .as_ref()
        .is_none_or(|own| endpoint.session.as_ref() == Some(own))
}

/// The endpoint `id` of the caller's tenant, if the caller may see it.
async fn find_endpoint(
    state: &AppState,
    caller: &Caller,
    tenant_id: Option<i64>,
    id: &str,
) -> Result<Endpoint, ApiError> {
    let tenant = tenant_of(caller, tenant_id)?;
    if !id.starts_with(ID_PREFIX) || id.len() > 64 {
        return Err(endpoint_not_found(id));
    }
    state
        .events
        .endpoint(tenant, id)
        .await?
        .filter(|e| visible(caller, e))
        .ok_or_else(|| endpoint_not_found(id))
}

/// An endpoint for all of one session's events in `shape`, with a new
/// secret: what a compatibility profile sets up from the webhook URL its
/// clients give with a new session. The URL is checked exactly as for any
/// endpoint (errors name the field `url`), so it can be checked before
/// the session is created.
pub(crate) fn session_endpoint(
    state: &AppState,
    tenant: TenantId,
    session: SessionId,
    url: &str,
    shape: WebhookShape,
) -> Result<NewEndpoint, ApiError> {
    Ok(NewEndpoint {
        id: new_endpoint_id(),
        tenant,
        session: Some(session),
        url: fields::url(url, &state.webhook_policy)?,
        events: fields::events(&["*".to_string()])?,
        secret: wagate_net::webhook::WebhookSecret::generate().expose(),
        headers: Vec::new(),
        shape: shape.as_str().to_string(),
    })
}
