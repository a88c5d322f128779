//! Media for outbound messages: from base64 in JSON, from a URL the
//! gateway fetches (SSRF-guarded), or from a multipart upload streamed to
//! disk. Each kind has a size limit, enforced while the bytes arrive.

use crate::error::ApiError;
use base64::Engine as _;
use wagate_core::outbound::{MediaBlob, MediaKind};
use wagate_net::{AddressPolicy, FetchError, Url};
use wagate_store::BlobStore;
use wagate_store::blobs::BlobWriter;

/// Largest file per kind, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub image: u64,
    pub video: u64,
    pub audio: u64,
    pub document: u64,
    pub sticker: u64,
}

const MB: u64 = 1024 * 1024;

impl Default for MediaLimits {
    /// WhatsApp's own limits.
    fn default() -> Self {
        MediaLimits {
            image: 5 * MB,
            video: 16 * MB,
            audio: 16 * MB,
            document: 100 * MB,
            sticker: 500 * 1024,
        }
    }
}

impl MediaLimits {
    pub fn of(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image,
            MediaKind::Video => self.video,
            MediaKind::Audio | MediaKind::Voice => self.audio,
            MediaKind::Document => self.document,
            MediaKind::Sticker => self.sticker,
        }
    }

    pub fn largest(&self) -> u64 {
        [
            self.image,
            self.video,
            self.audio,
            self.document,
            self.sticker,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

/// Where media comes in: the blob store, the limits and the fetcher.
#[derive(Clone)]
pub struct MediaIntake {
    pub blobs: BlobStore,
    pub limits: MediaLimits,
    pub fetch_policy: AddressPolicy,
    pub fetch_client: reqwest::Client,
}

pub fn too_large(kind: MediaKind, max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "The {} file exceeds the limit of {max} bytes",
        kind.as_str()
    ))
}

impl MediaIntake {
    pub fn new(
        blobs: BlobStore,
        limits: MediaLimits,
        fetch_policy: AddressPolicy,
    ) -> anyhow::Result<Self> {
        let fetch_client = wagate_net::guarded_client(
            &fetch_policy,
            wagate_net::ClientOptions::media(concat!("wagate/", env!("CARGO_PKG_VERSION"))),
        )?;
        Ok(MediaIntake {
            blobs,
            limits,
            fetch_policy,
            fetch_client,
        })
    }

    /// Checks the mimetype against the kind and names the blob.
    pub fn describe(
        &self,
        kind: MediaKind,
        (sha256, size): (String, u64),
        mimetype: Option<String>,
        file_name: Option<String>,
    ) -> Result<MediaBlob, ApiError> {
        let mimetype = mimetype
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| kind.default_mimetype().to_string());
        if !kind.accepts_mimetype(&mimetype) {
            return Err(ApiError::validation(
                "media.mimetype",
                format!("'{mimetype}' does not fit a {} message", kind.as_str()),
            ));
        }
        if size == 0 {
            return Err(ApiError::validation("media", "is an empty file"));
        }
        let file_name = file_name.map(|n| n.replace(['/', '\\', '\0'], "_"));
        Ok(MediaBlob {
            sha256,
            size,
            mimetype,
            file_name,
        })
    }

    pub async fn from_base64(
        &self,
        kind: MediaKind,
        data: &str,
    ) -> Result<(String, u64), ApiError> {
        let max = self.limits.of(kind);
        // Strip a `data:...;base64,` prefix; clients paste data URLs.
        let data = data.split_once(";base64,").map_or(data, |(_, d)| d);
        let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if (data.len() as u64 / 4) * 3 > max + 3 {
            return Err(too_large(kind, max));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|e| {
                ApiError::validation("media.base64", format!("is not valid base64: {e}"))
            })?;
        if bytes.len() as u64 > max {
            return Err(too_large(kind, max));
        }
        self.blobs.put(&bytes).await.map_err(store_failed)
    }

    /// Downloads `url` into the blob store; returns the blob and what the
    /// server said its type and name were.
    pub async fn from_url(
        &self,
        kind: MediaKind,
        url: &str,
    ) -> Result<((String, u64), Option<String>, Option<String>), ApiError> {
        let parsed = Url::parse(url)
            .map_err(|e| ApiError::validation("media.url", format!("is not a valid URL: {e}")))?;
        let max = self.limits.of(kind);
        let fetched =
            wagate_net::fetch_capped(&self.fetch_client, &parsed, max, &self.fetch_policy)
                .await
                .map_err(|e| fetch_failed(kind, max, e))?;
        let blob = self.blobs.put(&fetched.bytes).await.map_err(store_failed)?;
        Ok((blob, fetched.content_type, fetched.file_name))
    }

    pub async fn writer(&self) -> Result<BlobWriter, ApiError> {
        self.blobs.writer().await.map_err(store_failed)
    }
}

fn fetch_failed(kind: MediaKind, max: u64, e: FetchError) -> ApiError {
    match e {
        FetchError::TooLarge { .. } => too_large(kind, max),
        // A URL the gateway will not call is no syntax error: 422, as
        // `FetchError::http_status` says, still naming the field.
        FetchError::AddressRefused { message } | FetchError::BadUrl { message } => {
            ApiError::UnprocessableField {
                field: "media.url".into(),
                message,
            }
        }
        other => ApiError::Unprocessable(format!("media.url: {other}")),
    }
}

fn store_failed(e: std::io::Error) -> ApiError {
    ApiError::Internal(format!("cannot store media: {e}"))
}
