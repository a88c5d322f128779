//! Downloading a tenant-given URL with a size cap, for media attached to
//! outbound messages.

use std::error::Error as _;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderName};
use reqwest::{Client, Response, StatusCode, Url};

use crate::client::{RedirectRefused, TooManyRedirects};
use crate::file_name;
use crate::policy::AddressPolicy;
use crate::resolver::HostRefused;
use crate::url_check::{UrlRejected, check_url};

/// A downloaded body and what the server said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The `Content-Type` header as sent, parameters included
    /// (`audio/ogg; codecs=opus` matters to WhatsApp).
    pub content_type: Option<String>,
    /// From `Content-Disposition`, else the last segment of the URL path
    /// when it looks like a file name (`cat.jpg`, not `download`).
    pub file_name: Option<String>,
}

/// Why a fetch failed. Every message names the problem in terms of the
/// URL the tenant gave and can be returned to them as it is.
///
/// | variant | [`http_status`](FetchError::http_status) |
/// |---|---|
/// | `AddressRefused`, `BadUrl` | 422 Unprocessable Entity |
/// | `TooLarge` | 413 Payload Too Large |
/// | `TimedOut` | 504 Gateway Timeout |
/// | `UpstreamStatus`, `TooManyRedirects`, `ConnectionFailed` | 502 Bad Gateway |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL's host, every address it resolves to, or a redirect target
    /// is one the address policy refuses.
    #[error("{message}")]
    AddressRefused { message: String },
    /// Not an http(s) URL, has credentials, or has no host (or a redirect
    /// led to such a URL).
    #[error("{message}")]
    BadUrl { message: String },
    #[error("the file at the URL is larger than the limit of {max_bytes} bytes")]
    TooLarge { max_bytes: u64 },
    #[error("the server at the URL did not send the whole response in time")]
    TimedOut,
    #[error("the server at the URL answered {status}")]
    UpstreamStatus { status: StatusCode },
    #[error(transparent)]
    TooManyRedirects(TooManyRedirects),
    #[error("could not fetch the URL: {message}")]
    ConnectionFailed { message: String },
}

impl FetchError {
    /// The status the gateway should answer its own client with.
    ///
    /// A URL the gateway will not call is the request's fault but not a
    /// syntax error, hence 422 rather than 400; the server behind the URL
    /// failing is the gateway's upstream failing, hence 502 and 504 (not
    /// 408, which would blame the gateway's client for being slow).
    pub fn http_status(&self) -> StatusCode {
        match self {
            FetchError::AddressRefused { .. } | FetchError::BadUrl { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            FetchError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            FetchError::TimedOut => StatusCode::GATEWAY_TIMEOUT,
            FetchError::UpstreamStatus { .. }
            | FetchError::TooManyRedirects(_)
            | FetchError::ConnectionFailed { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    pub(crate) fn from_rejected(rejected: UrlRejected) -> Self {
        let message = rejected.to_string();
        FetchError::rejected(&rejected, message)
    }

    fn rejected(rejected: &UrlRejected, message: String) -> Self {
        match rejected {
            UrlRejected::Address(_) => FetchError::AddressRefused { message },
            _ => FetchError::BadUrl { message },
        }
    }

    /// Finds this crate's own errors inside `reqwest`'s (the resolver and
    /// the redirect policy can only hand them over boxed) before falling
    /// back to `reqwest`'s own kinds.
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let mut source = err.source();
        let mut innermost = None;
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<HostRefused>() {
                tracing::info!(host = %refused.host, refused = %refused.first, "host refused");
                return FetchError::AddressRefused {
                    message: refused.to_string(),
                };
            }
            if let Some(redirect) = cause.downcast_ref::<RedirectRefused>() {
                return FetchError::rejected(&redirect.rejected, redirect.to_string());
            }
            if let Some(too_many) = cause.downcast_ref::<TooManyRedirects>() {
                return FetchError::TooManyRedirects(too_many.clone());
            }
            innermost = Some(cause);
            source = cause.source();
        }
        if err.is_timeout() {
            return FetchError::TimedOut;
        }
        // `reqwest`'s own text repeats the URL; the innermost cause says what broke.
        let message = innermost.map_or_else(|| err.to_string(), ToString::to_string);
        FetchError::ConnectionFailed { message }
    }
}

/// GETs `url` with a client from [`guarded_client`](crate::guarded_client)
/// built with the same `policy`, and returns at most `max_bytes` of body.
///
/// The URL is checked before anything is sent. A `Content-Length` over the
/// cap is refused before the body is read; without one, bytes are counted
/// as they arrive and the download stops at the cap, so no more than the
/// cap plus one chunk is ever held. The deadline is the client's `timeout`,
/// which covers the whole body. Only 2xx is success.
pub async fn fetch_capped(
    client: &Client,
    url: &Url,
    max_bytes: u64,
    policy: &AddressPolicy,
) -> Result<Fetched, FetchError> {
    check_url(url, policy).map_err(FetchError::from_rejected)?;
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(FetchError::from_reqwest)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::UpstreamStatus { status });
    }
    let declared = response.content_length();
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(FetchError::TooLarge { max_bytes });
    }

    let content_type = header_text(&response, CONTENT_TYPE);
    let file_name = header_text(&response, CONTENT_DISPOSITION)
        .and_then(|value| file_name::from_content_disposition(&value))
        .or_else(|| file_name::from_url_path(response.url()))
        .or_else(|| file_name::from_url_path(url));

    // Bounded by the cap: the declared length was checked above.
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
        if (bytes.len() + chunk.len()) as u64 > max_bytes {
            return Err(FetchError::TooLarge { max_bytes });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        bytes,
        content_type,
        file_name,
    })
}

fn header_text(response: &Response, name: HeaderName) -> Option<String> {
    // Lossy rather than `to_str`: servers do send raw UTF-8 file names.
    let value = String::from_utf8_lossy(response.headers().get(name)?.as_bytes());
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}
