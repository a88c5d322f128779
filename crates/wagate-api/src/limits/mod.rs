//! Tier limits on messages and API calls per hour, counted in memory, and
//! the routes that show and change tiers and a tenant's usage. (The
//! sessions limit is checked where sessions are created, in the store's
//! transaction.)
//!
//! Both hourly counts are sliding windows counted per minute
//! ([`window`]). Messages are counted when accepted, and rebuilt from the
//! queue's acceptance times when the gateway starts, so a restart does
//! not hand out a fresh hour. API calls are only counted in memory: after
//! a restart every tenant starts with none.

pub mod routes;
mod tenant_tiers;
pub mod window;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use tenant_tiers::TenantTiers;
use wagate_core::tiers::SESSION_RETRY_AFTER_S;
use wagate_core::{CoreError, LimitExceeded, LimitKind, TenantId, TierName};
use wagate_store::Store;
use wagate_store::domain::TenantTier;
use window::{HourWindow, minute_of};

pub use tenant_tiers::REFRESH_AFTER;

/// Counts an authenticated request against its tenant's API calls per
/// hour; over the limit it is refused with 429. Admin keys are counted
/// but never refused, so an operator cannot lock themselves out.
pub async fn count_call(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    state
        .limits
        .count_api_call(caller.tenant, caller.is_admin())
        .await
}

/// What the limits work from: each tenant's tier and its hourly counts.
pub struct Limits {
    tiers: TenantTiers,
    /// The tier of tenants created without one.
    default_tier: TierName,
    messages: Mutex<HashMap<TenantId, HourWindow>>,
    api_calls: Mutex<HashMap<TenantId, HourWindow>>,
}

/// Messages counted for a request, to give back if it is not queued.
#[derive(Debug)]
#[must_use]
pub struct Counted {
    tenant: TenantId,
    minute: i64,
    n: u32,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whole seconds a client waits for `wait_ms` (at least 1); a request
/// that never fits is told to wait the whole window.
fn retry_after_s(wait_ms: Option<i64>) -> u64 {
    match wait_ms {
        Some(ms) => (ms.max(1) as u64).div_ceil(1000),
        None => SESSION_RETRY_AFTER_S,
    }
}

impl Limits {
    /// Limits with empty counts; see [`Limits::start`].
    pub fn new(store: Store, default_tier: TierName) -> Self {
        Limits {
            tiers: TenantTiers::new(store),
            default_tier,
            messages: Mutex::default(),
            api_calls: Mutex::default(),
        }
    }

    /// Limits with the last hour's accepted messages counted again.
    pub async fn start(store: Store, default_tier: TierName) -> Result<Self, CoreError> {
        let now = now_ms();
        let since = (minute_of(now) - 60) * window::MINUTE_MS;
        let counts = store.recent_message_counts(since).await?;
        let limits = Limits::new(store, default_tier);
        {
            let mut messages = limits.messages.lock().expect("limit counts");
            for c in counts {
                messages
                    .entry(c.tenant)
                    .or_default()
                    .add(now, c.minute, c.count);
            }
        }
        Ok(limits)
    }

    pub fn default_tier(&self) -> &TierName {
        &self.default_tier
    }

    /// A tier's limits or a tenant's tier changed: read them again.
    pub fn tiers_changed(&self) {
        self.tiers.forget();
    }

    async fn count_api_call(&self, tenant: TenantId, exempt: bool) -> Result<(), ApiError> {
        let tier = self.tiers.get(tenant).await?;
        let max = tier
            .as_ref()
            .and_then(|t| t.tier.limits.api_calls_per_hour)
            .filter(|_| !exempt)
            .unwrap_or(u32::MAX);
        let taken = self.take(&self.api_calls, tenant, 1, max);
        self.refusal(taken, tier.as_deref(), LimitKind::ApiCallsPerHour, max, 1)
            .map(|_| ())
    }

    /// Counts `n` messages against the tenant's messages per hour, all or
    /// none; [`Limits::give_back`] them if they are not queued after all.
    pub async fn take_messages(&self, tenant: TenantId, n: usize) -> Result<Counted, ApiError> {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let tier = self.tiers.get(tenant).await?;
        let max = tier
            .as_ref()
            .and_then(|t| t.tier.limits.messages_per_hour)
            .unwrap_or(u32::MAX);
        let taken = self.take(&self.messages, tenant, n, max);
        let minute = self.refusal(taken, tier.as_deref(), LimitKind::MessagesPerHour, max, n)?;
        Ok(Counted { tenant, minute, n })
    }

    pub fn give_back(&self, counted: Counted) {
        let mut messages = self.messages.lock().expect("limit counts");
        if let Some(window) = messages.get_mut(&counted.tenant) {
            window.give_back(counted.minute, counted.n);
        }
    }

    /// Checks and counts in one step, under the counts' lock, so requests
    /// at the same time cannot together pass the limit.
    fn take(
        &self,
        counts: &Mutex<HashMap<TenantId, HourWindow>>,
        tenant: TenantId,
        n: u32,
        max: u32,
    ) -> Result<i64, window::Full> {
        let mut counts = counts.lock().expect("limit counts");
        counts.entry(tenant).or_default().try_take(now_ms(), n, max)
    }

    fn refusal(
        &self,
        taken: Result<i64, window::Full>,
        tier: Option<&TenantTier>,
        kind: LimitKind,
        max: u32,
        n: u32,
    ) -> Result<i64, ApiError> {
        let full = match taken {
            Ok(minute) => return Ok(minute),
            Err(full) => full,
        };
        let (tier_name, tenant_name) = match tier {
            Some(t) => (t.tier.name.as_str(), t.tenant_name.as_str()),
            None => (TierName::UNLIMITED, "?"),
        };
        let limit = LimitExceeded::new(
            kind,
            tier_name,
            tenant_name,
            max,
            full.used,
            u64::from(n),
            retry_after_s(full.wait_ms),
        );
        Err(ApiError::RateLimited(Box::new(limit)))
    }

    /// The tenant's hourly counts now: (used, when the oldest frees, in
    /// ms since the epoch).
    fn hourly(&self, kind: LimitKind, tenant: TenantId) -> (u64, Option<i64>) {
        let counts = match kind {
            LimitKind::MessagesPerHour => &self.messages,
            _ => &self.api_calls,
        };
        let mut counts = counts.lock().expect("limit counts");
        let now = now_ms();
        match counts.get_mut(&tenant) {
            Some(window) => (window.used(now), window.frees_at(now)),
            None => (0, None),
        }
    }
}
