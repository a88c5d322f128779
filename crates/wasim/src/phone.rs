//! The simulated primary devices: every account's phone (device 0). A phone
//! decrypts what is sent to it, answers with delivery receipts, sends
//! messages to other accounts' devices, and shares app-state keys with its
//! newly linked companions.

use crate::nodes::{SERVER, now};
use crate::routing::enc_payload;
use crate::world::{DeviceAddr, World};
use anyhow::{Context, Result};
use serde_json::json;
use std::sync::Arc;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use wacore_libsignal::protocol::ProtocolAddress;
use waproto::whatsapp as wa;

fn address(device: &DeviceAddr) -> ProtocolAddress {
    ProtocolAddress::new(&device.0, u32::from(device.1).into())
}

/// `phone`'s primary receives an `<enc>` from device `from`.
pub async fn receive(
    world: &Arc<World>,
    phone: &str,
    from: &DeviceAddr,
    id: &str,
    enc: &Node,
    as_jid: &str,
) {
    let Some((kind, body)) = enc_payload(enc) else {
        return;
    };
    let Some(party) = world.lock().accounts.get(phone).map(|a| a.primary.clone()) else {
        return;
    };
    let decrypted = party
        .lock()
        .await
        .decrypt(&address(from), &kind, &body)
        .await;
    let message = match decrypted {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(phone, ?from, "phone could not decrypt {id}: {e:#}");
            return;
        }
    };
    if from.0 == phone {
        // A companion's copy of its own outgoing message: nothing to show.
        return;
    }
    let summary = crate::content::summarize(&message, &|m| crate::media_glue::describe(world, m));
    if let Some(mut entry) = summary {
        entry["from"] = json!(from.0);
        entry["fromDevice"] = json!(from.1);
        entry["id"] = json!(id);
        entry["receivedAt"] = json!(chrono_now());
        entry["copies"] = json!(1);
        show_once(world, phone, entry);
    }
    let receipt = NodeBuilder::new("receipt")
        .attr("from", as_jid.to_string())
        .attr("id", id.to_string())
        .attr("t", now().to_string())
        .build();
    world.deliver(from, receipt);
}

/// A phone shows a message id from one sender once: a sender that sends
/// it again (a retry after a lost ack) adds a copy to the entry shown.
fn show_once(world: &World, phone: &str, entry: serde_json::Value) {
    let mut st = world.lock();
    let Some(account) = st.accounts.get_mut(phone) else {
        return;
    };
    let shown = account
        .inbox
        .iter_mut()
        .find(|e| e["id"] == entry["id"] && e["from"] == entry["from"]);
    match shown {
        Some(shown) => {
            let copies = shown["copies"].as_u64().unwrap_or(1);
            shown["copies"] = json!(copies + 1);
            world
                .counters
                .duplicate_messages
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        None => account.inbox.push(entry),
    }
}

pub fn chrono_now() -> String {
    time_fmt(now())
}

fn time_fmt(secs: u64) -> String {
    // RFC 3339 in UTC without a date crate.
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Receipts companions send about messages a phone sent.
pub fn record_receipt(world: &World, phone: &str, from: &DeviceAddr, ids: &[String], kind: &str) {
    if let Some(account) = world.lock().accounts.get_mut(phone) {
        for id in ids {
            account.receipts.push(json!({"id": id, "type": kind, "from": from.0, "device": from.1, "at": chrono_now()}));
        }
    }
}

/// The phone of `from_phone` sends `message` to every linked device of
/// `to_phone`. Returns the message id.
pub async fn send(
    world: &Arc<World>,
    from_phone: &str,
    to_phone: &str,
    message: &wa::Message,
) -> Result<String> {
    for phone in [from_phone, to_phone] {
        anyhow::ensure!(world.ensure_account(phone), "{phone} is not on WhatsApp");
    }
    let id = format!("3EB0{}", hex::encode_upper(rand::random::<[u8; 9]>()));
    let (party, push_name, targets) = {
        let st = world.lock();
        let from = &st.accounts[from_phone];
        let to = &st.accounts[to_phone];
        let targets: Vec<u16> = to
            .companions
            .values()
            .filter(|c| c.signed_identity.is_some())
            .map(|c| c.id)
            .collect();
        (from.primary.clone(), from.push_name.clone(), targets)
    };
    let mut party = party.lock().await;
    for device in targets {
        let addr = (to_phone.to_string(), device);
        let enc = encrypt_for(world, &mut party, &addr, message).await?;
        let node = NodeBuilder::new("message")
            .attr("from", format!("{from_phone}@{SERVER}"))
            .attr("id", id.clone())
            .attr("type", message_type(message))
            .attr("t", now().to_string())
            .attr("notify", push_name.clone())
            .children([enc])
            .build();
        world.deliver(&addr, node);
    }
    Ok(id)
}

fn message_type(m: &wa::Message) -> &'static str {
    let m = crate::content::unwrap(m);
    if m.conversation.is_some()
        || m.extended_text_message.as_option().is_some()
        || m.protocol_message.as_option().is_some()
    {
        "text"
    } else {
        "media"
    }
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
            .attr(
                "id",
                format!("3EB0{}", hex::encode_upper(rand::random::<[u8; 9]>())),
            )
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
