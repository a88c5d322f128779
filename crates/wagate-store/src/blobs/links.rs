//! Signed, expiring links to the file of a received message, for
//! receivers that cannot send an API key (a browser, a chat widget).
//!
//! The signature is an HMAC-SHA256, under a key derived from the master
//! key, over the tenant, the event id and the expiry: a link opens that one
//! event's file until then, and changing any of the three breaks it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::time::Duration;

/// What the derived key is for; another purpose gets another key.
const PURPOSE: &[u8] = b"wagate/media-links/v1";

#[derive(Clone)]
pub struct MediaLinks {
    key: [u8; 32],
    ttl: Duration,
}

impl fmt::Debug for MediaLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaLinks")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Why a link does not open.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("the link has expired")]
    Expired,
    #[error("the link's signature is not valid")]
    BadSignature,
}

impl MediaLinks {
    /// Links valid for `ttl`, signed with a key derived from `master`.
    pub fn new(master: &crate::StateCipher, ttl: Duration) -> Self {
        MediaLinks {
            key: master.derive_key(PURPOSE),
            ttl,
        }
    }

    fn mac(&self, tenant: i64, event_id: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(&tenant.to_be_bytes());
        mac.update(&(event_id.len() as u32).to_be_bytes());
        mac.update(event_id.as_bytes());
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// `{base}/media/{event_id}?tenant=..&expires=..&sig=..`, valid for
    /// the configured time from `now` (unix seconds).
    pub fn url(&self, base: &str, tenant: i64, event_id: &str, now: i64) -> String {
        let expires = now + self.ttl.as_secs() as i64;
        let sig = BASE64URL.encode(self.mac(tenant, event_id, expires).finalize().into_bytes());
        format!(
            "{}/media/{event_id}?tenant={tenant}&expires={expires}&sig={sig}",
            base.trim_end_matches('/')
        )
    }

    /// Checks a link's signature (in constant time) and its expiry.
    pub fn verify(
        &self,
        tenant: i64,
        event_id: &str,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> Result<(), LinkRefused> {
        let sig = BASE64URL
            .decode(sig)
            .map_err(|_| LinkRefused::BadSignature)?;
        self.mac(tenant, event_id, expires)
            .verify_slice(&sig)
            .map_err(|_| LinkRefused::BadSignature)?;
        if now >= expires {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (i64, String, i64, String) {
        let (path, query) = url.split_once('?').unwrap();
        let id = path.rsplit('/').next().unwrap().to_string();
        let q: std::collections::HashMap<_, _> =
            query.split('&').filter_map(|p| p.split_once('=')).collect();
        (
            q["tenant"].parse().unwrap(),
            id,
            q["expires"].parse().unwrap(),
            q["sig"].to_string(),
        )
    }

    #[test]
    fn a_link_opens_its_event_until_it_expires() {
        let cipher = crate::StateCipher::new([3; 32]);
        let links = MediaLinks::new(&cipher, Duration::from_secs(60));
        let url = links.url("https://gw.example/", 7, "evt_a", 1_000);
        assert!(url.starts_with("https://gw.example/media/evt_a?tenant=7&expires=1060&sig="));
        let (tenant, id, expires, sig) = parts(&url);
        assert_eq!(links.verify(tenant, &id, expires, &sig, 1_059), Ok(()));
        assert_eq!(
            links.verify(tenant, &id, expires, &sig, 1_060),
            Err(LinkRefused::Expired)
        );
        let bad = Err(LinkRefused::BadSignature);
        assert_eq!(links.verify(8, &id, expires, &sig, 1_000), bad);
        assert_eq!(links.verify(tenant, "evt_b", expires, &sig, 1_000), bad);
        assert_eq!(links.verify(tenant, &id, expires + 3600, &sig, 1_000), bad);
        assert_eq!(
            links.verify(tenant, &id, expires, "not base64!", 1_000),
            bad
        );
        let other = MediaLinks::new(&crate::StateCipher::new([4; 32]), Duration::from_secs(60));
        assert_eq!(other.verify(tenant, &id, expires, &sig, 1_000), bad);
        assert!(!format!("{links:?}").contains("3, 3"));
    }
}
