//! JSON Web Tokens for user logins: HS256 under a key derived from the
//! master key. An access token is short-lived and sent with every request;
//! a refresh token lives long, is only ever sent to `/auth/refresh` and
//! `/auth/logout`, and is also recorded (as a digest) so it can be used
//! once and revoked. The `type` claim keeps one from passing for the other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::time::Duration;
use wagate_store::domain::User;

/// What the derived key is for; another purpose gets another key.
const PURPOSE: &[u8] = b"wagate/jwt-hs256/v1";

/// The one header this gateway writes, and the only algorithm it accepts:
/// a token naming another (`none`, an RSA one) is refused outright.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// What a token says. `sub` is the user id as a string, as JWT has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: i64,
    pub role: String,
    #[serde(rename = "type")]
    pub kind: TokenKind,
    pub iat: i64,
    pub exp: i64,
    /// Refresh tokens only: makes every one distinct, even two issued in
    /// the same second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefused {
    /// Well signed, but past its `exp`.
    Expired,
    /// Malformed, signed with another key, altered, or of the wrong type.
    Invalid,
}

/// Signs and checks tokens. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenKeys {
    key: [u8; 32],
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys derived from the master key: every node of a cluster, and the
    /// same node after a restart, accepts the tokens of the others.
    pub fn new(
        master: &wagate_store::StateCipher,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        TokenKeys {
            key: master.derive_key(PURPOSE),
            access_ttl,
            refresh_ttl,
        }
    }

    /// Keys with a random secret: tokens are good for this process only.
    pub fn random(access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        TokenKeys {
            key,
            access_ttl,
            refresh_ttl,
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// `claims` signed: `header.payload.signature`, each base64url.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let signing_input = format!("{}.{}", BASE64URL.encode(HEADER), BASE64URL.encode(payload));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = BASE64URL.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// A token of `kind` for `user`, issued at `now` (unix seconds).
    pub fn issue(&self, user: &User, kind: TokenKind, now: i64) -> (String, Claims) {
        let (ttl, jti) = match kind {
            TokenKind::Access => (self.access_ttl, None),
            TokenKind::Refresh => {
                let mut id = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut id);
                (self.refresh_ttl, Some(hex::encode(id)))
            }
        };
        let claims = Claims {
            sub: user.id.to_string(),
            tenant: user.tenant.0,
            role: user.role.as_str().to_string(),
            kind,
            iat: now,
            exp: now.saturating_add(ttl.as_secs() as i64),
            jti,
        };
        (self.sign(&claims), claims)
    }

    /// The claims of `token` if it is one of ours, of `kind`, and not
    /// expired at `now`. The signature is checked (in constant time)
    /// before anything in the payload is believed.
    pub fn verify(&self, token: &str, kind: TokenKind, now: i64) -> Result<Claims, TokenRefused> {
        let claims = self.verify_signature(token, kind)?;
        if claims.exp <= now {
            return Err(TokenRefused::Expired);
        }
        Ok(claims)
    }

    /// As [`verify`](Self::verify), but an expired token passes: logging
    /// out with one is still allowed.
    pub fn verify_signature(&self, token: &str, kind: TokenKind) -> Result<Claims, TokenRefused> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRefused::Invalid);
        };
        let signature = BASE64URL
            .decode(signature)
            .map_err(|_| TokenRefused::Invalid)?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenRefused::Invalid)?;
        // Signed by us, so the header is ours; checked anyway, so a key
        // ever shared with another issuer cannot smuggle another algorithm.
        let header = BASE64URL
            .decode(header)
            .map_err(|_| TokenRefused::Invalid)?;
        let header: JoseHeader =
            serde_json::from_slice(&header).map_err(|_| TokenRefused::Invalid)?;
        if header.alg != "HS256" {
            return Err(TokenRefused::Invalid);
        }
        let payload = BASE64URL
            .decode(payload)
            .map_err(|_| TokenRefused::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenRefused::Invalid)?;
        if claims.kind != kind {
            return Err(TokenRefused::Invalid);
        }
        Ok(claims)
    }
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
}

