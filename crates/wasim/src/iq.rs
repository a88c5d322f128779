//! Answers to the IQs a logged-in client sends. Anything not known here is
//! answered with an error by the caller, never left hanging.

use crate::conn::Conn;
use crate::nodes::{attr, bytes, child, children, iq_result, split_jid, uint};
use crate::world::{DeviceAddr, World};
use std::sync::Arc;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

/// What became of an IQ.
pub enum Answer {
    Send(Node),
    /// Already answered.
    Done,
    Unknown,
}

impl From<Option<Node>> for Answer {
    fn from(n: Option<Node>) -> Self {
        n.map_or(Answer::Unknown, Answer::Send)
    }
}

pub async fn answer(world: &Arc<World>, conn: &Conn, me: DeviceAddr, iq: &Node) -> Answer {
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    let first = children(iq)
        .first()
        .map(|c| c.tag.to_string())
        .unwrap_or_default();
    let reply = match (xmlns.as_str(), first.as_str()) {
        ("passive", _) => {
            // Going active is when WhatsApp pushes what queued up while the
            // device was away, then the end-of-offline marker.
            conn.handle.send(iq_result(iq, vec![]));
            if first == "active" {
                crate::routing::flush_offline(world, &me, conn.id, &conn.handle);
                crate::phone::maybe_share_app_state_keys(world.clone(), me.clone(), true).await;
            }
            return Answer::Done;
        }
        ("w:p", _) | ("urn:xmpp:ping", _) => Some(iq_result(iq, vec![])),
        ("encrypt", "key") => Some(crate::keys::fetch_bundles(world, iq)),
        ("encrypt", "count") => {
            let n = world
                .lock()
                .accounts
                .get(&me.0)
                .and_then(|a| a.companions.get(&me.1))
                .map_or(0, |c| c.keys.one_time.len());
            Some(iq_result(
                iq,
                vec![
                    NodeBuilder::new("count")
                        .attr("value", n.to_string())
                        .build(),
                ],
            ))
        }
        ("encrypt", "digest") => crate::keys::digest(world, &me, iq),
        ("encrypt", "rotate") => Some(crate::keys::rotate(world, &me, iq)),
        ("encrypt", _) if child(iq, "list").is_some() => {
            let reply = crate::keys::upload(world, &me, iq);
            crate::phone::maybe_share_app_state_keys(world.clone(), me, false).await;
            Some(reply)
        }
        ("usync", _) => Some(crate::usync::answer(world, iq)),
        ("w:m", "media_conn") => world
            .media
            .as_ref()
            .map(|m| iq_result(iq, vec![m.media_conn_node()])),
        ("w:sync:app:state", "sync") => Some(app_state(iq)),
        ("blocklist", _) => Some(iq_result(iq, vec![NodeBuilder::new("list").build()])),
        ("privacy", _) => Some(iq_result(iq, vec![NodeBuilder::new("privacy").build()])),
        ("abt", _) | ("w", "props") => Some(iq_result(
            iq,
            vec![
                NodeBuilder::new("props")
                    .attr("protocol", "1")
                    .attr("hash", "sim")
                    .build(),
            ],
        )),
        ("md", "remove-companion-device") => {
            let jid = child(iq, "remove-companion-device").and_then(|c| attr(c, "jid"));
            if let Some((_, device, _)) = jid.as_deref().and_then(split_jid) {
                crate::faults::unlink(world, &me.0, device);
            }
            Some(iq_result(iq, vec![]))
        }
        _ => {
            tracing::debug!(xmlns, first, "unanswered iq");
            None
        }
    };
    reply.into()
}

/// A device still pairing may only ping and ask for a pairing code.
pub async fn answer_pairing(world: &Arc<World>, conn: &Conn, iq: &Node) -> Option<Node> {
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    match xmlns.as_str() {
        "w:p" => Some(iq_result(iq, vec![])),
        "md" => crate::pair_code::on_companion_iq(world, conn, iq),
        _ => None,
    }
}

/// No account here has app state: every requested collection is answered
/// as empty and up to date.
fn app_state(iq: &Node) -> Node {
    let collections = child(iq, "sync")
        .map(children)
        .unwrap_or_default()
        .iter()
        .filter(|c| c.tag == "collection")
        .map(|c| {
            NodeBuilder::new("collection")
                .attr("name", attr(c, "name").unwrap_or_default())
                .attr("version", attr(c, "version").unwrap_or_else(|| "0".into()))
                .attr("has_more_patches", "false")
                .build()
        })
        .collect::<Vec<_>>();
    iq_result(
        iq,
        vec![NodeBuilder::new("sync").children(collections).build()],
    )
}

pub fn prekey_id(node: &Node) -> Option<u32> {
    child(node, "id").and_then(uint)
}

pub fn key32(node: Option<&Node>) -> Option<[u8; 32]> {
    node.and_then(bytes).and_then(|b| b.try_into().ok())
}
