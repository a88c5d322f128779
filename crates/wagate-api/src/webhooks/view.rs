//! An endpoint as clients see it: the secret and header values masked,
//! except the secret in the answer that creates it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use wagate_core::keys::tail;
use wagate_store::events::Endpoint;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    #[schema(example = "wh_5f1c0a9e2b7d4c3a8e6f0b1d")]
    pub id: String,
    #[schema(example = "https://client.example/whatsapp-events")]
    pub url: String,
    /// `["*"]` or the event types sent.
    #[schema(example = json!(["message.received", "message.status"]))]
    pub events: Vec<String>,
    /// The one session whose events are sent; null for every session.
    pub session_id: Option<String>,
    /// The body format: `native`, `seed000` or `seed003`.
    #[schema(example = "native")]
    pub shape: String,
    /// Extra headers sent with each delivery; values masked.
    #[schema(example = json!({"authorization": "***ab12"}))]
    pub headers: BTreeMap<String, String>,
    /// The signing secret: in full when the endpoint is created, masked
    /// (`whsec_***` and the last four characters) afterwards.
    #[schema(example = "whsec_***x4Qk")]
    pub secret: String,
    pub enabled: bool,
    /// Why the gateway disabled the endpoint.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; null after a success.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A value's last four characters, when that leaves enough hidden to be
/// worth showing; short values (`Bearer x`) are masked whole.
fn masked(value: &str) -> String {
    if value.chars().count() >= 16 {
        format!("***{}", tail(value))
    } else {
        "***".to_string()
    }
}

impl EndpointView {
    /// The view everywhere but in the answer to a create.
    pub fn masked(e: Endpoint) -> Self {
        let secret = format!("whsec_***{}", tail(&e.secret));
        EndpointView::new(e, secret)
    }

    /// The one time the secret is shown whole.
    pub fn with_secret(e: Endpoint) -> Self {
        let secret = e.secret.clone();
        EndpointView::new(e, secret)
    }

    fn new(e: Endpoint, secret: String) -> Self {
        EndpointView {
            headers: e
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), masked(v)))
                .collect(),
            id: e.id,
            url: e.url,
            events: e.events,
            session_id: e.session.map(|s| s.to_string()),
            shape: e.shape,
            secret,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn short_values_are_masked_whole() {
        assert_eq!(masked("Bearer abc"), "***");
        assert_eq!(masked("Bearer 0123456789abcdef"), "***cdef");
    }
}
