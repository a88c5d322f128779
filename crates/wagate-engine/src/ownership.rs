//! Which sessions this node may run: the ones whose lease it holds.
//!
//! A lease runs out `ttl` after the database granted it. The node cannot
//! know when that was on the database's clock, only when it asked on its
//! own monotonic one — which is earlier, so measuring from the ask is safe.
//! It trusts a lease for `trust_window` (two thirds of the TTL) from the
//! last ask that got through, and stops the session before then unless a
//! renewal vouched for it again. The margin covers clock rates and the time
//! a stop takes; fenced writes cover whatever still slips through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;
use wagate_core::{CoreError, Fence, SessionKey};
use wagate_store::Store;

/// Connections kept for taking and renewing leases.
const LEASE_POOL_SIZE: u32 = 2;

/// How this node holds sessions.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// This node's id, as registered in the database.
    pub node: Arc<str>,
    /// How long a lease lasts without renewal.
    pub ttl: Duration,
    /// One node serves the database (SQLite): a lease held under another
    /// node id there is a dead process's, taken at once at start.
    pub sole_node: bool,
}

impl LeaseSettings {
    pub fn renew_every(&self) -> Duration {
        self.ttl / 4
    }

    pub fn trust_window(&self) -> Duration {
        self.ttl * 2 / 3
    }
}

#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: i64,
    /// When the ask that last vouched for this lease was sent.
    vouched: Instant,
    /// When the database granted it: a renewal asked before then may not
    /// have seen it, so it says nothing about it.
    granted: Instant,
}

/// The leases this node holds, as far as it may trust them.
pub(crate) struct Ownership {
    pub settings: LeaseSettings,
    store: Store,
    held: Mutex<HashMap<SessionKey, Held>>,
}

impl Ownership {
    /// Leases are renewed over a pool of their own: behind a busy main
    /// pool a renewal would come late, and the node would drop sessions
    /// for being busy.
    pub fn new(settings: LeaseSettings, store: &Store) -> Self {
        Ownership {
            settings,
            store: Store::new(store.db().side_pool(LEASE_POOL_SIZE)),
            held: Mutex::new(HashMap::new()),
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<SessionKey, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes (or keeps) `key`'s lease. `steal` takes it from whoever holds
    /// it (a sole node's start). Answers the epoch and whether it is new to
    /// this node; `None` when another node holds it.
    pub async fn acquire(
        &self,
        key: &SessionKey,
        steal: bool,
    ) -> Result<Option<(i64, bool)>, CoreError> {
        let asked = Instant::now();
        let (node, ttl) = (&self.settings.node, self.settings.ttl);
        let lease = if steal {
            self.store.take_over_lease(key, node, ttl).await?
        } else {
            self.store.acquire_lease(key, node, ttl).await?
        };
        let Some(lease) = lease else {
            return Ok(None);
        };
        let before = self.held().insert(
            key.clone(),
            Held {
                epoch: lease.epoch,
                vouched: asked,
                granted: Instant::now(),
            },
        );
        Ok(Some((
            lease.epoch,
            before.is_none_or(|b| b.epoch != lease.epoch),
        )))
    }

    /// The epoch of `key` while this node may still act on it.
    pub fn trusted_epoch(&self, key: &SessionKey) -> Option<i64> {
        let held = self.held().get(key).copied()?;
        let trusted =
            self.settings.sole_node || held.vouched.elapsed() < self.settings.trust_window();
        trusted.then_some(held.epoch)
    }

    /// What this node's writes for `key` are fenced with. Without a lease
    /// the epoch is one no lease has, so the write lands nowhere.
    pub fn fence(&self, key: &SessionKey) -> Fence {
        let epoch = self.held().get(key).map_or(-1, |h| h.epoch);
        Fence {
            node: self.settings.node.clone(),
            epoch,
        }
    }

    /// Forgets `key` without asking the database: the lease is lost.
    pub fn forget(&self, key: &SessionKey) -> Option<i64> {
        self.held().remove(key).map(|h| h.epoch)
    }

    /// Gives `key` up: nobody runs it until asked to (logged out, unlinked,
    /// replaced by another login).
    pub async fn release(&self, key: &SessionKey) {
        if let Some(epoch) = self.forget(key)
            && let Err(e) = self
                .store
                .release_lease(key, &self.settings.node, epoch)
                .await
        {
            tracing::warn!(session = %key.session, "lease not released: {e}");
        }
    }

    /// Lets every lease run out now so other nodes take the sessions at
    /// once (a clean stop); a sole node's next start takes them back.
    pub async fn hand_over_all(&self) {
        let all: Vec<(SessionKey, Held)> = self.held().drain().collect();
        for (key, held) in all {
            if let Err(e) = self
                .store
                .hand_over_lease(&key, &self.settings.node, held.epoch)
                .await
            {
                tracing::warn!(session = %key.session, "lease not handed over: {e}");
            }
        }
    }

    /// Renews every lease; answers the sessions this node must stop: those
    /// the database did not renew, and all of them once no renewal got
    /// through within the trust window.
    pub async fn renew(&self) -> Vec<SessionKey> {
        let asked = Instant::now();
        // Past a third of the TTL a late answer vouches for little: the
        // next renewal is due, and the trust window is running out.
        let renewal = tokio::time::timeout(
            self.settings.ttl / 3,
            self.store
                .renew_leases(&self.settings.node, self.settings.ttl),
        )
        .await;
        let window = self.settings.trust_window();
        let mut held = self.held();
        let mut lost = Vec::new();
        match renewal {
            Ok(Ok(leases)) => {
                let renewed: HashMap<&SessionKey, i64> =
                    leases.iter().map(|l| (&l.key, l.epoch)).collect();
                for (key, h) in held.iter_mut() {
                    // Granted after the renewal was asked: the renewal may
                    // not have seen it.
                    if h.granted >= asked {
                        continue;
                    }
                    if renewed.get(key) == Some(&h.epoch) {
                        h.vouched = asked;
                    } else {
                        lost.push(key.clone());
                    }
                }
            }
            Ok(Err(e)) => tracing::warn!("leases not renewed: {e}"),
            Err(_) => tracing::warn!("leases not renewed: the database did not answer in time"),
        }
        // Alone on the database nobody else can take a session when the
        // database is slow, so slowness is no reason to stop it there.
        for key in &lost {
            held.remove(key);
        }
        if !self.settings.sole_node {
            let untrusted: Vec<SessionKey> = held
                .iter()
                .filter(|(_, h)| h.vouched.elapsed() >= window)
                .map(|(k, _)| k.clone())
                .collect();
            for key in untrusted {
                held.remove(&key);
                lost.push(key);
            }
        }
        lost
    }

    /// Sessions held now: the node's `sessionCount`.
    pub fn count(&self) -> usize {
        self.held().len()
    }
}
