//! The phone's half of the code-pairing crypto: what the primary device
//! computes once its user has typed the code the companion shows.
//!
//! The code never travels: both sides wrap their ephemeral key with a key
//! stretched from it, so a phone that typed the wrong code unwraps garbage,
//! agrees on a different secret, and only finds out when the companion's
//! key bundle fails to open.

use wacore::libsignal::crypto::aes_256_gcm_decrypt;
use wacore::libsignal::protocol::{IdentityKeyPair, KeyPair, PublicKey};
use wacore::pair_code::PairCodeUtils;

/// HKDF info the companion uses for the key that seals its bundle.
const BUNDLE_KEY_INFO: &[u8] = b"link_code_pairing_key_bundle_encryption_key";
/// HKDF info for the ADV secret both sides derive from the exchange.
const ADV_SECRET_INFO: &[u8] = b"adv_secret";
/// Companion identity (32) + primary identity (32) + random (32).
const BUNDLE_LEN: usize = 96;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Why the phone could not finish the link.
#[derive(Debug)]
pub enum FinishError {
    /// The bundle did not open: the code typed is not the one shown.
    WrongCode,
    Malformed(String),
}

/// The phone's side after the code was typed: its fresh ephemeral key and
/// the companion's, unwrapped with that code.
pub struct PrimaryHello {
    ephemeral: KeyPair,
    companion_ephemeral: PublicKey,
    /// Sent to the companion in `primary_hello`, wrapped like the
    /// companion's own: salt (32) ‖ iv (16) ‖ AES-CTR ciphertext (32).
    pub wrapped_ephemeral: [u8; 80],
}

impl PrimaryHello {
    /// Unwraps the companion's ephemeral key with `code` and wraps a new one
    /// of the phone's. Two PBKDF2 runs of 2^17 rounds: call it off the async
    /// threads.
    pub fn new(code: &str, wrapped_companion_ephemeral: &[u8]) -> Result<Self, FinishError> {
        // The wrapping is symmetric, so wacore's companion-side helpers
        // serve the phone as well: "decrypt primary" opens any wrapped key.
        let companion =
            PairCodeUtils::decrypt_primary_ephemeral_pub(wrapped_companion_ephemeral, code)
                .map_err(|e| FinishError::Malformed(e.to_string()))?;
        let companion_ephemeral = PublicKey::from_djb_public_key_bytes(&companion)
            .map_err(|e| FinishError::Malformed(format!("companion ephemeral key: {e}")))?;
        let ephemeral = KeyPair::generate(&mut rand::rng());
        let public: [u8; 32] = ephemeral
            .public_key
            .public_key_bytes()
            .try_into()
            .map_err(|_| FinishError::Malformed("ephemeral key is not 32 bytes".into()))?;
        let wrapped_ephemeral = PairCodeUtils::encrypt_ephemeral_pub(&public, code);
        Ok(PrimaryHello {
            ephemeral,
            companion_ephemeral,
            wrapped_ephemeral,
        })
    }

