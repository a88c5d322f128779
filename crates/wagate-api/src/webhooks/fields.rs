//! Checks on what a tenant sets on an endpoint, each failure naming its
//! field. Header values and secrets are never repeated in an error.

use crate::error::ApiError;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use wagate_core::{EventFilter, WebhookShape};
use wagate_net::webhook::{EndpointHeaders, WebhookSecret};
use wagate_net::{AddressPolicy, Url, UrlRejected, check_url};

const MAX_URL_LEN: usize = 2048;
const MAX_HEADERS: usize = 20;
const MAX_HEADER_VALUE_LEN: usize = 4096;

/// An http(s) URL the policy lets the gateway call. An address the
/// gateway will not call is 422: the URL is well formed, the operator's
/// policy refuses it.
pub fn url(raw: &str, policy: &AddressPolicy) -> Result<String, ApiError> {
    let raw = raw.trim();
    let invalid = |why: String| ApiError::validation("url", why);
    if raw.len() > MAX_URL_LEN {
        return Err(invalid(format!("must be at most {MAX_URL_LEN} characters")));
    }
    let parsed = Url::parse(raw).map_err(|e| invalid(format!("is not a valid URL: {e}")))?;
    let refused = |message: String| ApiError::UnprocessableField {
        field: "url".into(),
        message,
    };
    match check_url(&parsed, policy) {
        Ok(()) => {}
        Err(UrlRejected::Address(refused_ip)) => {
            return Err(refused(format!(
                "is refused: {refused_ip}; an operator can allow it with webhook_allow"
            )));
        }
        Err(other) => return Err(invalid(other.to_string())),
    }
    // Names that mean loopback by definition (RFC 6761) need no lookup to
    // be refused now rather than on every delivery.
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") {
        policy
            .check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .map_err(|r| refused(format!("is refused: {host} is {r}")))?;
    }
    Ok(parsed.to_string())
}

/// Event names as stored: `["*"]` or known kinds, deduplicated.
pub fn events(names: &[String]) -> Result<Vec<String>, ApiError> {
    Ok(EventFilter::parse(names)?.names())
}

pub fn shape(name: &str) -> Result<String, ApiError> {
    WebhookShape::parse(name)
        .map(|s| s.as_str().to_string())
        .ok_or_else(|| {
            let known = WebhookShape::ALL.map(WebhookShape::as_str).join(", ");
            ApiError::validation("shape", format!("must be one of {known}"))
        })
}

/// The secret in its normal `whsec_` spelling.
pub fn secret(raw: &str) -> Result<String, ApiError> {
    WebhookSecret::parse(raw)
        .map(|s| s.expose())
        .map_err(|e| ApiError::validation("secret", e.to_string()))
}

pub fn headers(map: BTreeMap<String, String>) -> Result<Vec<(String, String)>, ApiError> {
    if map.len() > MAX_HEADERS {
        return Err(ApiError::validation(
            "headers",
            format!("may hold at most {MAX_HEADERS} headers"),
        ));
    }
    if let Some(name) = map
        .iter()
        .find_map(|(n, v)| (v.len() > MAX_HEADER_VALUE_LEN).then_some(n))
    {
        return Err(ApiError::validation(
            format!("headers.{name}"),
            format!("must be at most {MAX_HEADER_VALUE_LEN} bytes"),
        ));
    }
    let checked =
        EndpointHeaders::new(&map).map_err(|e| ApiError::validation("headers", e.to_string()))?;
    Ok(checked
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default().to_string();
            (name.as_str().to_string(), value)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: ApiError) -> (u16, String) {
        match err {
            ApiError::Validation { field, .. } => (400, field),
            ApiError::UnprocessableField { field, .. } => (422, field),
            other => panic!("no field named: {other:?}"),
        }
    }

    #[test]
    fn urls_are_checked_against_the_policy() {
        let open = AddressPolicy::default();
        assert_eq!(
            url(" https://example.com/hook ", &open).unwrap(),
            "https://example.com/hook"
        );
        for private in [
            "http://127.0.0.1/x",
            "http://10.1.2.3/x",
            "http://169.254.169.254/latest",
            "http://[::1]/x",
            "http://localhost:8080/x",
        ] {
            assert_eq!(
                field_of(url(private, &open).unwrap_err()),
                (422, "url".into())
            );
        }
        for bad in [
            "ftp://example.com/",
            "not a url",
            "https://u:p@example.com/",
        ] {
            assert_eq!(field_of(url(bad, &open).unwrap_err()), (400, "url".into()));
        }
        let local = AddressPolicy::from_allow_list(["127.0.0.1"]).unwrap();
        assert!(url("http://127.0.0.1:9/x", &local).is_ok());
        assert!(url("http://localhost:9/x", &local).is_ok());
    }

    #[test]
    fn headers_keep_values_out_of_errors() {
        let map = BTreeMap::from([("X-Token".to_string(), "a\nsecret".to_string())]);
        let err = headers(map).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        let map = BTreeMap::from([("Webhook-Id".to_string(), "x".to_string())]);
        assert_eq!(field_of(headers(map).unwrap_err()), (400, "headers".into()));
        let map = BTreeMap::from([("Authorization".to_string(), "Bearer t".to_string())]);
        assert_eq!(
            headers(map).unwrap(),
            [("authorization".to_string(), "Bearer t".to_string())]
        );
    }
}
