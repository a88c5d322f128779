//! The per-endpoint signing secret, in the `whsec_…` form Standard Webhooks
//! receivers' libraries accept as it is.

use std::fmt;

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq as _;

const PREFIX: &str = "whsec_";

/// Bytes in a secret the gateway generates.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// The spec's bounds: shorter keys are guessable, and receivers' libraries
/// are not required to take longer ones.
const MIN_BYTES: usize = 24;
const MAX_BYTES: usize = 64;

// Secrets pasted from elsewhere arrive with and without `=` padding; both
// spell the same bytes. Encoding always pads, as the spec's examples do.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key a webhook endpoint's deliveries are signed with.
///
/// `Debug` never shows the key; [`expose`](WebhookSecret::expose) is the
/// one way to get it out, for storing it and showing it to the tenant.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a text is not a webhook secret. The messages never repeat the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("the part of a webhook secret after \"whsec_\" is not valid base64")]
    NotBase64,
    #[error(
        "a webhook secret holds {MIN_BYTES} to {MAX_BYTES} bytes once decoded; this one holds {0}"
    )]
    WrongLength(usize),
}

impl WebhookSecret {
    /// A fresh random secret of [`GENERATED_SECRET_BYTES`] bytes.
    pub fn generate() -> Self {
        Self::generate_with_len(GENERATED_SECRET_BYTES)
            .expect("the default length is within the bounds")
    }

    /// A fresh random secret of `len` bytes (24 to 64).
    pub fn generate_with_len(len: usize) -> Result<Self, SecretError> {
        check_len(len)?;
        let mut key = vec![0u8; len];
        OsRng.fill_bytes(&mut key);
        Ok(WebhookSecret { key })
    }

    /// Parses `whsec_` followed by the base64 of 24 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = BASE64.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        check_len(key.len())?;
        Ok(WebhookSecret { key })
    }

    /// The `whsec_…` text, for storage and for the tenant's receiver.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", BASE64.encode(&self.key))
    }

    /// The HMAC key.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

fn check_len(len: usize) -> Result<(), SecretError> {
    if (MIN_BYTES..=MAX_BYTES).contains(&len) {
        Ok(())
    } else {
        Err(SecretError::WrongLength(len))
    }
}

// Constant-time, so comparing against a stored secret leaks nothing.
impl PartialEq for WebhookSecret {
    fn eq(&self, other: &Self) -> bool {
        self.key.ct_eq(&other.key).into()
    }
}

impl Eq for WebhookSecret {}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({} bytes, redacted)", self.key.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_32_random_bytes_and_parse_back() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"), "{text}");
        assert_eq!(secret.key().len(), 32);
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_ne!(WebhookSecret::generate(), secret);
    }

    #[test]
    fn generated_lengths_are_bounded() {
        assert_eq!(
            WebhookSecret::generate_with_len(64).unwrap().key().len(),
            64
        );
        assert_eq!(
            WebhookSecret::generate_with_len(16).unwrap_err(),
            SecretError::WrongLength(16)
        );
    }

    #[test]
    fn the_spec_example_parses() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(secret.key().len(), 24);
        assert_eq!(secret.expose(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }

    #[test]
    fn padding_is_optional() {
        let padded = WebhookSecret::generate().expose();
        assert!(padded.ends_with('='), "32 bytes need padding: {padded}");
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(
            WebhookSecret::parse(unpadded).unwrap(),
            WebhookSecret::parse(&padded).unwrap()
        );
    }

    #[test]
    fn bad_secrets_say_why() {
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!").unwrap_err(),
            SecretError::NotBase64
        );
        // 16 bytes, then 65.
        assert_eq!(
            WebhookSecret::parse("whsec_AAAAAAAAAAAAAAAAAAAAAA==").unwrap_err(),
            SecretError::WrongLength(16)
        );
        let long = format!("whsec_{}", BASE64.encode([7u8; 65]));
        let err = WebhookSecret::parse(&long).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a webhook secret holds 24 to 64 bytes once decoded; this one holds 65"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "WebhookSecret(24 bytes, redacted)");
        assert!(!shown.contains("MfKQ"));
    }
}
