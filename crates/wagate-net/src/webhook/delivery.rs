//! One delivery attempt: sign, check the address, POST, and record what
//! the receiver answered in a form fit for storing and for scheduling.

use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use reqwest::{Client, Response, StatusCode, Url};

use super::headers::EndpointHeaders;
use super::retry::{BACK_OFF_MIN, parse_retry_after};
use super::secret::WebhookSecret;
use super::signature::sign;
use crate::client::RedirectRefused;
use crate::policy::AddressPolicy;
use crate::resolver::HostRefused;
use crate::url_check::check_url;

/// What deliveries identify themselves as.
pub const WEBHOOK_USER_AGENT: &str = concat!("wagate/", env!("CARGO_PKG_VERSION"));

/// The most of a receiver's answer that is kept: enough to show the
/// tenant an error page's gist, too little for a receiver to fill storage.
pub const RESPONSE_BODY_CAP: usize = 20 * 1024;

const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// One attempt to deliver one message to one endpoint.
#[derive(Debug, Clone)]
pub struct DeliveryRequest {
    pub url: Url,
    /// `webhook-id`: the same on every attempt, so receivers can drop repeats.
    pub msg_id: String,
    /// `webhook-timestamp`, Unix seconds: the time of this attempt.
    pub timestamp: i64,
    /// The JSON payload, sent and signed byte for byte.
    pub body: Vec<u8>,
    pub secret: WebhookSecret,
    pub headers: EndpointHeaders,
}

/// What the attempt means for the message and its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx answer; nothing else counts as delivered.
    Delivered,
    /// Any other answer (3xx included: redirects are not followed), a
    /// timeout, a connection failure, or (never for ids the gateway makes)
    /// a message id that cannot be sent as a header.
    Retry,
    /// 410 Gone: the receiver says the endpoint no longer exists; it is to
    /// be disabled rather than retried.
    Gone,
    /// The URL or every address of its host is refused by the address
    /// policy; nothing was sent.
    ///
    /// Retried like [`Retry`](Verdict::Retry): a host name that resolves to
    /// a private address now may be fixed by its owner later. It is kept
    /// apart so the tenant is told the gateway refused the address, not
    /// that the receiver failed.
    Refused,
}

impl Verdict {
    /// Whether the message goes back on the retry schedule.
    pub fn is_retried(self) -> bool {
        matches!(self, Verdict::Retry | Verdict::Refused)
    }
}

/// The record of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub verdict: Verdict,
    /// `None` when no answer came (refused, unreachable, timed out).
    pub status: Option<StatusCode>,
    /// From sending until the response head arrived, or until failure.
    pub latency: Duration,
    /// At most [`RESPONSE_BODY_CAP`] bytes of the answer, cut at a
    /// character boundary; bytes that are not UTF-8 become U+FFFD.
    pub response_body: String,
    /// The receiver sent more than `response_body` holds.
    pub body_truncated: bool,
    /// The receiver's `Retry-After`, as a wait from when it answered.
    pub retry_after: Option<Duration>,
    /// The deadline passed, before the answer or while reading its body.
    pub timed_out: bool,
    /// Why no (complete) answer was had, in words for the tenant.
    pub error: Option<String>,
}

impl DeliveryOutcome {
    /// The wait to pass to
    /// [`WebhookRetry::next_delay`](super::WebhookRetry::next_delay).
    ///
    /// The receiver's `Retry-After` if it sent one; and when it signalled
    /// overload (429, 502, 503, 504, or took too long), at least
    /// [`BACK_OFF_MIN`], with or without a `Retry-After`.
    pub fn requested_wait(&self) -> Option<Duration> {
        if !self.verdict.is_retried() {
            return None;
        }
        let overloaded = self.timed_out
            || self
                .status
                .is_some_and(|status| matches!(status.as_u16(), 429 | 502 | 503 | 504));
        if overloaded {
            Some(self.retry_after.unwrap_or_default().max(BACK_OFF_MIN))
        } else {
            self.retry_after
        }
    }

    fn without_answer(verdict: Verdict, latency: Duration, error: String) -> Self {
        DeliveryOutcome {
            verdict,
            status: None,
            latency,
            response_body: String::new(),
            body_truncated: false,
            retry_after: None,
            timed_out: false,
            error: Some(error),
        }
    }
}

/// Makes one attempt with a client from
/// [`guarded_client`](crate::guarded_client) (built with `policy` and
/// [`ClientOptions::webhook`](crate::ClientOptions::webhook)).
///
/// The URL is checked against `policy` before anything is sent. The
/// answer's body is read up to [`RESPONSE_BODY_CAP`] and the connection is
/// dropped there; the client's timeout bounds the whole exchange. Never
/// fails: every failure is an outcome to record.
#[tracing::instrument(skip_all, fields(msg_id = %req.msg_id, host = req.url.host_str()))]
pub async fn deliver(
    client: &Client,
    policy: &AddressPolicy,
    req: DeliveryRequest,
) -> DeliveryOutcome {
    let started = Instant::now();
    if let Err(rejected) = check_url(&req.url, policy) {
        tracing::info!(%rejected, "webhook URL refused");
        return DeliveryOutcome::without_answer(
            Verdict::Refused,
            started.elapsed(),
            rejected.to_string(),
        );
    }
    let headers = match signed_headers(&req) {
        Ok(headers) => headers,
        Err(error) => {
            return DeliveryOutcome::without_answer(Verdict::Retry, started.elapsed(), error);
        }
    };
    let sent = client
        .post(req.url)
        .headers(headers)
        .body(req.body)
        .send()
        .await;
    let latency = started.elapsed();
    let outcome = match sent {
        Ok(response) => answered(response, latency).await,
        Err(err) => not_answered(&err, latency),
    };
    tracing::debug!(verdict = ?outcome.verdict, status = ?outcome.status, ?latency, "webhook attempt");
    outcome
}

