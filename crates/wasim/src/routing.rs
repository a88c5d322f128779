//! Message and receipt relay: what a client sends is acked, fanned out to
//! the addressed devices (simulated phones decrypt it; companions get it
//! live or on their next login) and answered with delivery receipts.

use crate::conn::Conn;
use crate::faults::AckMode;
use crate::nodes::{SERVER, attr, bytes, child, children, now, split_jid};
use crate::world::{ConnHandle, ConnId, DeviceAddr, World};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

/// One encrypted payload and the device it is for.
struct Addressed {
    jid: String,
    enc: Node,
}

fn addressed(node: &Node, to: &str) -> Vec<Addressed> {
    let mut out = Vec::new();
    if let Some(parts) = child(node, "participants") {
        for p in children(parts) {
            if let (Some(jid), Some(enc)) = (attr(p, "jid"), child(p, "enc")) {
                out.push(Addressed {
                    jid,
                    enc: enc.clone(),
                });
            }
        }
    }
    for enc in children(node).iter().filter(|c| c.tag == "enc") {
        out.push(Addressed {
            jid: to.to_string(),
            enc: enc.clone(),
        });
    }
    out
}

/// The code the server nacks a message to a number without WhatsApp with.
/// Neither whatsapp-rust 0.7 nor its tests name the real server's code;
/// its own nack log lists 404 as "recipient not found", so that is it.
const NOT_ON_WHATSAPP: &str = "404";

pub async fn on_message(world: &Arc<World>, conn: &Conn, from: DeviceAddr, node: Node) {
    let id = attr(&node, "id").unwrap_or_default();
    let to = attr(&node, "to").unwrap_or_default();
    let mode = if addressed_to_unregistered(world, &to) {
        AckMode::Nack(NOT_ON_WHATSAPP.into())
    } else {
        world.lock().ack_mode.clone()
    };
    match mode {
        AckMode::Normal => acknowledge(world, conn, &id, &to, None),
        AckMode::Withhold => {}
        AckMode::Nack(code) => {
            acknowledge(world, conn, &id, &to, Some(code));
            return;
        }
    }
    let sender_identity = child(&node, "device-identity").cloned();
    let kind = attr(&node, "type").unwrap_or_else(|| "text".into());
    for target in addressed(&node, &to) {
        let Some((user, device, server)) = split_jid(&target.jid) else {
            continue;
        };
        let Some(phone) = world.phone_of(&user, &server) else {
            continue;
        };
        if device == 0 {
            let peer_user_jid = if server == "lid" {
                format!("{user}@lid")
            } else {
                format!("{phone}@{SERVER}")
            };
            crate::phone::receive(world, &phone, &from, &id, &target.enc, &peer_user_jid).await;
            continue;
        }
        world
            .counters
            .messages_relayed
            .fetch_add(1, Ordering::Relaxed);
        let mut relayed = NodeBuilder::new("message")
            .attr("from", sender_jid(&from))
            .attr("id", id.clone())
            .attr("type", kind.clone())
            .attr("t", now().to_string());
        if from.0 == phone {
            relayed = relayed
                .attr("category", "peer")
                .attr("recipient", to.clone());
        }
        let mut content = vec![target.enc];
        content.extend(sender_identity.clone());
        world.deliver(&(phone, device), relayed.children(content).build());
    }
}

fn addressed_to_unregistered(world: &World, to: &str) -> bool {
    let Some((user, _, server)) = split_jid(to) else {
        return false;
    };
    world
        .phone_of(&user, &server)
        .is_some_and(|p| world.lock().unregistered.contains(&p))
}

/// `<ack class="message">` for a client's message, with `error` when the
/// server refuses it; late by the configured ack delay.
fn acknowledge(world: &World, conn: &Conn, id: &str, to: &str, error: Option<String>) {
    let mut ack = NodeBuilder::new("ack")
        .attr("class", "message")
        .attr("id", id.to_string())
        .attr("from", to.to_string())
        .attr("t", now().to_string());
    if let Some(code) = error {
        ack = ack.attr("error", code);
    }
    let ack = ack.build();
    let delay = world.counters.ack_delay_ms.load(Ordering::Relaxed);
    if delay == 0 {
        conn.handle.send(ack);
    } else {
        let handle = conn.handle.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            handle.send(ack);
        });
    }
}

/// `phone` or `phone:device` at the user server.
pub fn sender_jid(from: &DeviceAddr) -> String {
    if from.1 == 0 {
        format!("{}@{SERVER}", from.0)
    } else {
        format!("{}:{}@{SERVER}", from.0, from.1)
    }
}

/// Receipts a companion sends (delivered, read) go to the message's sender.
pub fn on_receipt(world: &World, conn: &Conn, from: DeviceAddr, node: &Node) {
    let id = attr(node, "id").unwrap_or_default();
    let to = attr(node, "to").unwrap_or_default();
    let kind = attr(node, "type");
    let mut ack = NodeBuilder::new("ack")
        .attr("class", "receipt")
        .attr("id", id.clone())
        .attr("from", to.clone());
    if let Some(k) = &kind {
        ack = ack.attr("type", k.clone());
    }
    conn.handle.send(ack.build());
    let mut ids = vec![id];
    if let Some(list) = child(node, "list") {
        ids.extend(children(list).iter().filter_map(|i| attr(i, "id")));
    }
    // Any receipt for a message, even a retry request, is the device
    // taking it: the server does not send it again.
    world.lock().acked(conn.id, &ids);
    let Some((user, _, server)) = split_jid(&to) else {
        return;
    };
    let Some(phone) = world.phone_of(&user, &server) else {
        return;
    };
    crate::phone::record_receipt(
        world,
        &phone,
        &from,
        &ids,
        kind.as_deref().unwrap_or("delivery"),
    );
}

/// Sends what waited for this device on connection `conn`, then the
/// end-of-offline marker. Each message stays due until acknowledged.
pub fn flush_offline(world: &World, me: &DeviceAddr, conn: ConnId, handle: &ConnHandle) {
    let mut st = world.lock();
    let queued = st.offline.remove(me).unwrap_or_default();
    let count = queued.len();
    for mut node in queued {
        node.attrs.insert("offline", "1");
        st.sent_unacked(conn, me, &node);
        handle.send(node);
    }
    drop(st);
    handle.send(
        NodeBuilder::new("ib")
            .children([NodeBuilder::new("offline")
                .attr("count", count.to_string())
                .build()])
            .build(),
    );
}

pub fn enc_payload(enc: &Node) -> Option<(String, Vec<u8>)> {
    Some((attr(enc, "type")?, bytes(enc)?.to_vec()))
}
