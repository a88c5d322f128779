//! Encryption at rest for the WhatsApp auth state of every session.
//!
//! Private keys, Signal sessions and other secrets are sealed with
//! XChaCha20-Poly1305 under one master key. The associated data names the
//! tenant, the session, the kind of record and the row's key, so a sealed
//! blob only opens in the exact place it was written: copying it to another
//! session, another table or another row makes it fail authentication.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use wagate_core::{SessionId, TenantId};

/// Length of the master key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the random nonce prepended to every sealed blob.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag appended by the AEAD.
pub const TAG_LEN: usize = 16;

/// Why a key could not be loaded or a blob could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("master key is not valid base64")]
    KeyEncoding,
    #[error("master key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    /// Deliberately vague: wrong key, wrong associated data, truncation and
    /// tampering all look the same to an attacker and to us.
    #[error("sealed state failed authentication")]
    Open,
}

/// The master-key cipher that seals wa_state blobs.
///
/// Cheap to share behind an `Arc`; one instance serves every session.
#[derive(Clone)]
pub struct StateCipher {
    key: [u8; KEY_LEN],
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for StateCipher {
    // Never print the key, not even in debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateCipher(..)")
    }
}

impl StateCipher {
    /// A cipher over the given 32-byte master key.
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        let aead = XChaCha20Poly1305::new(&key.into());
        Self { key, aead }
    }

    /// A cipher over a fresh random master key, returned alongside so the
    /// caller can store it (e.g. `wagate keys generate`).
    pub fn generate() -> (Self, [u8; KEY_LEN]) {
        let key: [u8; KEY_LEN] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        (Self::new(key), key)
    }

    /// Loads the master key from its standard base64 form (as kept in config).
    pub fn from_base64(encoded: &str) -> Result<Self, CipherError> {
        let bytes = BASE64
            .decode(encoded.trim())
            .map_err(|_| CipherError::KeyEncoding)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CipherError::KeyLength(bytes.len()))?;
        Ok(Self::new(key))
    }

    /// The master key in standard base64, for writing it to config once.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.key)
    }

    /// Encrypts `plaintext` bound to `aad`; the output is
    /// `nonce (24 bytes) || ciphertext || tag (16 bytes)`.
    ///
    /// A random 192-bit nonce per call makes nonce reuse negligible without
    /// any counter state shared between processes.
    /// A key for another `purpose` (signing links, say), derived from the
    /// master key so there is still one secret to keep; it reveals nothing
    /// of the master key or of keys for other purposes.
    pub fn derive_key(&self, purpose: &[u8]) -> [u8; KEY_LEN] {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.key)
            .expect("any key length");
        mac.update(b"wagate/derive/v1/");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }

    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // The AEAD only refuses messages near 2^38 bytes; our blobs are
            // in-memory records far below that.
            .expect("XChaCha20-Poly1305 encryption of an in-memory record");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a blob made by [`seal`](Self::seal) with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CipherError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CipherError::Open)
    }

    /// Associated data binding a blob to its tenant, session, kind of record
    /// (one per table/column) and the parts of its row key.
    ///
    /// Every field is length-prefixed so no two distinct inputs encode to the
    /// same bytes (`("ab", "c")` vs `("a", "bc")`).
    pub fn aad(tenant: TenantId, session: &SessionId, kind: &str, row_key: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + session.as_str().len()
                + kind.len()
                + row_key.iter().map(|p| p.len() + 4).sum::<usize>(),
        );
        out.extend_from_slice(b"wagate/wa_state/v1");
        out.extend_from_slice(&tenant.0.to_be_bytes());
        for part in [session.as_str().as_bytes(), kind.as_bytes()]
            .into_iter()
            .chain(row_key.iter().copied())
        {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(s: &str) -> SessionId {
        SessionId::parse(s).expect("valid session id")
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (cipher, _) = StateCipher::generate();
        let aad = StateCipher::aad(TenantId(1), &session("a"), "device", &[]);
        let sealed = cipher.seal(&aad, b"noise key");
        assert_eq!(sealed.len(), NONCE_LEN + b"noise key".len() + TAG_LEN);
        assert_eq!(cipher.open(&aad, &sealed).unwrap(), b"noise key");
    }

    #[test]
    fn nonces_differ_between_seals() {
        let (cipher, _) = StateCipher::generate();
        let a = cipher.seal(b"x", b"same");
        let b = cipher.seal(b"x", b"same");
        assert_ne!(a, b);
    }

    #[test]
    fn open_fails_with_other_aad_key_or_tampering() {
        let (cipher, _) = StateCipher::generate();
        let aad = StateCipher::aad(TenantId(1), &session("a"), "session", &[b"addr"]);
        let sealed = cipher.seal(&aad, b"secret");

        for other in [
            StateCipher::aad(TenantId(2), &session("a"), "session", &[b"addr"]),
            StateCipher::aad(TenantId(1), &session("b"), "session", &[b"addr"]),
            StateCipher::aad(TenantId(1), &session("a"), "sender_key", &[b"addr"]),
            StateCipher::aad(TenantId(1), &session("a"), "session", &[b"addr2"]),
        ] {
            assert!(matches!(
                cipher.open(&other, &sealed),
                Err(CipherError::Open)
            ));
        }

        let (stranger, _) = StateCipher::generate();
        assert!(stranger.open(&aad, &sealed).is_err());

        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(cipher.open(&aad, &flipped).is_err());
        assert!(
            cipher
                .open(&aad, &sealed[..NONCE_LEN + TAG_LEN - 1])
                .is_err()
        );
    }

    #[test]
    fn aad_parts_are_unambiguous() {
        let s = session("s");
        assert_ne!(
            StateCipher::aad(TenantId(1), &s, "k", &[b"ab", b"c"]),
            StateCipher::aad(TenantId(1), &s, "k", &[b"a", b"bc"])
        );
    }

    #[test]
    fn base64_round_trip_and_errors() {
        let (cipher, key) = StateCipher::generate();
        let encoded = cipher.to_base64();
        let again = StateCipher::from_base64(&encoded).unwrap();
        assert_eq!(again.key, key);
        let sealed = cipher.seal(b"", b"x");
        assert_eq!(again.open(b"", &sealed).unwrap(), b"x");

        assert!(matches!(
            StateCipher::from_base64("not base64!"),
            Err(CipherError::KeyEncoding)
        ));
        assert!(matches!(
            StateCipher::from_base64(&BASE64.encode([0u8; 16])),
            Err(CipherError::KeyLength(16))
        ));
    }

    #[test]
    fn debug_hides_the_key() {
        let cipher = StateCipher::new([0xAB; KEY_LEN]);
        let shown = format!("{cipher:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab"));
    }
}
