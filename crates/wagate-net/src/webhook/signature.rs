//! Signing a delivery and checking a signature, as Standard Webhooks v1
//! defines them: HMAC-SHA256 over `{id}.{timestamp}.{body}`, sent as
//! `v1,<base64>` in `webhook-signature`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::secret::WebhookSecret;

type HmacSha256 = Hmac<Sha256>;

/// How far a receiver lets `webhook-timestamp` stray from its clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The three `webhook-*` headers of a delivery, as they were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `version,signature` entries.
    pub signature: &'a str,
}

/// Why a delivery's signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp {0:?} is not a number of seconds")]
    BadTimestamp(String),
    /// Too old: possibly a replay of a captured delivery.
    #[error("webhook-timestamp is {0:?} older than allowed")]
    TooOld(Duration),
    #[error("webhook-timestamp is {0:?} in the future, more than allowed")]
    TooNew(Duration),
    #[error("webhook-signature holds no v1 signature")]
    NoSignature,
    #[error("no signature in webhook-signature matches the message")]
    Mismatch,
}

/// The `webhook-signature` value for one attempt: `v1,<base64 HMAC>`.
///
/// The timestamp is part of what is signed, so each retry is signed anew.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mac = mac(secret, msg_id, &timestamp_secs.to_string(), body);
    format!("v1,{}", BASE64.encode(mac))
}

/// Checks a delivery the way a receiver does: the timestamp within
/// `tolerance` of `now_secs` (either side), then any `v1` entry of the
/// signature header matching, compared in constant time.
///
/// Several entries are allowed because a sender rotating its secret signs
/// with the old and the new one; entries of other versions are skipped.
pub fn verify(
    secret: &WebhookSecret,
    headers: &SignatureHeaders<'_>,
    body: &[u8],
    now_secs: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(headers.timestamp.to_owned()))?;
    let skew = Duration::from_secs(now_secs.abs_diff(timestamp));
    if skew > tolerance {
        return Err(if timestamp < now_secs {
            VerifyError::TooOld(skew)
        } else {
            VerifyError::TooNew(skew)
        });
    }

    // The timestamp is signed as the header spelled it (the sender's own text).
    let expected = mac(secret, headers.id, headers.timestamp.trim(), body);
    let mut any_v1 = false;
    let mut matched = false;
    for entry in headers.signature.split_ascii_whitespace() {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        any_v1 = true;
        // Undecodable entries are mismatches, not errors: a rotation may
        // leave junk beside a good signature. No early exit, so the time
        // taken does not say which entry matched.
        if let Ok(candidate) = BASE64.decode(encoded) {
            matched |= bool::from(candidate.ct_eq(&expected));
        }
    }
    match (any_v1, matched) {
        (_, true) => Ok(()),
        (false, false) => Err(VerifyError::NoSignature),
        (true, false) => Err(VerifyError::Mismatch),
    }
}

fn mac(secret: &WebhookSecret, msg_id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret.key()).expect("HMAC takes keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vector {
        secret: &'static str,
        id: &'static str,
        timestamp: i64,
        body: &'static str,
        signature: &'static str,
    }

    // Published with the spec and its reference libraries.
    const VECTORS: [Vector; 2] = [
        Vector {
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            timestamp: 1649367553,
            body: r#"{"email":"test@example.com","username":"test_user"}"#,
            signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        },
        Vector {
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1614265330,
            body: r#"{"test": 2432232314}"#,
            signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        },
    ];

    fn check(v: &Vector, signature: &str, now: i64) -> Result<(), VerifyError> {
        let headers = SignatureHeaders {
            id: v.id,
            timestamp: &v.timestamp.to_string(),
            signature,
        };
        let secret = WebhookSecret::parse(v.secret).unwrap();
        verify(&secret, &headers, v.body.as_bytes(), now, DEFAULT_TOLERANCE)
    }

    #[test]
    fn the_published_vectors_are_reproduced() {
        for v in &VECTORS {
            let secret = WebhookSecret::parse(v.secret).unwrap();
            assert_eq!(
                sign(&secret, v.id, v.timestamp, v.body.as_bytes()),
                v.signature
            );
            assert_eq!(check(v, v.signature, v.timestamp), Ok(()));
        }
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let v = &VECTORS[0];
        let other = &VECTORS[1].signature;
        let header = format!("v2,abc {other} v1,%%% {}", v.signature);
        assert_eq!(check(v, &header, v.timestamp), Ok(()));
        assert_eq!(check(v, other, v.timestamp), Err(VerifyError::Mismatch));
        assert_eq!(
            check(v, "v1a,x v2,y", v.timestamp),
            Err(VerifyError::NoSignature)
        );
        assert_eq!(check(v, "", v.timestamp), Err(VerifyError::NoSignature));
    }

    #[test]
    fn a_changed_body_or_id_does_not_verify() {
        let v = &VECTORS[0];
        let secret = WebhookSecret::parse(v.secret).unwrap();
        let ts = v.timestamp.to_string();
        let headers = SignatureHeaders {
            id: v.id,
            timestamp: &ts,
            signature: v.signature,
        };
        let tampered = v.body.replace("test_user", "admin");
        assert_eq!(
            verify(
                &secret,
                &headers,
                tampered.as_bytes(),
                v.timestamp,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::Mismatch)
        );
        let other_id = SignatureHeaders {
            id: "msg_other",
            ..headers
        };
        assert_eq!(
            verify(
                &secret,
                &other_id,
                v.body.as_bytes(),
                v.timestamp,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        let v = &VECTORS[0];
        let edge = v.timestamp + 300;
        assert_eq!(check(v, v.signature, edge), Ok(()));
        assert_eq!(
            check(v, v.signature, edge + 1),
            Err(VerifyError::TooOld(Duration::from_secs(301)))
        );
        assert_eq!(
            check(v, v.signature, v.timestamp - 301),
            Err(VerifyError::TooNew(Duration::from_secs(301)))
        );
    }

    #[test]
    fn a_timestamp_must_be_a_number() {
        let v = &VECTORS[0];
        let secret = WebhookSecret::parse(v.secret).unwrap();
        let headers = SignatureHeaders {
            id: v.id,
            timestamp: "yesterday",
            signature: v.signature,
        };
        let err = verify(&secret, &headers, b"", 0, DEFAULT_TOLERANCE).unwrap_err();
        assert_eq!(
            err.to_string(),
            "webhook-timestamp \"yesterday\" is not a number of seconds"
        );
    }
}
