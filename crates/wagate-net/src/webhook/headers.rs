//! Extra headers a tenant configures on a webhook endpoint (an
//! `Authorization` token, a routing key), checked when they are set.

use reqwest::header::{HeaderName, HeaderValue};

/// Headers the gateway writes itself. Signature and content headers are
/// what the receiver verifies; the rest frame the request or identify the
/// sender, and a tenant's value would break or disguise the request.
const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "user-agent",
];

/// Every `webhook-*` name is kept for Standard Webhooks, including ones
/// later versions of the spec may add.
const RESERVED_PREFIX: &str = "webhook-";

/// An endpoint's extra headers, sent with every delivery to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHeaders(Vec<(HeaderName, HeaderValue)>);

/// Why an extra header is refused. Values are never repeated: they are
/// often credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRefused {
    #[error("the {0} header is set by the gateway and cannot be overridden")]
    Reserved(String),
    #[error("{0:?} is not a valid header name")]
    BadName(String),
    #[error("the value of the {0} header is not a valid header value")]
    BadValue(String),
}

impl EndpointHeaders {
    /// Checks each pair; fails on the first refused one. Names are case
    /// insensitive (`Webhook-ID` is as reserved as `webhook-id`).
    pub fn new<I, N, V>(pairs: I) -> Result<Self, HeaderRefused>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        pairs
            .into_iter()
            .map(|(name, value)| parse_pair(name.as_ref(), value.as_ref()))
            .collect::<Result<_, _>>()
            .map(EndpointHeaders)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<(String, String)>> for EndpointHeaders {
    type Error = HeaderRefused;

    fn try_from(pairs: Vec<(String, String)>) -> Result<Self, Self::Error> {
        EndpointHeaders::new(pairs)
    }
}

fn parse_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), HeaderRefused> {
    let name: HeaderName = name
        .trim()
        .parse()
        .map_err(|_| HeaderRefused::BadName(name.to_owned()))?;
    // `HeaderName` is lower case already.
    if name.as_str().starts_with(RESERVED_PREFIX) || RESERVED.contains(&name.as_str()) {
        return Err(HeaderRefused::Reserved(name.as_str().to_owned()));
    }
    let mut value = HeaderValue::from_str(value.trim())
        .map_err(|_| HeaderRefused::BadValue(name.as_str().to_owned()))?;
    // Keeps the value out of HTTP/2 header compression tables.
    value.set_sensitive(true);
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_headers_are_kept_in_order() {
        let headers = EndpointHeaders::new([
            ("Authorization", "Bearer abc"),
            ("X-Tenant", " acme "),
            ("x-tenant", "second"),
        ])
        .unwrap();
        let pairs: Vec<_> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("authorization", "Bearer abc"),
                ("x-tenant", "acme"),
                ("x-tenant", "second")
            ]
        );
    }

    #[test]
    fn gateway_headers_cannot_be_overridden() {
        for name in [
            "webhook-id",
            "Webhook-Signature",
            "WEBHOOK-TIMESTAMP",
            "webhook-anything",
            "Content-Type",
            "content-length",
            "Host",
            "User-Agent",
        ] {
            let err = EndpointHeaders::new([(name, "x")]).unwrap_err();
            assert_eq!(err, HeaderRefused::Reserved(name.to_ascii_lowercase()));
        }
        assert_eq!(
            EndpointHeaders::new([("webhook-id", "x")])
                .unwrap_err()
                .to_string(),
            "the webhook-id header is set by the gateway and cannot be overridden"
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_echoing_values() {
        assert_eq!(
            EndpointHeaders::new([("bad name", "x")]).unwrap_err(),
            HeaderRefused::BadName("bad name".into())
        );
        let err = EndpointHeaders::new([("x-token", "line\nbreak-secret")]).unwrap_err();
        assert_eq!(err, HeaderRefused::BadValue("x-token".into()));
        assert!(!err.to_string().contains("secret"));
    }
}
