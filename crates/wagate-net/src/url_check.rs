//! The checks a URL must pass before the gateway sends anything to it.

use std::net::IpAddr;

use reqwest::Url;

use crate::policy::{AddressPolicy, Refused};

/// Why a URL is not called. The text is meant for the tenant who gave it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRejected {
    #[error("only http and https URLs are accepted, not {0}:")]
    UnsupportedScheme(String),
    /// Credentials in a URL end up in logs and in redirect targets; a
    /// tenant who needs them can use a signed URL instead.
    #[error("URLs with a user name or password are not accepted")]
    Credentials,
    #[error("the URL has no host")]
    MissingHost,
    #[error(transparent)]
    Address(#[from] Refused),
}

/// Checks scheme, credentials and host. An IP-literal host is checked with
/// `policy` here because `reqwest` dials literals without consulting the
/// resolver; a host name passes and is checked when the guarded resolver
/// resolves it.
///
/// Numeric IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`) are
/// already normalised to dotted form by the URL parser, so they are caught
/// as the literals they are.
pub fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), UrlRejected> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlRejected::UnsupportedScheme(other.to_owned())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRejected::Credentials);
    }
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or(UrlRejected::MissingHost)?;
    // `host_str` writes IPv6 literals in brackets; a name never parses as an address.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = literal.parse::<IpAddr>() {
        policy.check_ip(address)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::Reason;

    fn check(text: &str) -> Result<(), UrlRejected> {
        check_url(&Url::parse(text).unwrap(), &AddressPolicy::default())
    }

    fn refused_reason(text: &str) -> Reason {
        match check(text) {
            Err(UrlRejected::Address(refused)) => refused.reason(),
            other => panic!("{text}: expected an address refusal, got {other:?}"),
        }
    }

    #[test]
    fn public_http_and_https_urls_pass() {
        assert_eq!(check("https://example.com/cat.jpg"), Ok(()));
        assert_eq!(check("http://93.184.215.14:8080/x"), Ok(()));
        assert_eq!(check("https://[2606:4700:4700::1111]/"), Ok(()));
    }

    #[test]
    fn other_schemes_are_rejected() {
        for (url, scheme) in [
            ("ftp://example.com/a", "ftp"),
            ("file:///etc/passwd", "file"),
            ("gopher://example.com/", "gopher"),
            ("data:text/plain,hi", "data"),
        ] {
            assert_eq!(
                check(url),
                Err(UrlRejected::UnsupportedScheme(scheme.into()))
            );
        }
        assert_eq!(
            check("ftp://example.com/a").unwrap_err().to_string(),
            "only http and https URLs are accepted, not ftp:"
        );
    }

    #[test]
    fn credentials_are_rejected() {
        assert_eq!(
            check("https://user:pw@example.com/"),
            Err(UrlRejected::Credentials)
        );
        assert_eq!(
            check("https://user@example.com/"),
            Err(UrlRejected::Credentials)
        );
        assert_eq!(
            check("https://:pw@example.com/"),
            Err(UrlRejected::Credentials)
        );
    }

    #[test]
    fn ip_literals_are_checked() {
        assert_eq!(refused_reason("http://127.0.0.1:8080/"), Reason::Loopback);
        assert_eq!(refused_reason("http://[::1]/"), Reason::Loopback);
        assert_eq!(
            refused_reason("http://[::ffff:127.0.0.1]/"),
            Reason::Loopback
        );
        assert_eq!(
            refused_reason("http://169.254.169.254/latest/meta-data/"),
            Reason::CloudMetadata
        );
        assert_eq!(
            refused_reason("http://[fd00:ec2::254]/"),
            Reason::CloudMetadata
        );
    }

    #[test]
    fn numeric_ipv4_spellings_are_the_same_address() {
        for url in [
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
        ] {
            assert_eq!(refused_reason(url), Reason::Loopback, "{url}");
        }
    }

    #[test]
    fn names_are_left_to_the_resolver() {
        assert_eq!(check("http://localhost/"), Ok(()));
        assert_eq!(check("http://metadata.google.internal/"), Ok(()));
    }
}
