//! The prekey server: uploads from companions, counts and digests, and the
//! bundles others fetch to start Signal sessions.

use crate::iq::{key32, prekey_id};
use crate::nodes::{attr, bytes, child, children, iq_error, iq_result, split_jid, uint};
use crate::signal::PublishedKeys;
use crate::world::{DeviceAddr, World};
use std::collections::VecDeque;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

fn companion_keys<'a>(
    st: &'a mut crate::world::WorldState,
    me: &DeviceAddr,
) -> Option<&'a mut crate::world::DeviceKeys> {
    st.accounts
        .get_mut(&me.0)?
        .companions
        .get_mut(&me.1)
        .map(|c| &mut c.keys)
}

/// `<registration/><identity/><list><key/>…</list><skey/>`: stores what a
/// companion publishes.
pub fn upload(world: &World, me: &DeviceAddr, iq: &Node) -> Node {
    let mut st = world.lock();
    let Some(keys) = companion_keys(&mut st, me) else {
        return iq_error(iq, 404, "item-not-found");
    };
    if let Some(reg) = child(iq, "registration").and_then(uint) {
        keys.registration_id = reg;
    }
    if let Some(identity) = key32(child(iq, "identity")) {
        keys.identity = identity;
    }
    for key in child(iq, "list").map(children).unwrap_or_default() {
        if let (Some(id), Some(value)) = (prekey_id(key), key32(child(key, "value"))) {
            keys.one_time.insert(id, value);
        }
    }
    keys.one_time.shrink_to_fit();
    if let Some(skey) = child(iq, "skey") {
        store_signed_prekey(keys, skey);
    }
    iq_result(iq, vec![])
}

fn store_signed_prekey(keys: &mut crate::world::DeviceKeys, skey: &Node) {
    if let (Some(id), Some(value)) = (prekey_id(skey), key32(child(skey, "value"))) {
        keys.signed_prekey_id = id;
        keys.signed_prekey = value;
        keys.signed_prekey_signature = child(skey, "signature")
            .and_then(bytes)
            .unwrap_or_default()
            .to_vec();
    }
}

pub fn rotate(world: &World, me: &DeviceAddr, iq: &Node) -> Node {
    let mut st = world.lock();
    let Some(keys) = companion_keys(&mut st, me) else {
        return iq_error(iq, 404, "item-not-found");
    };
    if let Some(skey) = child(iq, "rotate").and_then(|r| child(r, "skey")) {
        store_signed_prekey(keys, skey);
    }
    iq_result(iq, vec![])
}

/// What the server holds for this device, so it can check its keys.
pub fn digest(world: &World, me: &DeviceAddr, iq: &Node) -> Option<Node> {
    let mut st = world.lock();
    let Some(keys) = companion_keys(&mut st, me) else {
        return Some(iq_error(iq, 404, "item-not-found"));
    };
    let ids: Vec<u32> = keys.one_time.keys().copied().collect();
    let pubs: Vec<[u8; 32]> = keys.one_time.values().copied().collect();
    let hash = wacore::prekeys::compute_key_bundle_digest(
        &keys.identity,
        &keys.signed_prekey,
        &keys.signed_prekey_signature,
        &pubs.iter().map(|p| p.as_slice()).collect::<Vec<_>>(),
    );
    let digest = NodeBuilder::new("digest")
        .children(
            identity_nodes(
                keys.registration_id,
                &keys.identity,
                keys.signed_prekey_id,
                &keys.signed_prekey,
                &keys.signed_prekey_signature,
            )
            .into_iter()
            .chain([
                NodeBuilder::new("list")
                    .children(
                        ids.iter()
                            .map(|id| NodeBuilder::new("id").bytes(id3(*id)).build()),
                    )
                    .build(),
                NodeBuilder::new("hash").bytes(hash.to_vec()).build(),
            ]),
        )
        .build();
    Some(iq_result(iq, vec![digest]))
}

fn id3(id: u32) -> Vec<u8> {
    id.to_be_bytes()[1..].to_vec()
}

/// What both a digest and a bundle start with: registration id, key type
/// (Curve25519), identity key and signed prekey.
fn identity_nodes(
    registration_id: u32,
    identity: &[u8; 32],
    signed_prekey_id: u32,
    signed_prekey: &[u8; 32],
    signature: &[u8],
) -> Vec<Node> {
    vec![
        NodeBuilder::new("registration")
            .bytes(registration_id.to_be_bytes().to_vec())
            .build(),
        NodeBuilder::new("type").bytes(vec![5]).build(),
        NodeBuilder::new("identity")
            .bytes(identity.to_vec())
            .build(),
        skey_node(signed_prekey_id, signed_prekey, signature),
    ]
}

fn skey_node(id: u32, value: &[u8; 32], signature: &[u8]) -> Node {
    NodeBuilder::new("skey")
        .children([
            NodeBuilder::new("id").bytes(id3(id)).build(),
            NodeBuilder::new("value").bytes(value.to_vec()).build(),
            NodeBuilder::new("signature")
                .bytes(signature.to_vec())
                .build(),
        ])
        .build()
}

