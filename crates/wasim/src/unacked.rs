//! Messages handed to a companion that it has not acknowledged yet.
//!
//! WhatsApp keeps a message until the device says it took it (its
//! `<receipt>`, or a transport `<ack>` for one it could not use). A
//! connection that ends first — the client crashed, the socket dropped —
//! leaves the message due again: it goes back to the front of the device's
//! offline queue, ahead of what arrived meanwhile, and the next login gets
//! it. A client that made the message durable before acking it thus loses
//! nothing to a crash, and one that acks too early is the one to blame.

use crate::nodes::attr;
use crate::world::{ConnId, DeviceAddr, WorldState};
use std::collections::{BTreeMap, HashMap};
use wacore_binary::Node;

/// What one connection was sent and has not acknowledged, in the order
/// it was sent.
pub struct Unacked {
    device: DeviceAddr,
    next: u64,
    by_order: BTreeMap<u64, Node>,
    order_of: HashMap<String, u64>,
}

impl Unacked {
    fn new(device: DeviceAddr) -> Unacked {
        Unacked {
            device,
            next: 0,
            by_order: BTreeMap::new(),
            order_of: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_order.len()
    }
}

impl WorldState {
    /// Notes that `node` went to `device` over `conn`. Only messages wait
    /// for an ack; receipts and notifications are not kept.
    pub fn sent_unacked(&mut self, conn: ConnId, device: &DeviceAddr, node: &Node) {
        let Some(id) = attr(node, "id").filter(|_| node.tag == "message") else {
            return;
        };
        let pending = self
            .unacked
            .entry(conn)
            .or_insert_with(|| Unacked::new(device.clone()));
        let order = pending.next;
        pending.next += 1;
        if let Some(earlier) = pending.order_of.insert(id, order) {
            pending.by_order.remove(&earlier);
        }
        pending.by_order.insert(order, node.clone());
    }

    /// The device on `conn` acknowledged these message ids.
    pub fn acked(&mut self, conn: ConnId, ids: &[String]) {
        let Some(pending) = self.unacked.get_mut(&conn) else {
            return;
        };
        for id in ids {
            if let Some(order) = pending.order_of.remove(id) {
                pending.by_order.remove(&order);
            }
        }
    }

    /// `conn` ended: what it left unacknowledged is due again, first, on
    /// the device's next connection. Returns the device and the messages
    /// when it is already back on another connection (a login that
    /// replaced this one), for the caller to send there; `None` when they
    /// were queued (or the device is gone).
    pub fn requeue_unacked(&mut self, conn: ConnId) -> Option<(DeviceAddr, Vec<Node>)> {
        let pending = self.unacked.remove(&conn)?;
        let device = pending.device;
        let still_linked = self
            .accounts
            .get(&device.0)
            .is_some_and(|a| a.companions.contains_key(&device.1));
        if !still_linked || pending.by_order.is_empty() {
            return None;
        }
        let nodes: Vec<Node> = pending.by_order.into_values().collect();
        if self.online.contains_key(&device) {
            return Some((device, nodes));
        }
        let queued = self.offline.entry(device).or_default();
        let later = std::mem::replace(queued, nodes);
        queued.extend(later);
        None
    }

    /// Messages sent and not yet acknowledged, over every connection.
    pub fn unacked_count(&self) -> usize {
        self.unacked.values().map(Unacked::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Account, Companion};
    use wacore_binary::builder::NodeBuilder;

    fn message(id: &str) -> Node {
        NodeBuilder::new("message").attr("id", id).build()
    }

    fn ids(nodes: &[Node]) -> Vec<String> {
        nodes.iter().filter_map(|n| attr(n, "id")).collect()
    }

    fn linked(device: &DeviceAddr) -> WorldState {
        let mut st = WorldState::default();
        let mut account = Account::new(&device.0);
        let companion = Companion {
            id: device.1,
            noise_pub: [0; 32],
            key_index: 1,
            keys: Default::default(),
            signed_identity: None,
            got_key_share: false,
        };
        account.companions.insert(device.1, companion);
        st.accounts.insert(device.0.clone(), account);
        st
    }

    #[test]
    fn unacked_messages_come_back_first_in_the_order_sent() {
        let me: DeviceAddr = ("15550001111".into(), 3);
        let mut st = linked(&me);
        for id in ["a", "b", "c", "d"] {
            st.sent_unacked(7, &me, &message(id));
        }
        // Receipts are not messages: nothing to redeliver.
        st.sent_unacked(7, &me, &NodeBuilder::new("receipt").attr("id", "r").build());
        st.acked(7, &["b".to_string(), "unknown".to_string()]);
        assert_eq!(st.unacked_count(), 3);
        // Arrived while the device was away, after the others.
        st.offline.insert(me.clone(), vec![message("e")]);
        assert!(st.requeue_unacked(7).is_none());
        assert_eq!(ids(&st.offline[&me]), ["a", "c", "d", "e"]);
        assert_eq!(st.unacked_count(), 0);
        // Once only: the connection's list is gone.
        assert!(st.requeue_unacked(7).is_none());
        assert_eq!(st.offline[&me].len(), 4);
    }

    #[test]
    fn a_device_back_on_another_connection_gets_them_there() {
        let me: DeviceAddr = ("15550001111".into(), 3);
        let mut st = linked(&me);
        st.sent_unacked(7, &me, &message("a"));
        st.online.insert(me.clone(), 8);
        let (device, nodes) = st.requeue_unacked(7).expect("sent on the new connection");
        assert_eq!(device, me);
        assert_eq!(ids(&nodes), ["a"]);
        assert!(!st.offline.contains_key(&me));
    }

    #[test]
    fn an_unlinked_device_gets_nothing_again() {
        let me: DeviceAddr = ("15550001111".into(), 3);
        let mut st = linked(&me);
        st.sent_unacked(7, &me, &message("a"));
        st.accounts.clear();
        assert!(st.requeue_unacked(7).is_none());
        assert!(st.offline.is_empty());
    }
}
