//! The one way the gateway builds an HTTP client for tenant-given URLs.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

use crate::policy::AddressPolicy;
use crate::resolver::GuardedResolver;
use crate::url_check::{UrlRejected, check_url};

/// How a guarded client behaves, beyond the address filter it always has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Deadline for a whole request: connecting, the response head and the
    /// entire body. A server that trickles bytes cannot hold a task longer.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: String,
    pub redirects: Redirects,
}

/// Whether a 3xx response is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// The 3xx response is returned as it is.
    NotFollowed,
    /// Up to `max` hops, each target re-checked with [`check_url`].
    Follow { max: usize },
}

impl ClientOptions {
    /// Webhook delivery: a 3xx is a failed delivery, never followed, and a
    /// receiver gets 15 s to answer.
    pub fn webhook(user_agent: impl Into<String>) -> Self {
        ClientOptions {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            user_agent: user_agent.into(),
            redirects: Redirects::NotFollowed,
        }
    }

    /// Media for outbound messages: CDNs and file hosts redirect, so a few
    /// hops are followed; files are larger, so the deadline is longer.
    pub fn media(user_agent: impl Into<String>) -> Self {
        ClientOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: user_agent.into(),
            redirects: Redirects::Follow { max: 3 },
        }
    }
}

/// A redirect pointed somewhere [`check_url`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server redirected to {target}, which is refused: {rejected}")]
pub struct RedirectRefused {
    /// Scheme, host and port of the target; the rest may carry secrets.
    pub target: String,
    pub rejected: UrlRejected,
}

/// A redirect chain longer than the client follows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server redirected more than {max} times")]
pub struct TooManyRedirects {
    pub max: usize,
}

/// Builds a `reqwest` client that only connects to addresses `policy`
/// allows: host names go through [`GuardedResolver`], and every redirect
/// target is re-checked with [`check_url`].
///
/// The URL of the first request is not seen by the client before it is
/// dialled: run [`check_url`] on it first (as `fetch_capped` does), or an
/// IP-literal URL such as `http://127.0.0.1/` is called unchecked.
pub fn guarded_client(
    policy: &AddressPolicy,
    options: ClientOptions,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver::new(policy.clone())))
        // A proxy would resolve and dial on our behalf, out of the policy's sight.
        .no_proxy()
        .redirect(redirect_policy(policy.clone(), options.redirects))
        .referer(false)
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .user_agent(options.user_agent)
        .build()
}

fn redirect_policy(policy: AddressPolicy, redirects: Redirects) -> Policy {
    let Redirects::Follow { max } = redirects else {
        return Policy::none();
    };
    Policy::custom(move |attempt: Attempt| {
        // `previous` holds the original URL and every hop so far.
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects { max });
        }
        match check_url(attempt.url(), &policy) {
            Ok(()) => attempt.follow(),
            Err(rejected) => {
                let target = target_origin(attempt.url());
                attempt.error(RedirectRefused { target, rejected })
            }
        }
    })
}

fn target_origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("a {} URL", url.scheme()),
    }
}
