//! The loop that keeps this node's leases: every quarter TTL it renews
//! them, stops the sessions it lost (or can no longer trust), takes over
//! sessions whose node died, up to its even share, and (with other nodes
//! about) looks for queued messages of its sessions that no notification
//! announced.

use crate::Engine;
use rand::seq::SliceRandom;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wagate_core::SessionKey;

/// Orphans looked at per wanted one: nodes racing for the same orphans
/// each shuffle a wider list, so they mostly try different ones.
const ORPHAN_SPREAD: i64 = 4;

pub(crate) struct Keeper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Keeper {
    pub fn start(engine: Arc<Engine>) -> Keeper {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(keep(engine, stopped));
        Keeper { stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn keep(engine: Arc<Engine>, mut stopped: oneshot::Receiver<()>) {
    let mut ticks = tokio::time::interval(engine.leases.settings.renew_every());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Restoring just took the leases: the first renewal is a tick away.
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        let lost = engine.leases.renew().await;
        if !lost.is_empty() {
            tracing::warn!(
                sessions = lost.len(),
                "leases lost; stopping those sessions"
            );
            futures::future::join_all(lost.iter().map(|key| engine.lose(key))).await;
        }
        if let Err(e) = engine.take_orphans().await {
            tracing::warn!("orphaned sessions not taken over: {e:#}");
        }
        if !engine.leases.settings.sole_node
            && let Err(e) = engine.wake_held_with_work().await
        {
            tracing::warn!("queued messages not looked for: {e:#}");
        }
    }
}

impl Engine {
    /// Takes over sessions whose node let their lease run out, as many as
    /// this node's even share allows, and runs them from the database:
    /// the credentials are there, so no new QR.
    async fn take_orphans(&self) -> anyhow::Result<()> {
        let node = self.leases.settings.node.clone();
        let census = self.store.lease_census(&node).await?;
        let wanted = census.orphans_to_take();
        if wanted == 0 {
            return Ok(());
        }
        let limit = u32::try_from(wanted * ORPHAN_SPREAD).unwrap_or(u32::MAX);
        let mut orphans: Vec<SessionKey> = self.store.orphaned_sessions(limit).await?;
        orphans.shuffle(&mut rand::thread_rng());
        let mut taken = 0;
        for key in orphans {
            if taken >= wanted {
                break;
            }
            if !self.claim_session(&key, false).await? {
                continue;
            }
            taken += 1;
            tracing::info!(session = %key.session, "taking over a session whose node stopped renewing");
            self.take_up(key).await?;
        }
        Ok(())
    }
}
