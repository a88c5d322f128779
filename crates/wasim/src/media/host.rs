//! [`MediaHost`]: the simulated media CDN, and the media crypto simulated
//! contacts do on it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, anyhow, ensure};
use bytes::Bytes;
use tokio::sync::watch;
use wacore::download::{DownloadUtils, MediaType};
use wacore::iq::mediaconn::{HostType, MediaConnHostExtended, MediaConnResponseExtended};
use wacore::protocol::ProtocolNode;
use wacore_binary::Node;

use super::UploadedMedia;
use super::routes::{self, HostState, MEDIA_TYPES};
use super::store::{BlobStore, storage_key};
use super::tls::{SimCertificate, TlsListener};

/// Limits and timings of a [`MediaHost`].
#[derive(Debug, Clone)]
pub struct MediaHostConfig {
    /// Largest upload body accepted; bigger ones get 413.
    pub max_upload_bytes: usize,
    /// `ttl`/`auth_ttl` announced in `<media_conn>`: how long the client may
    /// reuse the auth token and host list before asking again.
    pub media_conn_ttl_secs: u64,
}

impl Default for MediaHostConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 100 * 1024 * 1024,
            media_conn_ttl_secs: 3600,
        }
    }
}

/// An HTTPS media CDN on 127.0.0.1 with a certificate from a CA generated at
/// start. Blobs live in memory for the host's lifetime. Stops on
/// [`MediaHost::shutdown`] or when the last `Arc` is dropped.
pub struct MediaHost {
    state: Arc<HostState>,
    ca_pem: String,
    config: MediaHostConfig,
    shutdown: watch::Sender<bool>,
}

impl MediaHost {
    /// Starts a host with [`MediaHostConfig::default`]. Must be called from
    /// within a Tokio runtime (the server runs as tasks on it).
    pub fn start() -> anyhow::Result<Arc<MediaHost>> {
        Self::start_with(MediaHostConfig::default())
    }

