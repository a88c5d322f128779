//! The OpenAPI 3 document, generated from the handlers' annotations. The
//! committed `openapi.json` at the repository root must equal
//! [`document_json`]; a test fails when they drift.

use crate::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wagate",
        description = "Self-hosted multi-tenant WhatsApp gateway: sessions, keys, messages, webhooks and live events.",
        license(name = "MIT"),
    ),
    paths(
        crate::media::media,
        crate::health::health,
        crate::health::ready,
        crate::metrics::metrics,
        crate::sessions::create_session,
        crate::sessions::list_sessions,
        crate::sessions::get_session,
        crate::sessions::delete_session,
        crate::linking::connect_session,
        crate::linking::logout_session,
        crate::linking::request_pair_code,
        crate::messages::accept::send_message,
        crate::messages::accept::send_bulk,
        crate::messages::read::list_messages,
        crate::messages::read::get_message,
        crate::messages::policy::get_policy,
        crate::messages::policy::put_policy,
        crate::history::list_chats,
        crate::history::chat_messages,
        crate::keys::create_key,
        crate::keys::list_keys,
        crate::keys::revoke_key,
        crate::tenants::create_tenant,
        crate::tenants::list_tenants,
        crate::tenants::get_tenant,
        crate::tenants::update_tenant,
        crate::accounts::login::login,
        crate::accounts::login::refresh,
        crate::accounts::login::logout,
        crate::accounts::profile::profile,
        crate::accounts::users::list_users,
        crate::accounts::users::create_user,
        crate::accounts::users::get_user,
        crate::accounts::users::update_user,
        crate::accounts::users::delete_user,
        crate::limits::routes::list_tiers,
        crate::limits::routes::update_tier,
        crate::limits::routes::tenant_usage,
        crate::nodes::list_nodes,
        crate::moves::move_session,
        crate::webhooks::endpoints::create_endpoint,
        crate::webhooks::endpoints::create_session_endpoint,
        crate::webhooks::endpoints::list_endpoints,
        crate::webhooks::endpoints::get_endpoint,
        crate::webhooks::endpoints::update_endpoint,
        crate::webhooks::endpoints::delete_endpoint,
        crate::webhooks::log::list_deliveries,
        crate::webhooks::log::list_attempts,
        crate::webhooks::log::resend,
        crate::webhooks::log::replay,
        crate::stream::sse::session_events,
        crate::stream::sse::tenant_events,
        crate::stream::ws::tenant_socket,
    ),
    modifiers(&Credentials, &TierRefusals, &ErrorDescriptions),
    tags(
        (name = "sessions", description = "WhatsApp sessions and linking them to phones"),
        (name = "messages", description = "Sending messages through the durable queue, and their status"),
        (name = "history", description = "Stored conversations: a session's chats and their messages in both directions"),
        (name = "webhooks", description = "Webhook endpoints, their delivery log, resending and replaying events"),
        (name = "events", description = "The live event stream: Server-Sent Events and WebSocket, resumable by event id"),
        (name = "keys", description = "API keys"),
        (name = "tenants", description = "Tenants and their settings"),
        (name = "auth", description = "User logins: email and password for a JWT access token and a refresh token"),
        (name = "users", description = "The logged-in user's profile, and users managed by admins"),
        (name = "tiers", description = "Service tiers: sessions, messages per hour and API calls per hour a tenant may use, and its usage"),
        (name = "nodes", description = "The gateway processes serving this database: their heartbeats and whether they still run"),
        (name = "health", description = "Liveness, readiness and metrics"),
    )
)]
struct ApiDoc;

/// The two ways to present an API key; a user's access token goes in the
/// bearer one.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wgk_... API key, or a JWT access token")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// Every request with a key counts against its tenant's API calls per
/// hour, so every route that takes a key may answer 429.
struct TierRefusals;

impl Modify for TierRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Type};
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
        let refusal = ResponseBuilder::new()
            .description(status_meaning("429"))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Object::with_type(Type::Integer))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            )
            .build();
        for operation in operations(openapi) {
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("429".to_string())
                    .or_insert_with(|| refusal.clone().into());
            }
        }
    }
}

/// Gives error responses declared without a description the meaning
/// their status has everywhere in this API.
struct ErrorDescriptions;

impl Modify for ErrorDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status_meaning(status).to_string();
                }
            }
        }
    }
}

/// Every operation of every path the API serves.
fn operations(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

fn status_meaning(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "400" => "Invalid request; `field` names the offending field",
        "401" => "No API key or token sent, or the token is expired or invalid",
        "403" => "API key invalid, revoked, or without the needed scope",
        "404" => "Not found, or not visible to this key",
        "409" => "Conflicts with an existing object",
        "413" => "Request body too large",
        "422" => "Well formed, but refused; `field` names the offending field",
        "429" => "A tier limit is reached; `limit` names it, `Retry-After` says when to retry",
        "503" => "Not available now (e.g. session not connected)",
        _ => "See the error body",
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // The crate version would make every release bump rewrite the file.
    doc.info.version = "1".to_string();
    doc
}

/// The document as committed: pretty JSON with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// This API's OpenAPI 3 document.
async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
