//! Routes each stanza a client sends to what handles it.

use crate::conn::{Conn, Role};
use crate::iq::Answer;
use crate::nodes::{attr, iq_error};
use crate::world::{Awaiting, World};
use std::sync::Arc;
use wacore_binary::Node;

pub async fn handle(world: &Arc<World>, conn: &mut Conn, node: Node) {
    match node.tag.as_ref() {
        "iq" => on_iq(world, conn, node).await,
        "message" => {
            if let Role::Device(from) = &conn.role {
                crate::routing::on_message(world, conn, from.clone(), node).await;
            }
        }
        "receipt" => {
            if let Role::Device(from) = &conn.role {
                crate::routing::on_receipt(world, conn, from.clone(), &node);
            }
        }
        // A message the client could not use is acked rather than
        // receipted; either way it is not sent again.
        "ack" if attr(&node, "class").as_deref() == Some("message") => {
            if let Some(id) = attr(&node, "id") {
                world.lock().acked(conn.id, &[id]);
            }
        }
        // Other acks, presence and chat states need no answer.
        _ => {}
    }
}

async fn on_iq(world: &Arc<World>, conn: &mut Conn, node: Node) {
    let kind = attr(&node, "type").unwrap_or_default();
    if kind == "result" || kind == "error" {
        let id = attr(&node, "id").unwrap_or_default();
        let awaited = world.lock().awaiting.remove(&id);
        if let Some(Awaiting::PairSuccess {
            phone,
            device,
            conn: c,
        }) = awaited
        {
            crate::pairing::on_pair_answer(world, &phone, device, c, &node);
        }
        return;
    }
    let answer = match &conn.role {
        Role::Device(addr) => crate::iq::answer(world, conn, addr.clone(), &node).await,
        Role::Pairing => crate::iq::answer_pairing(world, conn, &node).await.into(),
    };
    match answer {
        Answer::Send(reply) => conn.handle.send(reply),
        Answer::Done => {}
        Answer::Unknown => conn
            .handle
            .send(iq_error(&node, 501, "feature-not-implemented")),
    }
}