    /// Starts a host with the given limits. Must be called from within a
    /// Tokio runtime.
    pub fn start_with(config: MediaHostConfig) -> anyhow::Result<Arc<MediaHost>> {
        let runtime = tokio::runtime::Handle::try_current()
            .context("MediaHost must be started inside a Tokio runtime")?;
        let _guard = runtime.enter();

        let cert = SimCertificate::generate()?;
        // Bound synchronously so `start` needs no `.await` and the port is
        // known before it returns.
        let std_listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        std_listener.set_nonblocking(true)?;
        let tcp = tokio::net::TcpListener::from_std(std_listener)?;
        let port = tcp.local_addr()?.port();

        let auth: [u8; 24] = rand::random();
        let state = Arc::new(HostState {
            store: BlobStore::default(),
            // base64url: travels unescaped in the `auth=` query the client
            // builds without percent-encoding.
            auth: super::store::token_of(&auth),
            hostname: format!("127.0.0.1:{port}"),
            refuse_downloads: Default::default(),
            refused: Default::default(),
        });

        let (shutdown, stop) = watch::channel(false);
        let listener = TlsListener::spawn(tcp, cert.server_config, stop.clone())?;
        let app = routes::router(Arc::clone(&state), config.max_upload_bytes);
        let mut stop_serving = stop;
        runtime.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_serving.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(err) = served {
                tracing::warn!(%err, "media host stopped with an error");
            }
        });
        tracing::debug!(hostname = %state.hostname, "media host started");

        Ok(Arc::new(MediaHost {
            state,
            ca_pem: cert.ca_pem,
            config,
            shutdown,
        }))
    }

    /// `127.0.0.1:PORT`, as it appears in `<host hostname>` and media URLs.
    pub fn hostname(&self) -> String {
        self.state.hostname.clone()
    }

    /// The media auth token uploads must carry as `auth=`.
    pub fn auth_token(&self) -> &str {
        &self.state.auth
    }

    /// The CA that signed the host's certificate, PEM. Trust it (and only
    /// it) to talk to this host; see [`super::SimHttpClient`].
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Number of blobs stored so far.
    pub fn blob_count(&self) -> usize {
        self.state.store.len()
    }

    /// The `<media_conn>` child of the server's result to
    /// `<iq xmlns="w:m" type="set"><media_conn/></iq>`:
    ///
    /// ```xml
    /// <media_conn auth="…" ttl="3600" auth_ttl="3600" max_buckets="12">
    ///   <host hostname="127.0.0.1:PORT" type="primary">
    ///     <upload/><download><image/><video/>…</download>
    ///   </host>
    /// </media_conn>
    /// ```
    ///
    /// The client reads `auth`, `ttl`, `auth_ttl`, `max_buckets` and each
    /// host's `hostname`, `type` and `fallback_hostname`; the rest mirrors
    /// what WhatsApp sends.
    pub fn media_conn_node(&self) -> Node {
        let host = MediaConnHostExtended {
            upload: true,
            download: true,
            download_categories: MEDIA_TYPES
                .iter()
                .map(|t| t.mms_type().to_string())
                .collect(),
            ..MediaConnHostExtended::simple(self.hostname(), HostType::Primary)
        };
        let ttl = self.config.media_conn_ttl_secs;
        MediaConnResponseExtended {
            auth: self.state.auth.clone(),
            ttl,
            auth_ttl: Some(ttl),
            max_buckets: Some(12),
            ip_token: None,
            set_ip_token: None,
            hosts: vec![host],
        }
        .into_node()
    }

    /// Refuses the next `n` downloads with 503, replacing any count left.
    pub fn refuse_next_downloads(&self, n: u32) {
        self.state.refuse_downloads.store(n, Ordering::SeqCst);
    }

    /// Downloads still to be refused, and how many have been.
    pub fn refused_downloads(&self) -> (u32, u64) {
        (
            self.state.refuse_downloads.load(Ordering::SeqCst),
            self.state.refused.load(Ordering::SeqCst),
        )
    }

    /// Stops accepting connections and lets open ones finish. Idempotent.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// What a simulated contact does with media the client sent it: fetch the
    /// blob named by `direct_path_or_url` (a direct path or a full `https://`
    /// URL of this host), check it against `file_enc_sha256` when given, verify
    /// the MAC and decrypt with `media_key`. Reads the store directly, no HTTP.
    pub fn decrypt_download(
        &self,
        direct_path_or_url: &str,
        media_key: &[u8],
        media_type: MediaType,
        file_enc_sha256: Option<&[u8]>,
    ) -> anyhow::Result<Vec<u8>> {
        let key = storage_key(direct_path_or_url)
            .ok_or_else(|| anyhow!("not a media path or https URL: {direct_path_or_url}"))?;
        let blob = self
            .state
            .store
            .get(key)
            .ok_or_else(|| anyhow!("no media stored at {key}"))?;
        if let Some(expected) = file_enc_sha256 {
            ensure!(
                blob.enc_sha256.as_slice() == expected,
                "file_enc_sha256 does not match the media stored at {key}"
            );
        }
        DownloadUtils::verify_and_decrypt(&blob.bytes, media_key, media_type)
            .with_context(|| format!("decrypting media at {key}"))
    }

    /// What a simulated contact does before sending media to the client:
    /// encrypt `plain` with a fresh media key (wacore's own encryptor) and
    /// store the result. The returned fields go into the contact's
    /// `ImageMessage`/`DocumentMessage`/….
    pub fn upload_plain(
        &self,
        plain: &[u8],
        media_type: MediaType,
    ) -> anyhow::Result<UploadedMedia> {
        let enc = wacore::upload::encrypt_media(plain, media_type)?;
        // Contacts' media passed through a CDN too, under the same limit.
        ensure!(
            enc.data_to_upload.len() <= self.config.max_upload_bytes,
            "encrypted media of {} bytes exceeds the host's {} byte limit",
            enc.data_to_upload.len(),
            self.config.max_upload_bytes
        );
        let direct_path = self
            .state
            .store
            .insert(media_type, Bytes::from(enc.data_to_upload));
        Ok(UploadedMedia {
            url: format!("https://{}{direct_path}", self.state.hostname),
            direct_path,
            media_key: enc.media_key.to_vec(),
            file_sha256: enc.file_sha256.to_vec(),
            file_enc_sha256: enc.file_enc_sha256.to_vec(),
            file_length: plain.len() as u64,
            media_key_timestamp: wacore::time::now_secs(),
            streaming_sidecar: enc.streaming_sidecar,
        })
    }
}

impl Drop for MediaHost {
    fn drop(&mut self) {
        self.shutdown();
    }
}
