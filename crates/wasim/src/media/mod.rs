//! wasim's media side: an HTTPS CDN that whatsapp-rust uploads to and
//! downloads from ([`MediaHost`]), the media crypto simulated contacts do on
//! it, and the HTTP client gateway test builds use to reach it
//! ([`SimHttpClient`]).
//!
//! The server's `w:m` IQ answers with [`MediaHost::media_conn_node`]; the
//! client then talks HTTPS to `127.0.0.1:PORT` and must trust
//! [`MediaHost::ca_pem`], which is what [`SimHttpClient::new`] does.

mod client;
mod host;
mod routes;
mod store;
mod tls;

pub use client::SimHttpClient;
pub use host::{MediaHost, MediaHostConfig};
pub use wacore::download::MediaType;

/// Media a simulated contact stored on the host, with everything its
/// `ImageMessage`/`DocumentMessage`/… needs to reference it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedMedia {
    /// `https://127.0.0.1:PORT{direct_path}`.
    pub url: String,
    pub direct_path: String,
    /// 32-byte key the media was encrypted with.
    pub media_key: Vec<u8>,
    /// SHA-256 of the plaintext.
    pub file_sha256: Vec<u8>,
    /// SHA-256 of the stored ciphertext + MAC.
    pub file_enc_sha256: Vec<u8>,
    /// Plaintext length.
    pub file_length: u64,
    /// Unix seconds when the key was made (`media_key_timestamp`).
    pub media_key_timestamp: i64,
    /// Per-64-KiB MAC table wacore makes for audio and video, for their
    /// `streaming_sidecar` field; `None` for other types.
    pub streaming_sidecar: Option<Vec<u8>>,
}
