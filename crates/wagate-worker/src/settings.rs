//! How the dispatcher paces itself and whom it may call.

use std::time::Duration;

use wagate_net::webhook::{WEBHOOK_USER_AGENT, WebhookRetry};
use wagate_net::{AddressPolicy, ClientOptions, guarded_client};

/// The dispatcher's configuration.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub retry: WebhookRetry,
    /// How long a claim holds before another dispatcher may take the
    /// delivery again. Longer than an attempt can take (the client's 15 s
    /// deadline), so a live attempt is never duplicated.
    pub visibility: Duration,
    /// Requests under way at once, across all endpoints. A few times as
    /// many may be answered and waiting for their record's commit.
    pub max_in_flight: usize,
    /// The most deliveries taken in one claim.
    pub claim_batch: u32,
    /// Checked on every URL before it is called.
    pub policy: AddressPolicy,
    /// Built with `policy` by [`guarded_client`], so the address dialled is
    /// the address checked, and with [`ClientOptions::webhook`], so
    /// redirects are not followed.
    pub client: reqwest::Client,
}

impl DispatchSettings {
    /// The default schedule and limits over a client guarded by `policy`.
    pub fn new(policy: AddressPolicy) -> Result<DispatchSettings, reqwest::Error> {
        let client = guarded_client(&policy, ClientOptions::webhook(WEBHOOK_USER_AGENT))?;
        Ok(DispatchSettings {
            retry: WebhookRetry::default(),
            visibility: Duration::from_secs(60),
            max_in_flight: 64,
            claim_batch: 128,
            policy,
            client,
        })
    }
}
