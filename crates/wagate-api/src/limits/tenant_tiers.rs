//! Each tenant's tier and limits, kept in memory so counting a message or
//! an API call does not query the database. An entry is read again after
//! [`REFRESH_AFTER`], so a change made by another gateway process over the
//! same database also takes effect; changes made through this process's
//! API drop the entries at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wagate_core::{CoreError, TenantId};
use wagate_store::Store;
use wagate_store::domain::TenantTier;

/// How long a tenant's tier is used before it is read again.
pub const REFRESH_AFTER: Duration = Duration::from_secs(30);

/// A tenant's tier and when it was read; `None`: no such tenant (nothing
/// to limit).
type Entry = (Instant, Option<Arc<TenantTier>>);

pub(super) struct TenantTiers {
    store: Store,
    cache: Mutex<HashMap<TenantId, Entry>>,
    /// Bumped by every change, so a read that began before a change does
    /// not put what it read in the cache after it.
    generation: AtomicU64,
}

impl TenantTiers {
    pub(super) fn new(store: Store) -> Self {
        TenantTiers {
            store,
            cache: Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }

    pub(super) async fn get(&self, tenant: TenantId) -> Result<Option<Arc<TenantTier>>, CoreError> {
        if let Some((read_at, tier)) = self.cache.lock().expect("tier cache").get(&tenant)
            && read_at.elapsed() < REFRESH_AFTER
        {
            return Ok(tier.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let tier = self.store.tenant_tier(tenant).await?.map(Arc::new);
        let mut cache = self.cache.lock().expect("tier cache");
        if self.generation.load(Ordering::SeqCst) == generation {
            cache.insert(tenant, (Instant::now(), tier.clone()));
        }
        Ok(tier)
    }

    /// Drops every entry: a tier's limits or a tenant's tier changed.
    pub(super) fn forget(&self) {
        let mut cache = self.cache.lock().expect("tier cache");
        self.generation.fetch_add(1, Ordering::SeqCst);
        cache.clear();
    }
}
