//! The simulated primary devices: every account's phone (device 0). A phone
//! decrypts what is sent to it, answers with delivery receipts, sends
//! messages to other accounts' devices, and shares app-state keys with its
//! newly linked companions.

mod send;

pub use send::{Outgoing, maybe_share_app_state_keys, send, send_all};

use crate::nodes::now;
use crate::routing::enc_payload;
use crate::world::{DeviceAddr, ReceivedPoll, World};
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
    remember_poll(world, phone, &from.0, id, &message);
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

/// A phone keeps the secret of each poll it is sent or sends: its votes
/// are encrypted with it, so without it the phone could not vote.
pub(crate) fn remember_poll(
    world: &World,
    phone: &str,
    creator: &str,
    id: &str,
    message: &wa::Message,
) {
    let inner = crate::content::unwrap(message);
    let Some(poll) = [
        &inner.poll_creation_message,
        &inner.poll_creation_message_v2,
        &inner.poll_creation_message_v3,
    ]
    .into_iter()
    .find_map(|p| p.as_option()) else {
        return;
    };
    // Senders put the secret on the outermost message; look inside too,
    // for one that wrapped the poll with its context.
    let secret = [message, inner]
        .into_iter()
        .find_map(|m| m.message_context_info.as_option()?.message_secret.clone());
    let Some(secret) = secret else {
        tracing::warn!(
            phone,
            creator,
            "poll {id} has no message secret; it cannot be voted on"
        );
        return;
    };
    let received = ReceivedPoll {
        secret,
        options: poll
            .options
            .iter()
            .filter_map(|o| o.option_name.clone())
            .collect(),
        selectable: poll.selectable_options_count.unwrap_or(0),
    };
    if let Some(account) = world.lock().accounts.get_mut(phone) {
        account
            .polls
            .insert((creator.to_string(), id.to_string()), received);
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
