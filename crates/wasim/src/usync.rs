//! `usync`: who is on WhatsApp, each user's devices (with the signed key
//! index list for companions) and their LID.

use crate::nodes::{SERVER, attr, child, children, iq_result, split_jid};
use crate::world::World;
use buffa::Message as _;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp as wa;

pub fn answer(world: &World, iq: &Node) -> Node {
    let Some(usync) = child(iq, "usync") else {
        return crate::nodes::iq_error(iq, 400, "bad-request");
    };
    let asked: Vec<String> = child(usync, "query")
        .map(children)
        .unwrap_or_default()
        .iter()
        .map(|q| q.tag.to_string())
        .collect();
    let mut users = Vec::new();
    for user in child(usync, "list").map(children).unwrap_or_default() {
        if let Some(node) = user_result(world, user, &asked) {
            users.push(node);
        }
    }
    let mut out = NodeBuilder::new("usync");
    for key in ["sid", "mode", "context", "index"] {
        if let Some(v) = attr(usync, key) {
            out = out.attr(key, v);
        }
    }
    let result = NodeBuilder::new("result")
        .children(
            asked
                .iter()
                .map(|q| NodeBuilder::new_dynamic(q.clone()).build()),
        )
        .build();
    out = out
        .attr("last", "true")
        .children([result, NodeBuilder::new("list").children(users).build()]);
    iq_result(iq, vec![out.build()])
}

/// The phone number a `<user>` asks about, from its jid or `<contact>`.
fn asked_phone(world: &World, user: &Node) -> Option<(String, String)> {
    if let Some(jid) = attr(user, "jid") {
        let (u, _, server) = split_jid(&jid)?;
        let phone = world.phone_of(&u, &server)?;
        return Some((phone, jid));
    }
    let raw = child(user, "contact").and_then(crate::nodes::bytes)?;
    let digits: String = String::from_utf8_lossy(raw)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() >= 7).then(|| (digits.clone(), format!("{digits}@{SERVER}")))
}

fn user_result(world: &World, user: &Node, asked: &[String]) -> Option<Node> {
    let (phone, jid) = asked_phone(world, user)?;
    if !world.ensure_account(&phone) {
        return Some(not_on_whatsapp(&phone, asked));
    }
    let st = world.lock();
    let account = st.accounts.get(&phone)?;
    let mut parts = Vec::new();
    for q in asked {
        match q.as_str() {
            "devices" => parts.push(devices_node(account)),
            "lid" => parts.push(
                NodeBuilder::new("lid")
                    .attr("val", format!("{}@lid", account.lid))
                    .build(),
            ),
            "contact" => parts.push(NodeBuilder::new("contact").attr("type", "in").build()),
            _ => {}
        }
    }
    let user_jid = if jid.ends_with("@lid") {
        jid
    } else {
        format!("{phone}@{SERVER}")
    };
    Some(
        NodeBuilder::new("user")
            .attr("jid", user_jid)
            .children(parts)
            .build(),
    )
}

/// How the server answers for a number without WhatsApp: the contact is
/// "out", there are no devices, and there is no LID to give.
fn not_on_whatsapp(phone: &str, asked: &[String]) -> Node {
    let parts = asked.iter().filter_map(|q| match q.as_str() {
        "contact" => Some(NodeBuilder::new("contact").attr("type", "out").build()),
        "devices" => Some(
            NodeBuilder::new("devices")
                .children([NodeBuilder::new("device-list").build()])
                .build(),
        ),
        _ => None,
    });
    NodeBuilder::new("user")
        .attr("jid", format!("{phone}@{SERVER}"))
        .children(parts)
        .build()
}

fn devices_node(account: &crate::world::Account) -> Node {
    let mut list = vec![NodeBuilder::new("device").attr("id", "0").build()];
    for c in account
        .companions
        .values()
        .filter(|c| c.signed_identity.is_some())
    {
        list.push(
            NodeBuilder::new("device")
                .attr("id", c.id.to_string())
                .attr("key-index", c.key_index.to_string())
                .build(),
        );
    }
    let mut parts = vec![NodeBuilder::new("device-list").children(list).build()];
    if account
        .companions
        .values()
        .any(|c| c.signed_identity.is_some())
    {
        parts.push(key_index_list(account));
    }
    NodeBuilder::new("devices").children(parts).build()
}

fn key_index_list(account: &crate::world::Account) -> Node {
    let ts = crate::nodes::now();
    let mut valid: Vec<u32> = account.companions.values().map(|c| c.key_index).collect();
    valid.sort_unstable();
    let details = wa::ADVKeyIndexList {
        raw_id: Some(account.raw_id),
        timestamp: Some(ts),
        current_index: valid.last().copied(),
        valid_indexes: valid,
        ..Default::default()
    }
    .encode_to_vec();
    let mut to_sign = vec![6u8, 2];
    to_sign.extend_from_slice(&details);
    let signature = account
        .account_key
        .private_key()
        .calculate_signature(&to_sign, &mut rand::rng())
        .ok();
    let signed = wa::ADVSignedKeyIndexList {
        details: Some(details),
        account_signature: signature.map(|s| s.to_vec()),
        account_signature_key: Some(account.primary_identity.to_vec()),
    }
    .encode_to_vec();
    NodeBuilder::new("key-index-list")
        .attr("ts", ts.to_string())
        .bytes(signed)
        .build()
}
