//! wagate's HTTP API: the native `/api/v1` routes, health and metrics
//! endpoints, and the OpenAPI document generated from the handlers.

pub mod accounts;
pub mod auth;
pub mod error;
pub mod health;
pub mod history;
pub mod json;
pub mod keys;
pub mod limits;
pub mod linking;
pub mod media;
pub mod messages;
pub mod metrics;
pub mod moves;
pub mod nodes;
pub mod openapi;
pub mod profiles;
pub mod sessions;
pub mod stream;
pub mod tenants;
pub mod views;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tower_http::trace::TraceLayer;
use wagate_core::{Metrics, SessionControl};
use wagate_net::AddressPolicy;
use wagate_store::{Events, Store};

pub use error::ApiError;
pub use metrics::HttpMetrics;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Commands to the session engine.
    pub control: Arc<dyn SessionControl>,
    /// Counters shared with the engine.
    pub metrics: Arc<Metrics>,
    /// Request latencies, recorded by the API itself.
    pub http: Arc<HttpMetrics>,
    /// The outbound queue and what feeds it.
    pub outgoing: Arc<messages::Outgoing>,
    /// The event outbox: webhook endpoints, their deliveries and attempts.
    pub events: Events,
    /// What webhook endpoint URLs are checked against when they are set.
    pub webhook_policy: AddressPolicy,
    /// Ends the live event streams when the server stops.
    pub shutdown: stream::Shutdown,
    pub started_at: DateTime<Utc>,
    /// Checks signed public media links; `None`: they are off.
    pub media_links: Option<wagate_store::blobs::MediaLinks>,
    /// Which compatibility profiles are served.
    pub profiles: profiles::Profiles,
    /// User logins: token keys and password hashing.
    pub accounts: accounts::Accounts,
    /// Tier limits: each tenant's tier and its hourly counts.
    pub limits: Arc<limits::Limits>,
}

impl AppState {
    pub fn new(
        store: Store,
        control: Arc<dyn SessionControl>,
        metrics: Arc<Metrics>,
        outgoing: messages::Outgoing,
        events: Events,
        webhook_policy: AddressPolicy,
    ) -> Self {
        AppState {
            control,
            metrics,
            outgoing: Arc::new(outgoing),
            events,
            webhook_policy,
            shutdown: stream::Shutdown::default(),
            http: Arc::new(HttpMetrics::default()),
            started_at: Utc::now(),
            media_links: None,
            profiles: profiles::Profiles::default(),
            accounts: accounts::Accounts::ephemeral(),
            limits: Arc::new(limits::Limits::new(
                store.clone(),
                wagate_core::TierName::parse("basic").expect("a valid tier name"),
            )),
            store,
        }
    }

    /// Serves signed public links to received media.
    pub fn with_media_links(mut self, links: Option<wagate_store::blobs::MediaLinks>) -> Self {
        self.media_links = links;
        self
    }

    /// Applies tier limits with `limits` (counts rebuilt, the configured
    /// default tier).
    pub fn with_limits(mut self, limits: Arc<limits::Limits>) -> Self {
        self.limits = limits;
        self
    }

    /// Signs user tokens with `accounts`' keys (derived from the master
    /// key, so they outlive a restart).
    pub fn with_accounts(mut self, accounts: accounts::Accounts) -> Self {
        self.accounts = accounts;
        self
    }

    /// Serves only the compatibility profiles that are on.
    pub fn with_profiles(mut self, profiles: profiles::Profiles) -> Self {
        self.profiles = profiles;
        self
    }
}

/// What a node without the `api` role serves: health, readiness and
/// metrics, for whatever watches it; every other path is a 404.
pub fn probes_router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .fallback(error::no_route)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The whole HTTP surface. Unknown paths and methods, oversized bodies and
/// malformed JSON all answer in the API's error shape.
pub fn router(state: AppState) -> Router {
    let limits = state.outgoing.media.limits;
    Router::new()
        .merge(sessions::router())
        .merge(linking::router())
        .merge(messages::router(&limits))
        .merge(history::router())
        .merge(keys::router())
        .merge(tenants::router())
        .merge(accounts::router())
        .merge(limits::routes::router())
        .merge(nodes::router())
        .merge(moves::router())
        .merge(webhooks::router())
        .merge(media::router())
        .merge(stream::router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .merge(profiles::router(state.profiles))
        .method_not_allowed_fallback(error::wrong_method)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record_latency,
        ))
        .fallback(error::no_route)
        .layer(DefaultBodyLimit::max(json::JSON_BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