fn signed_headers(req: &DeliveryRequest) -> Result<HeaderMap, String> {
    let msg_id = HeaderValue::from_str(&req.msg_id)
        .map_err(|_| format!("message id {:?} cannot be sent as a header", req.msg_id))?;
    let signature = sign(&req.secret, &req.msg_id, req.timestamp, &req.body);
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers.iter() {
        headers.append(name, value.clone());
    }
    // Inserted after the tenant's so that, were a reserved name ever let
    // through, the gateway's value would still win.
    let fixed = [
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (USER_AGENT, HeaderValue::from_static(WEBHOOK_USER_AGENT)),
        (WEBHOOK_ID, msg_id),
        (WEBHOOK_TIMESTAMP, HeaderValue::from(req.timestamp)),
        (
            WEBHOOK_SIGNATURE,
            HeaderValue::try_from(signature).expect("base64 is a valid header value"),
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, value);
    }
    Ok(headers)
}

async fn answered(mut response: Response, latency: Duration) -> DeliveryOutcome {
    let status = response.status();
    let verdict = match status {
        status if status.is_success() => Verdict::Delivered,
        StatusCode::GONE => Verdict::Gone,
        _ => Verdict::Retry,
    };
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, SystemTime::now()));

    let mut bytes = Vec::new();
    let mut body_truncated = false;
    let mut timed_out = false;
    let mut error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = RESPONSE_BODY_CAP - bytes.len();
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    body_truncated = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            // The status stands; a body cut short is only noted.
            Err(err) => {
                timed_out = err.is_timeout();
                error = Some(format!(
                    "reading the answer failed: {}",
                    innermost_cause(&err)
                ));
                break;
            }
        }
    }
    DeliveryOutcome {
        verdict,
        status: Some(status),
        latency,
        response_body: capped_text(&bytes, body_truncated),
        body_truncated,
        retry_after,
        timed_out,
        error,
    }
}

fn not_answered(err: &reqwest::Error, latency: Duration) -> DeliveryOutcome {
    // The resolver and the redirect policy hand their refusals over boxed
    // inside `reqwest`'s error.
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.is::<HostRefused>() || cause.is::<RedirectRefused>() {
            tracing::info!(refused = %cause, "webhook address refused");
            return DeliveryOutcome::without_answer(Verdict::Refused, latency, cause.to_string());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        return DeliveryOutcome {
            timed_out: true,
            ..DeliveryOutcome::without_answer(
                Verdict::Retry,
                latency,
                "the endpoint did not answer in time".to_owned(),
            )
        };
    }
    let error = format!("could not reach the endpoint: {}", innermost_cause(err));
    DeliveryOutcome::without_answer(Verdict::Retry, latency, error)
}

/// `reqwest`'s own text repeats the URL (which may hold a token); the
/// innermost cause says what broke.
fn innermost_cause(err: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    innermost.to_string()
}

/// The body as text of at most [`RESPONSE_BODY_CAP`] bytes. A character
/// the cap cut in two is dropped rather than shown as U+FFFD.
fn capped_text(bytes: &[u8], truncated: bool) -> String {
    let whole = if truncated {
        &bytes[..bytes.len() - cut_sequence_len(bytes)]
    } else {
        bytes
    };
    let mut text = String::from_utf8_lossy(whole).into_owned();
    // Each replacement character is three bytes and may stand for one.
    text.truncate(text.floor_char_boundary(RESPONSE_BODY_CAP));
    text
}

/// How many bytes at the end start a UTF-8 sequence that is missing its end.
fn cut_sequence_len(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue;
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return 0,
        };
        return if needed > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_by_the_cap_is_dropped() {
        let euro = "€".as_bytes(); // three bytes
        for cut in 1..3 {
            let mut bytes = b"price: 5".to_vec();
            bytes.extend_from_slice(&euro[..cut]);
            assert_eq!(capped_text(&bytes, true), "price: 5");
        }
        let whole = [b"5".as_slice(), euro].concat();
        assert_eq!(capped_text(&whole, true), "5€");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_within_the_cap() {
        assert_eq!(capped_text(b"ok\xff!", false), "ok\u{fffd}!");
        let garbage = vec![0xffu8; RESPONSE_BODY_CAP];
        let text = capped_text(&garbage, true);
        assert!(text.len() <= RESPONSE_BODY_CAP);
        assert!(text.chars().all(|c| c == '\u{fffd}'));
    }

    #[test]
    fn overload_asks_for_at_least_a_minute() {
        let outcome = |status: u16, retry_after: Option<u64>| DeliveryOutcome {
            verdict: Verdict::Retry,
            status: Some(StatusCode::from_u16(status).unwrap()),
            latency: Duration::ZERO,
            response_body: String::new(),
            body_truncated: false,
            retry_after: retry_after.map(Duration::from_secs),
            timed_out: false,
            error: None,
        };
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(outcome(500, None).requested_wait(), None);
        assert_eq!(outcome(500, Some(7)).requested_wait(), secs(7));
        assert_eq!(outcome(429, None).requested_wait(), secs(60));
        assert_eq!(outcome(503, Some(5)).requested_wait(), secs(60));
        assert_eq!(outcome(429, Some(600)).requested_wait(), secs(600));
        let delivered = DeliveryOutcome {
            verdict: Verdict::Delivered,
            ..outcome(200, Some(600))
        };
        assert_eq!(delivered.requested_wait(), None);
    }
}
