//! What a simulator is started with: where it listens and its size limits.

use crate::media::MediaHostConfig;
use anyhow::ensure;
use std::net::{Ipv4Addr, SocketAddr};

/// Ciphertext overhead of WhatsApp media encryption: up to 16 bytes of
/// AES-CBC padding plus the 10-byte truncated MAC.
pub(crate) const MEDIA_ENCRYPTION_OVERHEAD: usize = 26;

/// Limits and address of a [`crate::Sim`]; `Default` is what
/// [`crate::Sim::start`] uses.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where the client socket and admin API listen; port 0 picks one.
    pub addr: SocketAddr,
    pub media: MediaHostConfig,
    /// Largest media (decoded bytes) a contact may send through the admin
    /// API. Tests lower it to reach "too large" without moving megabytes.
    pub max_admin_media: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            media: MediaHostConfig::default(),
            max_admin_media: 64 << 20,
        }
    }
}

impl SimConfig {
    /// Contacts' media goes through the media host too, so the admin limit
    /// must leave room for the encrypted copy under the host's limit;
    /// otherwise media the admin API accepted would fail later.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.max_admin_media > 0, "max_admin_media must be positive");
        ensure!(
            self.max_admin_media + MEDIA_ENCRYPTION_OVERHEAD <= self.media.max_upload_bytes,
            "max_admin_media ({}) plus encryption overhead exceeds the media host's \
             max_upload_bytes ({})",
            self.max_admin_media,
            self.media.max_upload_bytes
        );
        Ok(())
    }
}
