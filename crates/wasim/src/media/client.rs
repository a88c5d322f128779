//! [`SimHttpClient`]: the HTTP client test, bench and demo builds of the
//! gateway hand to whatsapp-rust so its media traffic reaches a
//! [`super::MediaHost`] over real, verified TLS.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, anyhow, ensure};
use async_trait::async_trait;
use ureq::http;
use ureq::tls::{PemItem, RootCerts, TlsConfig};
use wacore::net::{HttpClient, HttpRequest, HttpResponse, StreamingHttpResponse, UploadBody};

/// Cap on a successful response body: WhatsApp's largest file (2 GiB).
/// ureq's own default (10 MiB) would cut real media short.
const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Cap on an error body: it is diagnostic text that ends up in an error
/// message, never payload.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// A `wacore::net::HttpClient` over ureq + rustls whose only trust anchors are
/// the certificates in the PEM it was built with (the media host's CA).
/// Certificate, hostname and expiry checks stay on; any host not certified by
/// that CA fails the handshake.
///
/// Like every `HttpClient`, a completed exchange is `Ok` whatever its status:
/// the client's media paths read 401/403/404 to decide on a media_conn
/// refresh.
#[derive(Clone)]
pub struct SimHttpClient {
    agent: ureq::Agent,
}

impl std::fmt::Debug for SimHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHttpClient").finish_non_exhaustive()
    }
}

impl SimHttpClient {
    /// A client trusting exactly the certificates in `ca_pem`.
    pub fn new(ca_pem: &str) -> anyhow::Result<Self> {
        let mut roots = Vec::new();
        for item in ureq::tls::parse_pem(ca_pem.as_bytes()) {
            if let PemItem::Certificate(cert) = item.context("parsing CA PEM")? {
                roots.push(cert);
            }
        }
        ensure!(!roots.is_empty(), "CA PEM holds no certificate");

        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&roots))
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build();
        Ok(Self {
            agent: config.into(),
        })
    }

    /// Sends `request` with `body` on the calling (blocking) thread.
    fn send(
        &self,
        request: &HttpRequest,
        body: impl ureq::AsSendBody,
    ) -> anyhow::Result<http::Response<ureq::Body>> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        self.agent
            .run(builder.body(body)?)
            .with_context(|| format!("{} {}", request.method, redact(&request.url)))
    }

    fn execute_blocking(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        let response = match &request.body {
            Some(body) => self.send(&request, &body[..])?,
            None => self.send(&request, ())?,
        };
        into_buffered(response)
    }
}

/// Reads the whole response: a 2xx body up to [`MAX_BODY_BYTES`] (over it is
/// an error, never a silently truncated file), an error body only up to
/// [`ERROR_BODY_BYTES`] so the status always survives.
fn into_buffered(response: http::Response<ureq::Body>) -> anyhow::Result<HttpResponse> {
    let status_code = response.status().as_u16();
    let body = if response.status().is_success() {
        response
            .into_body()
            .into_with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()?
    } else {
        let mut body = Vec::new();
        let _ = response
            .into_body()
            .into_reader()
            .take(ERROR_BODY_BYTES)
            .read_to_end(&mut body);
        body
    };
    Ok(HttpResponse { status_code, body })
}

/// The URL without its query, which carries the media auth token.
fn redact(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

#[async_trait]
impl HttpClient for SimHttpClient {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        let client = self.clone();
        tokio::task::spawn_blocking(move || client.execute_blocking(request)).await?
    }

    fn supports_streaming(&self) -> bool {
        true
    }

    fn execute_streaming(&self, request: HttpRequest) -> anyhow::Result<StreamingHttpResponse> {
        let response = self.send(&request, ())?;
        let status_code = response.status().as_u16();
        let body = response.into_body().into_reader().take(MAX_BODY_BYTES);
        Ok(StreamingHttpResponse {
            status_code,
            body: Box::new(body),
        })
    }

    fn supports_upload_streaming(&self) -> bool {
        true
    }

    fn execute_upload(
        &self,
        mut request: HttpRequest,
        body: UploadBody,
        content_length: u64,
    ) -> anyhow::Result<HttpResponse> {
        if request.method != "POST" {
            return Err(anyhow!(
                "upload streaming needs POST, got {}",
                request.method
            ));
        }
        // An explicit length keeps ureq from falling back to chunked encoding,
        // which WhatsApp's CDN refuses.
        request
            .headers
            .insert("Content-Length".to_string(), content_length.to_string());
        let response = self.send(&request, ureq::SendBody::from_owned_reader(body))?;
        into_buffered(response)
    }
}
