//! Link previews: the title, description and thumbnail of the page a text
//! links to, fetched the way a phone does before it sends the text.
//!
//! Both requests (the page, then its image) go through the guarded client
//! and [`check_url`], so a link to a private address is refused like any
//! other tenant-given URL. Each has its own size cap and deadline, and only
//! the page's head is read.

mod scan;
mod thumbnail;

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Url};

use crate::client::{ClientOptions, Redirects, guarded_client};
use crate::fetch::{FetchError, fetch_capped};
use crate::policy::AddressPolicy;
use crate::url_check::check_url;

pub use scan::{PageMeta, scan};
pub use thumbnail::Thumbnail;

/// How much of a page and its image is read, and how small the thumbnail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewLimits {
    /// Bytes of HTML read at most; the head is nearly always well within.
    pub page_bytes: u64,
    pub image_bytes: u64,
    /// Longest side of the thumbnail, in pixels.
    pub thumbnail_side: u32,
    /// Deadline for each of the two requests, body included.
    pub timeout: Duration,
}

impl Default for PreviewLimits {
    fn default() -> Self {
        PreviewLimits {
            page_bytes: 512 * 1024,
            image_bytes: 2 * 1024 * 1024,
            thumbnail_side: 300,
            timeout: Duration::from_secs(4),
        }
    }
}

/// What a page says about itself, ready for a preview card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePreview {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `None` when the page names no image or it could not be used.
    pub thumbnail: Option<Thumbnail>,
}

/// Why a page gave no preview.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the page is {}, not HTML", .0.as_deref().unwrap_or("of no stated type"))]
    NotHtml(Option<String>),
    #[error("the page has no title, description or image")]
    Empty,
}

/// Fetches link previews under one address policy.
#[derive(Debug, Clone)]
pub struct PreviewFetcher {
    client: Client,
    policy: AddressPolicy,
    limits: PreviewLimits,
}

impl PreviewFetcher {
    pub fn new(
        policy: AddressPolicy,
        limits: PreviewLimits,
        user_agent: impl Into<String>,
    ) -> Result<Self, reqwest::Error> {
        let options = ClientOptions {
            timeout: limits.timeout,
            connect_timeout: limits.timeout.min(Duration::from_secs(3)),
            user_agent: user_agent.into(),
            // Short links and http-to-https hops are common; each target
            // is checked again.
            redirects: Redirects::Follow { max: 3 },
        };
        let client = guarded_client(&policy, options)?;
        Ok(PreviewFetcher {
            client,
            policy,
            limits,
        })
    }

    /// The preview of the page at `url`. A page that works but whose image
    /// does not still gives a preview, without a thumbnail.
    pub async fn fetch(&self, url: &Url) -> Result<PagePreview, PreviewError> {
        let (page_url, html) = self.head_of(url).await?;
        let meta = scan(&String::from_utf8_lossy(&html), &page_url);
        let thumbnail = match &meta.image {
            Some(image) => self.thumbnail(image).await,
            None => None,
        };
        if meta.title.is_none() && meta.description.is_none() && thumbnail.is_none() {
            return Err(PreviewError::Empty);
        }
        Ok(PagePreview {
            title: meta.title,
            description: meta.description,
            thumbnail,
        })
    }

    /// The start of the page, up to the end of its head or the size cap,
    /// and the URL it came from after redirects (relative image links are
    /// relative to that).
    async fn head_of(&self, url: &Url) -> Result<(Url, Vec<u8>), PreviewError> {
        check_url(url, &self.policy).map_err(FetchError::from_rejected)?;
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::UpstreamStatus { status }.into());
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
        let is_html = content_type.as_deref().is_some_and(|t| {
            let essence = t.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("text/html")
        });
        if !is_html {
            return Err(PreviewError::NotHtml(content_type));
        }
        let page_url = response.url().clone();
        let cap = self.limits.page_bytes as usize;
        let mut html = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            // Where this chunk's search starts: `</head` may straddle chunks.
            let from = html.len().saturating_sub(b"</head".len());
            html.extend_from_slice(&chunk);
            if html.len() >= cap {
                html.truncate(cap);
                break;
            }
            if ends_head(&html[from..]) {
                break;
            }
        }
        Ok((page_url, html))
    }

    async fn thumbnail(&self, image: &Url) -> Option<Thumbnail> {
        let fetched = match fetch_capped(&self.client, image, self.limits.image_bytes, &self.policy)
            .await
        {
            Ok(fetched) => fetched,
            Err(e) => {
                tracing::debug!(image = %origin(image), error = %e, "preview image not fetched");
                return None;
            }
        };
        let side = self.limits.thumbnail_side;
        // Decoding a 2 MB picture takes a while; it must not hold up the
        // runtime's other tasks.
        let made = tokio::task::spawn_blocking(move || thumbnail::make(&fetched.bytes, side)).await;
        match made {
            Ok(Ok(thumbnail)) => Some(thumbnail),
            Ok(Err(e)) => {
                tracing::debug!(image = %origin(image), error = %e, "preview image not usable");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "making a preview thumbnail failed");
                None
            }
        }
    }
}

fn ends_head(html: &[u8]) -> bool {
    html.windows(b"</head".len())
        .any(|w| w.eq_ignore_ascii_case(b"</head"))
}

/// Scheme, host and port: enough to tell which site failed without
/// logging a path or query that may carry a token.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
