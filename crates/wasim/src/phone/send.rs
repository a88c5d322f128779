//! What a phone sends: a contact's messages to an account's linked
//! devices, and the app-state key share a newly linked companion needs.

use super::address;
use crate::nodes::{SERVER, now};
use crate::world::{DeviceAddr, World};
use anyhow::{Context, Result};
use std::sync::Arc;
use wacore::send::stanza_type_from_message;
use wacore::types::message::EditAttribute;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp as wa;

/// A message a phone sends, and what its stanza says besides.
#[derive(Default)]
pub struct Outgoing {
    pub message: wa::Message,
    /// The stanza id; a fresh one when `None`.
    pub id: Option<String>,
    /// The push name in the stanza's `notify`; the account's when `None`.
    pub push_name: Option<String>,
    /// When the phone sent it (the stanza's `t`, Unix seconds); now when
    /// `None`. An earlier time stands for a message that waited while
    /// the account's devices were away.
    pub sent_at: Option<u64>,
}

/// A message id in the form WhatsApp clients generate.
fn new_id() -> String {
    format!("3EB0{}", hex::encode_upper(rand::random::<[u8; 9]>()))
}

/// The phone of `from_phone` sends `out` to every linked device of
/// `to_phone`. Returns the message id.
pub async fn send(
    world: &Arc<World>,
    from_phone: &str,
    to_phone: &str,
    out: Outgoing,
) -> Result<String> {
    let mut ids = send_all(world, from_phone, to_phone, vec![out]).await?;
    Ok(ids.remove(0))
}

/// Sends `batch` in order to every linked device of `to_phone`, returning
/// the ids. A device that is not connected finds them queued at its next
/// login; an account with no linked device gets nothing. The phone's
/// Signal state is taken once for the whole batch, so a burst costs little
/// more than its encryption.
pub async fn send_all(
    world: &Arc<World>,
    from_phone: &str,
    to_phone: &str,
    batch: Vec<Outgoing>,
) -> Result<Vec<String>> {
    for phone in [from_phone, to_phone] {
        anyhow::ensure!(world.ensure_account(phone), "{phone} is not on WhatsApp");
    }
    let (party, push_name, targets) = {
        let st = world.lock();
        let (Some(from), Some(to)) = (st.accounts.get(from_phone), st.accounts.get(to_phone))
        else {
            anyhow::bail!("{from_phone} or {to_phone} left WhatsApp while sending");
        };
        let targets: Vec<u16> = to
            .companions
            .values()
            .filter(|c| c.signed_identity.is_some())
            .map(|c| c.id)
            .collect();
        (from.primary.clone(), from.push_name.clone(), targets)
    };
    let mut party = party.lock().await;
    let mut ids = Vec::with_capacity(batch.len());
    for (n, out) in batch.into_iter().enumerate() {
        let id = out.id.unwrap_or_else(new_id);
        let notify = out.push_name.unwrap_or_else(|| push_name.clone());
        // What a receiver learns before decrypting: the kind of message,
        // and whether it edits or revokes an earlier one.
        let kind = stanza_type_from_message(&out.message);
        let edit = EditAttribute::infer_from_message(&out.message);
        for &device in &targets {
            let addr = (to_phone.to_string(), device);
            let enc = encrypt_for(world, &mut party, &addr, &out.message).await?;
            let mut node = NodeBuilder::new("message")
                .attr("from", format!("{from_phone}@{SERVER}"))
                .attr("id", id.clone())
                .attr("type", kind)
                .attr("t", out.sent_at.unwrap_or_else(now).to_string())
                .attr("notify", notify.clone());
            if let Some(edit) = &edit {
                node = node.attr("edit", edit.to_string_val().to_string());
            }
            world.deliver(&addr, node.children([enc]).build());
        }
        ids.push(id);
        // Encryption never waits, so a long burst would keep this worker
        // from the connections that carry it out.
        if n % 64 == 63 {
            tokio::task::yield_now().await;
        }
    }
    Ok(ids)
}

/// Encrypts for one device, starting a session from its bundle if needed.
async fn encrypt_for(
    world: &World,
    party: &mut crate::signal::SignalParty,
    to: &DeviceAddr,
    message: &wa::Message,
) -> Result<Node> {
    let addr = address(to);
    if !party.has_session(&addr) {
        let (keys, _) = crate::keys::take_bundle(&mut world.lock(), &to.0, to.1)
            .context("no bundle for device")?;
        let one_time = keys.one_time.first().copied();
        party.start_session(&addr, &keys, one_time).await?;
    }
    let (kind, body) = party.encrypt(&addr, message).await?;
    Ok(NodeBuilder::new("enc")
        .attr("v", "2")
        .attr("type", kind)
        .bytes(body)
        .build())
}

/// Once a new companion has uploaded prekeys, its phone sends it the
/// app-state sync key, as a real phone does right after linking.
///
/// `on_login` shares it again with a companion that already has it. The
/// simulator keeps no app state, so a client never learns its push name
/// from a sync and, on every login, waits 10 s for a key share before it
/// syncs; a fresh share ends that wait at once.
pub async fn maybe_share_app_state_keys(world: Arc<World>, me: DeviceAddr, on_login: bool) {
    let (party, key) = {
        let mut st = world.lock();
        let Some(account) = st.accounts.get_mut(&me.0) else {
            return;
        };
        let Some(c) = account.companions.get_mut(&me.1) else {
            return;
        };
        let first = !c.got_key_share && !c.keys.one_time.is_empty();
        if !(first || on_login && c.got_key_share) {
            return;
        }
        c.got_key_share = true;
        (account.primary.clone(), account.app_state_key.clone())
    };
    let share = wa::Message {
        protocol_message: buffa::MessageField::some(wa::message::ProtocolMessage {
            r#type: Some(wa::message::protocol_message::Type::APP_STATE_SYNC_KEY_SHARE),
            app_state_sync_key_share: buffa::MessageField::some(
                wa::message::AppStateSyncKeyShare { keys: vec![key] },
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut party = party.lock().await;
    let result: Result<()> = async {
        let enc = encrypt_for(&world, &mut party, &me, &share).await?;
        let node = NodeBuilder::new("message")
            .attr("from", format!("{}@{SERVER}", me.0))
            .attr("id", new_id())
            .attr("type", "text")
            .attr("category", "peer")
            .attr("t", now().to_string())
            .children([enc])
            .build();
        world.deliver(&me, node);
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(?me, "app-state key share failed: {e:#}");
    }
}
