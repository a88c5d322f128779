//! This process as a node of the gateway: registered in the database at
//! start, a heartbeat every 10 seconds with the sessions it holds the
//! lease of, marked stopped on a clean shutdown. A node that dies without
//! stopping is told apart by its heartbeats ending.

use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wagate_store::Store;
use wagate_store::domain::NewNode;

/// How often a running node reports; the API calls a node missing after
/// three missed heartbeats.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// What a node does unless told otherwise (`--roles`): serve the API, run
/// sessions, sends the queue and delivers webhooks.
pub const ROLES: [&str; 4] = ["api", "engine", "sender", "webhooks"];

/// How many sessions the node holds, asked at every heartbeat.
pub type HeldCount = Arc<dyn Fn() -> u32 + Send + Sync>;

/// A node registered but not yet beating: its engine is starting.
pub struct Registered {
    id: String,
    store: Store,
}

impl Registered {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Marks the node stopped without it ever serving (its engine failed).
    pub async fn abandon(self) {
        if let Err(err) = self.store.stop_node(&self.id, Utc::now()).await {
            tracing::warn!(node = %self.id, %err, "cannot mark the node stopped");
        }
    }

    /// Starts the heartbeats, each reporting `held()` sessions.
    pub fn beat(self, held: HeldCount) -> Node {
        let (stop, stopped) = oneshot::channel();
        let heartbeats = tokio::spawn(beat(self.store.clone(), self.id.clone(), held, stopped));
        Node {
            id: self.id,
            store: self.store,
            stop,
            heartbeats,
        }
    }
}

/// A registered node and its heartbeat loop.
pub struct Node {
    id: String,
    store: Store,
    stop: oneshot::Sender<()>,
    heartbeats: JoinHandle<()>,
}

impl Node {
    /// Registers this process as a new node reached at `address`.
    pub async fn register(
        store: Store,
        address: String,
        roles: Vec<String>,
    ) -> anyhow::Result<Registered> {
        let id = new_node_id();
        let node = NewNode {
            id: id.clone(),
            address,
            version: env!("CARGO_PKG_VERSION").to_string(),
            roles,
        };
        store.register_node(&node, Utc::now()).await?;
        tracing::info!(node = %id, "node registered");
        Ok(Registered { id, store })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Ends the heartbeats and marks the node stopped. A failure is only
    /// logged: the node then shows as missing, which is still true enough.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.heartbeats.await;
        if let Err(err) = self.store.stop_node(&self.id, Utc::now()).await {
            tracing::warn!(node = %self.id, %err, "cannot mark the node stopped");
        }
    }
}

/// `node_` and 16 random hex digits.
fn new_node_id() -> String {
    format!("node_{}", hex::encode(rand::random::<[u8; 8]>()))
}

async fn beat(store: Store, id: String, held: HeldCount, mut stopped: oneshot::Receiver<()>) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate, and registering was the first beat.
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        match store.node_heartbeat(&id, held(), Utc::now()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(node = %id, "this node's row is gone; heartbeat not recorded")
            }
            // A missed beat or two is harmless; the next one may get through.
            Err(err) => tracing::warn!(node = %id, %err, "heartbeat not recorded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_node_and_16_hex_digits() {
        let id = new_node_id();
        let digits = id.strip_prefix("node_").expect("the node_ prefix");
        assert_eq!(digits.len(), 16, "{id}");
        assert!(digits.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_ne!(new_node_id(), id, "ids are random");
    }
}