/// A device's bundle, handing out (and using up) one one-time prekey.
pub fn take_bundle(
    st: &mut crate::world::WorldState,
    phone: &str,
    device: u16,
) -> Option<(PublishedKeys, Option<Vec<u8>>)> {
    let account = st.accounts.get_mut(phone)?;
    if device == 0 {
        let mut keys = account.primary_keys.clone();
        let one = (!account.primary_keys.one_time.is_empty())
            .then(|| account.primary_keys.one_time.remove(0));
        keys.one_time = one.into_iter().collect();
        return Some((keys, None));
    }
    let c = account.companions.get_mut(&device)?;
    let one = c.keys.one_time.pop_first();
    let keys = PublishedKeys {
        registration_id: c.keys.registration_id,
        identity: c.keys.identity,
        signed_prekey_id: c.keys.signed_prekey_id,
        signed_prekey: c.keys.signed_prekey,
        signed_prekey_signature: c.keys.signed_prekey_signature.clone(),
        one_time: one.into_iter().collect(),
    };
    Some((keys, c.signed_identity.clone()))
}

/// `<key><user jid/>…</key>` → a `<list>` of bundles.
pub fn fetch_bundles(world: &World, iq: &Node) -> Node {
    let mut st = world.lock();
    let mut users = Vec::new();
    for user in child(iq, "key").map(children).unwrap_or_default() {
        let Some(jid) = attr(user, "jid") else {
            continue;
        };
        let Some((user_part, device, server)) = split_jid(&jid) else {
            continue;
        };
        let phone = if server == "lid" {
            st.lid_to_phone.get(&user_part).cloned()
        } else {
            Some(user_part)
        };
        let bundle = phone.and_then(|p| take_bundle(&mut st, &p, device));
        let node = match bundle {
            Some((keys, identity)) => bundle_node(&jid, &keys, identity),
            None => NodeBuilder::new("user")
                .attr("jid", jid.clone())
                .children([NodeBuilder::new("error")
                    .attr("code", "404")
                    .attr("text", "item-not-found")
                    .build()])
                .build(),
        };
        users.push(node);
    }
    iq_result(iq, vec![NodeBuilder::new("list").children(users).build()])
}

pub fn bundle_node(jid: &str, keys: &PublishedKeys, device_identity: Option<Vec<u8>>) -> Node {
    let mut parts = identity_nodes(
        keys.registration_id,
        &keys.identity,
        keys.signed_prekey_id,
        &keys.signed_prekey,
        &keys.signed_prekey_signature,
    );
    if let Some((id, value)) = keys.one_time.first() {
        parts.push(
            NodeBuilder::new("key")
                .children([
                    NodeBuilder::new("id").bytes(id3(*id)).build(),
                    NodeBuilder::new("value").bytes(value.to_vec()).build(),
                ])
                .build(),
        );
    }
    if let Some(identity) = device_identity {
        parts.push(NodeBuilder::new("device-identity").bytes(identity).build());
    }
    NodeBuilder::new("user")
        .attr("jid", jid.to_string())
        .children(parts)
        .build()
}

/// A device's uploaded one-time prekeys, lowest id first. Clients upload
/// 812 at a time in ascending ids, so a sorted deque is the whole index:
/// uploads append, handing one out pops the front, and a key costs its 36
/// bytes instead of a share of a B-tree node (about half again as much,
/// times every device).
#[derive(Clone, Debug, Default)]
pub struct OneTimePrekeys(VecDeque<(u32, [u8; 32])>);

impl OneTimePrekeys {
    /// Adds a key, replacing one already stored under the same id.
    pub fn insert(&mut self, id: u32, key: [u8; 32]) {
        match self.0.back() {
            Some((last, _)) if *last >= id => match self.0.binary_search_by_key(&id, |(i, _)| *i) {
                Ok(at) => self.0[at].1 = key,
                Err(at) => self.0.insert(at, (id, key)),
            },
            _ => self.0.push_back((id, key)),
        }
    }

    /// Releases the slack an upload's growth left behind.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    pub fn pop_first(&mut self) -> Option<(u32, [u8; 32])> {
        self.0.pop_front()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &u32> {
        self.0.iter().map(|(id, _)| id)
    }

    pub fn values(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.0.iter().map(|(_, key)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::OneTimePrekeys;

    #[test]
    fn prekeys_stay_sorted_and_unique_whatever_the_upload_order() {
        let mut keys = OneTimePrekeys::default();
        for id in [5, 1, 9, 5, 3] {
            keys.insert(id, [id as u8; 32]);
        }
        keys.insert(9, [99; 32]);
        assert_eq!(keys.keys().copied().collect::<Vec<_>>(), [1, 3, 5, 9]);
        assert_eq!(keys.values().last(), Some(&[99; 32]));
        assert_eq!(keys.pop_first(), Some((1, [1; 32])));
        assert_eq!(keys.len(), 3);
    }
}