/// Whether a bearer credential is a JWT rather than an API key: three
/// base64url parts, the first a JSON header naming an algorithm. API keys
/// (`wgk_…`, or secrets chosen by operators) that merely contain two dots
/// are still looked up as keys.
pub fn looks_like_jwt(credential: &str) -> bool {
    let parts: Vec<&str> = credential.split('.').collect();
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3 || !parts.iter().all(|p| base64url(p)) {
        return false;
    }
    BASE64URL
        .decode(parts[0])
        .ok()
        .and_then(|header| serde_json::from_slice::<JoseHeader>(&header).ok())
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_core::{Email, PasswordHash, TenantId, UserRole};

    fn user() -> User {
        User {
            id: 7,
            tenant: TenantId(3),
            email: Email::parse("ana@example.com").unwrap(),
            role: UserRole::Customer,
            // A fixed PHC string: these tests are about tokens, not hashing.
            password_hash: PasswordHash::from_phc(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo",
            )
            .expect("a well-formed PHC string"),
            created_at: chrono::Utc::now(),
            disabled_at: None,
            last_login_at: None,
        }
    }

    fn fresh_keys() -> TokenKeys {
        TokenKeys::random(Duration::from_secs(900), Duration::from_secs(86_400))
    }

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let keys = fresh_keys();
        let (token, claims) = keys.issue(&user(), TokenKind::Access, NOW);
        assert!(looks_like_jwt(&token));
        assert_eq!(claims.exp, NOW + 900);
        assert_eq!(claims.user_id(), Some(7));
        assert_eq!((claims.tenant, claims.role.as_str()), (3, "customer"));
        assert_eq!(
            keys.verify(&token, TokenKind::Access, NOW + 899),
            Ok(claims)
        );
        assert_eq!(
            keys.verify(&token, TokenKind::Access, NOW + 900),
            Err(TokenRefused::Expired)
        );
        assert!(keys.verify_signature(&token, TokenKind::Access).is_ok());
    }

    #[test]
    fn another_key_or_an_altered_token_is_invalid() {
        let keys = fresh_keys();
        let (token, _) = keys.issue(&user(), TokenKind::Access, NOW);
        assert_eq!(
            fresh_keys().verify(&token, TokenKind::Access, NOW),
            Err(TokenRefused::Invalid),
            "another gateway's key"
        );
        // The payload edited to claim the admin role, signature kept.
        let parts: Vec<&str> = token.split('.').collect();
        let payload = String::from_utf8(BASE64URL.decode(parts[1]).unwrap()).unwrap();
        let forged = BASE64URL.encode(payload.replace("customer", "admin"));
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            keys.verify(&tampered, TokenKind::Access, NOW),
            Err(TokenRefused::Invalid)
        );
        // Expired and altered: the alteration is what is reported.
        assert_eq!(
            keys.verify(&tampered, TokenKind::Access, NOW + 10_000),
            Err(TokenRefused::Invalid)
        );
        let mut cut = token.clone();
        cut.pop();
        assert_eq!(
            keys.verify(&cut, TokenKind::Access, NOW),
            Err(TokenRefused::Invalid)
        );
    }

    #[test]
    fn unsigned_tokens_and_other_algorithms_are_refused() {
        let keys = fresh_keys();
        let (token, _) = keys.issue(&user(), TokenKind::Access, NOW);
        let payload = token.split('.').nth(1).unwrap();
        let none = format!("{}.{payload}.", BASE64URL.encode(r#"{"alg":"none"}"#));
        assert_eq!(
            keys.verify(&none, TokenKind::Access, NOW),
            Err(TokenRefused::Invalid)
        );
    }

    #[test]
    fn a_refresh_token_is_no_access_token() {
        let keys = fresh_keys();
        let (refresh, claims) = keys.issue(&user(), TokenKind::Refresh, NOW);
        assert_eq!(claims.exp, NOW + 86_400);
        assert!(claims.jti.is_some());
        let (again, _) = keys.issue(&user(), TokenKind::Refresh, NOW);
        assert_ne!(refresh, again, "two refresh tokens of one second differ");
        assert_eq!(
            keys.verify(&refresh, TokenKind::Access, NOW),
            Err(TokenRefused::Invalid)
        );
        assert!(keys.verify(&refresh, TokenKind::Refresh, NOW).is_ok());
    }

    #[test]
    fn api_keys_are_not_taken_for_tokens() {
        assert!(!looks_like_jwt(
            "wgk_3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"
        ));
        assert!(!looks_like_jwt("test-admin-wgk_0123456789"));
        assert!(
            !looks_like_jwt("my.secret.key"),
            "dots alone do not make a JWT"
        );
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt(""));
    }
}
