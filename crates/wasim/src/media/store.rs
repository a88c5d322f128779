//! The CDN's memory: encrypted blobs keyed by the direct path handed out at
//! upload, plus the token index the resumable-upload check asks about.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use wacore::download::MediaType;

/// One stored upload. The bytes are whatever the uploader sent: ciphertext
/// plus MAC for E2E media, which the host never needs to understand.
#[derive(Clone)]
pub(crate) struct Blob {
    pub(crate) bytes: Bytes,
    pub(crate) enc_sha256: [u8; 32],
}

#[derive(Default)]
pub(crate) struct BlobStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_path: HashMap<String, Blob>,
    /// `token` (base64url of the body's SHA-256) → direct path, so uploading
    /// the same ciphertext twice answers with the first path, as a
    /// content-addressed CDN does.
    by_token: HashMap<String, String>,
}

/// The URL token the client derives from a blob: base64url, no padding, of
/// the SHA-256 of the bytes it uploads (its `file_enc_sha256`).
pub(crate) fn token_of(enc_sha256: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(enc_sha256)
}

impl BlobStore {
    /// Stores `bytes` and returns its direct path (existing one for a repeat).
    pub(crate) fn insert(&self, media_type: MediaType, bytes: Bytes) -> String {
        let enc_sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let token = token_of(&enc_sha256);
        let mut inner = self.lock();
        if let Some(path) = inner.by_token.get(&token) {
            return path.clone();
        }
        let path = new_direct_path(media_type);
        inner
            .by_path
            .insert(path.clone(), Blob { bytes, enc_sha256 });
        inner.by_token.insert(token, path.clone());
        path
    }

    pub(crate) fn get(&self, direct_path: &str) -> Option<Blob> {
        self.lock().by_path.get(direct_path).cloned()
    }

    pub(crate) fn path_for_token(&self, token: &str) -> Option<String> {
        self.lock().by_token.get(token).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().by_path.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves two plain maps behind, never a
        // half-written entry; keep serving rather than poison every request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fresh direct path shaped like WhatsApp's (`/v/t62.<bucket>-24/<id>.enc`).
/// The bucket numbers are the ones real media of each kind carries; nothing
/// parses them, they only make captured traffic look familiar.
fn new_direct_path(media_type: MediaType) -> String {
    let bucket = match media_type {
        MediaType::Image | MediaType::Sticker => "7118",
        MediaType::Video => "7161",
        MediaType::Audio => "7114",
        MediaType::Document => "7119",
        _ => "7117",
    };
    let id: [u8; 16] = rand::random();
    format!("/v/t62.{bucket}-24/{}.enc", hex::encode(id))
}

/// The path part of a direct path or of a full media URL, without its query:
/// the key blobs are stored under. `None` for a URL of another scheme.
pub(crate) fn storage_key(direct_path_or_url: &str) -> Option<&str> {
    let path = match direct_path_or_url.strip_prefix("https://") {
        Some(rest) => &rest[rest.find('/')?..],
        None if direct_path_or_url.starts_with('/') => direct_path_or_url,
        None => return None,
    };
    Some(path.split_once('?').map_or(path, |(p, _)| p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_key_accepts_paths_and_urls() {
        assert_eq!(storage_key("/v/t62/a.enc"), Some("/v/t62/a.enc"));
        assert_eq!(storage_key("/v/t62/a.enc?token=x"), Some("/v/t62/a.enc"));
        assert_eq!(
            storage_key("https://127.0.0.1:9/v/t62/a.enc?auth=a&token=b"),
            Some("/v/t62/a.enc")
        );
        assert_eq!(storage_key("http://127.0.0.1:9/v/a"), None);
        assert_eq!(storage_key("https://127.0.0.1:9"), None);
    }

    #[test]
    fn same_bytes_get_the_same_path() {
        let store = BlobStore::default();
        let a = store.insert(MediaType::Image, Bytes::from_static(b"abc"));
        let b = store.insert(MediaType::Image, Bytes::from_static(b"abc"));
        let c = store.insert(MediaType::Image, Bytes::from_static(b"abd"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(store.len(), 2);
    }
}
