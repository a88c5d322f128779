use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What an API key may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyScope {
    /// Everything, across tenants.
    Admin,
    /// Every session of one tenant.
    Tenant,
    /// One session.
    Session,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Admin => "admin",
            ApiKeyScope::Tenant => "tenant",
            ApiKeyScope::Session => "session",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(ApiKeyScope::Admin),
            "tenant" => Some(ApiKeyScope::Tenant),
            "session" => Some(ApiKeyScope::Session),
            _ => None,
        }
    }
}

/// The SHA-256 digest of a key: all that is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    pub fn of(secret: &str) -> Self {
        KeyDigest(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_hex(hex_digest: &str) -> Option<Self> {
        let bytes = hex::decode(hex_digest).ok()?;
        Some(KeyDigest(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Constant-time comparison, so timing does not reveal a digest prefix.
    pub fn matches(&self, other: &KeyDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// A freshly generated key: the secret is shown once, then only its digest
/// and masked form remain.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub secret: String,
    pub digest: KeyDigest,
}

/// Visible prefix that marks wagate keys in logs and secret scanners.
pub const KEY_PREFIX: &str = "wgk_";

impl NewApiKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self::from_secret(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
    }

    /// Wraps a caller-chosen secret (e.g. `WAGATE_ADMIN_KEY`).
    pub fn from_secret(secret: String) -> Self {
        let digest = KeyDigest::of(&secret);
        NewApiKey { secret, digest }
    }
}

/// `***` followed by the last four characters: how keys are listed.
pub fn mask(secret_tail: &str) -> String {
    format!("***{secret_tail}")
}

/// The last four characters of a secret, kept so listings can be masked.
pub fn tail(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_and_mask() {
        let k = NewApiKey::generate();
        assert!(k.secret.starts_with(KEY_PREFIX));
        assert!(KeyDigest::of(&k.secret).matches(&k.digest));
        assert!(!KeyDigest::of("other").matches(&k.digest));
        assert_eq!(mask(&tail("abcd3123")), "***3123");
        assert_eq!(tail("ab"), "ab");
        assert_eq!(KeyDigest::from_hex(&k.digest.to_hex()), Some(k.digest));
    }
}