    /// Opens the companion's key bundle and derives the ADV secret the
    /// companion will check pair-success against. `account` is the phone's
    /// identity key (sent in `primary_hello`); `companion_identity` the key
    /// the companion registered with.
    pub fn finish(
        &self,
        account: &IdentityKeyPair,
        wrapped_bundle: &[u8],
        companion_identity: &[u8; 32],
    ) -> Result<[u8; 32], FinishError> {
        let malformed = |what: &str| FinishError::Malformed(what.to_string());
        if wrapped_bundle.len() != SALT_LEN + NONCE_LEN + BUNDLE_LEN + 16 {
            return Err(malformed("key bundle has the wrong length"));
        }
        let (salt, rest) = wrapped_bundle.split_at(SALT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| malformed("nonce"))?;

        let ephemeral_shared = self
            .ephemeral
            .private_key
            .calculate_agreement(&self.companion_ephemeral)
            .map_err(|e| FinishError::Malformed(format!("ephemeral agreement: {e}")))?;
        let mut bundle_key = [0u8; 32];
        wacore::crypto::hkdf_sha256_into(
            &ephemeral_shared,
            Some(salt),
            BUNDLE_KEY_INFO,
            &mut bundle_key,
        )
        .map_err(|e| FinishError::Malformed(format!("bundle key: {e}")))?;
        let mut bundle = Vec::with_capacity(BUNDLE_LEN);
        // A wrong code means a different shared secret, so the tag fails.
        aes_256_gcm_decrypt(&bundle_key, nonce, b"", sealed, &mut bundle)
            .map_err(|_| FinishError::WrongCode)?;

        let (companion_in_bundle, rest) = bundle.split_at(32);
        let (primary_in_bundle, random) = rest.split_at(32);
        // The companion binds both identities into the bundle; a bundle for
        // another pair of devices must not link this one.
        if companion_in_bundle != companion_identity {
            return Err(malformed("bundle names another companion identity"));
        }
        if primary_in_bundle != account.public_key().public_key_bytes() {
            return Err(malformed("bundle names another primary identity"));
        }

        let companion_key = PublicKey::from_djb_public_key_bytes(companion_identity)
            .map_err(|e| FinishError::Malformed(format!("companion identity: {e}")))?;
        let identity_shared = account
            .private_key()
            .calculate_agreement(&companion_key)
            .map_err(|e| FinishError::Malformed(format!("identity agreement: {e}")))?;
        let mut material = Vec::with_capacity(96);
        material.extend_from_slice(&ephemeral_shared);
        material.extend_from_slice(&identity_shared);
        material.extend_from_slice(random);
        let mut adv_secret = [0u8; 32];
        wacore::crypto::hkdf_sha256_into(&material, None, ADV_SECRET_INFO, &mut adv_secret)
            .map_err(|e| FinishError::Malformed(format!("adv secret: {e}")))?;
        Ok(adv_secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays the companion with wacore's own client-side functions, so the
    /// phone side here is checked against what the real client computes.
    fn companion_round(typed: &str) -> (Result<[u8; 32], FinishError>, Option<[u8; 32]>) {
        let shown = "ABCD1234";
        let account = IdentityKeyPair::generate(&mut rand::rng());
        let companion_identity = KeyPair::generate(&mut rand::rng());
        let companion_ephemeral = KeyPair::generate(&mut rand::rng());
        let public: [u8; 32] = companion_ephemeral
            .public_key
            .public_key_bytes()
            .try_into()
            .unwrap();
        let wrapped = PairCodeUtils::encrypt_ephemeral_pub(&public, shown);

        let hello = PrimaryHello::new(typed, &wrapped).expect("hello");
        let primary_ephemeral =
            PairCodeUtils::decrypt_primary_ephemeral_pub(&hello.wrapped_ephemeral, shown).unwrap();
        let primary_identity: [u8; 32] =
            account.public_key().public_key_bytes().try_into().unwrap();
        let (bundle, client_secret) = PairCodeUtils::prepare_key_bundle(
            &companion_ephemeral,
            &primary_ephemeral,
            &primary_identity,
            &companion_identity,
        )
        .unwrap();
        let identity: [u8; 32] = companion_identity
            .public_key
            .public_key_bytes()
            .try_into()
            .unwrap();
        (
            hello.finish(&account, &bundle, &identity),
            Some(client_secret),
        )
    }

    #[test]
    fn the_right_code_yields_the_companions_adv_secret() {
        let (phone, client) = companion_round("abcd1234".to_uppercase().as_str());
        assert_eq!(phone.expect("bundle opens"), client.unwrap());
    }

    #[test]
    fn a_wrong_code_fails_to_open_the_bundle() {
        let (phone, _) = companion_round("WXYZ5678");
        assert!(matches!(phone, Err(FinishError::WrongCode)));
    }
}
