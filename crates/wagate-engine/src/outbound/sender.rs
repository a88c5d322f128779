//! One session's sender: claims its due messages in order, paces them,
//! sends each with the id chosen at accept time and records what
//! WhatsApp answered. It idles while the session is not connected; the
//! messages wait in the queue, not in memory.

use super::lanes::Lanes;
use super::outbox::Outbox;
use super::pacing::{DAY_MS, HOUR_MS, Pacer};
use super::send_one::{hold_back, send_one};
use crate::Engine;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use wagate_core::SessionKey;
use wagate_store::outbound::now_ms;
use whatsapp_rust::Client;

/// Longest nap of an idle sender before it looks at the queue again.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// A sender with an empty queue for this long leaves.
const IDLE_EXIT: Duration = Duration::from_secs(60);

pub(crate) async fn run(engine: Weak<Engine>, key: SessionKey, wake: Arc<Notify>) {
    let in_flight = match engine.upgrade() {
        Some(e) => Arc::new(Semaphore::new(e.outbox.settings.max_in_flight)),
        None => return,
    };
    let mut idle_since = tokio::time::Instant::now();
    let mut pacer: Option<Pacer> = None;
    loop {
        let Some(e) = engine.upgrade() else { return };
        let outbox = e.outbox.clone();
        let client = e.client_of(&key).filter(|c| c.is_logged_in());
        drop(e);
        let nap = match client {
            None => IDLE_POLL,
            Some(client) => {
                if pacer.is_none() {
                    pacer = load_pacer(&outbox, &key).await;
                }
                let Some(p) = pacer.as_mut() else {
                    nap(&wake, IDLE_POLL).await;
                    continue;
                };
                match drain_once(&outbox, &key, &client, p, &in_flight).await {
                    Drained::Sent => {
                        idle_since = tokio::time::Instant::now();
                        continue;
                    }
                    Drained::SentAll(d) => {
                        idle_since = tokio::time::Instant::now();
                        d
                    }
                    Drained::Wait(d) => d,
                }
            }
        };
        if nap >= IDLE_POLL && idle_since.elapsed() > IDLE_EXIT && queue_empty(&outbox, &key).await
        {
            outbox.leave(&key, &wake);
            // Work that arrived while leaving starts a new sender.
            if !queue_empty(&outbox, &key).await
                && let Some(e) = engine.upgrade()
            {
                e.wake_sender(&key);
            }
            return;
        }
        // The pacer only tracks first contacts while that cap is on;
        // after a pause its counts are read again from the queue, so a
        // cap switched on since then sees the day's real figures.
        if nap >= IDLE_POLL {
            pacer = None;
        }
        self::nap(&wake, nap).await;
    }
}

async fn nap(wake: &Notify, d: Duration) {
    let _ = tokio::time::timeout(d, wake.notified()).await;
}

async fn queue_empty(outbox: &Outbox, key: &SessionKey) -> bool {
    matches!(outbox.queue.next_due(key).await, Ok(None))
}

async fn load_pacer(outbox: &Outbox, key: &SessionKey) -> Option<Pacer> {
    let now = now_ms();
    let overrides = outbox.queue.policy(key).await.ok()?;
    let hour = outbox.queue.sent_since(key, now - HOUR_MS).await.ok()?;
    let day = outbox
        .queue
        .first_contacts_since(key, now - DAY_MS)
        .await
        .ok()?;
    Some(Pacer::new(
        outbox.settings.policy.with(&overrides),
        hour,
        day,
        now,
    ))
}

enum Drained {
    /// Sent a full batch; there may be more.
    Sent,
    /// Sent everything due; the next is due after this long.
    SentAll(Duration),
    /// Sent nothing; look again after this long.
    Wait(Duration),
}

async fn drain_once(
    outbox: &Arc<Outbox>,
    key: &SessionKey,
    client: &Arc<Client>,
    pacer: &mut Pacer,
    in_flight: &Arc<Semaphore>,
) -> Drained {
    // Settings changed through the API apply within a second, and at
    // once to a session a cap holds (the API wakes it to lift the cap).
    if (pacer.policy_is_stale() || pacer.hourly_hold(now_ms()).is_some())
        && let Ok(overrides) = outbox.queue.policy(key).await
    {
        pacer.set_policy(outbox.settings.policy.with(&overrides));
    }
    if let Some(hold) = pacer.hourly_hold(now_ms()) {
        if pacer.pause_recorded != Some(true) {
            let _ = outbox
                .queue
                .set_paused(key, Some((hold.until_ms, &hold.reason)))
                .await;
            pacer.pause_recorded = Some(true);
        }
        return Drained::Wait(until(hold.until_ms).min(IDLE_POLL));
    }
    let s = &outbox.settings;
    let claimed = match outbox
        .queue
        .claim(key, &s.node, s.claim_batch, s.visibility)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(session = %key.session, "cannot claim messages: {e}");
            return Drained::Wait(IDLE_POLL);
        }
    };
    // Settings changed through the API before any message in this batch
    // was queued apply to all of it: the flag is raised before the change
    // is answered, so it is up by the time the batch is claimed.
    if outbox.take_reload(key)
        && let Ok(overrides) = outbox.queue.policy(key).await
    {
        pacer.set_policy(outbox.settings.policy.with(&overrides));
    }
    if pacer.pause_recorded != Some(false) {
        // Cleared once, not on every batch: a write per batch would compete
        // with the queue's own commits.
        let _ = outbox.queue.set_paused(key, None).await;
        pacer.pause_recorded = Some(false);
    }
    if claimed.is_empty() {
        let next = outbox.queue.next_due(key).await.ok().flatten();
        return Drained::Wait(next.map_or(IDLE_POLL, until).min(IDLE_POLL));
    }
    // A short batch took everything due: another claim now would come
    // back empty (a write for nothing, per message when they trickle in).
    // Messages accepted meanwhile wake the sender anyway.
    let drained_all = claimed.len() < s.claim_batch as usize;
    let mut lanes = Lanes::new(outbox.settings.parallel_recipients);
    let mut rest = claimed.into_iter();
    while let Some(msg) = rest.next() {
        if let Some(hold) = pacer.hourly_hold(now_ms()) {
            // Everything claimed goes back untouched; the session waits.
            for m in std::iter::once(msg).chain(rest.by_ref()) {
                hold_back(outbox, &m.id, &hold);
            }
            break;
        }
        let first_contact = pacer.caps_first_contacts()
            && !outbox
                .queue
                .is_known_contact(key, &msg.recipient)
                .await
                .unwrap_or(true);
        if first_contact && let Some(hold) = pacer.first_contact_hold(now_ms()) {
            hold_back(outbox, &msg.id, &hold);
            continue;
        }
        tokio::time::sleep(pacer.gap_left()).await;
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        // Counted when it starts: a send that then fails before the wire
        // is tried again later, so the caps only err on the safe side.
        pacer.record_send(now_ms(), first_contact);
        let (outbox, client, typing) = (outbox.clone(), client.clone(), pacer.policy.typing_ms);
        let recipient = msg.recipient.clone();
        lanes
            .start(recipient, async move {
                send_one(&outbox, &client, &msg, typing, permit).await;
            })
            .await;
    }
    lanes.finish().await;
    if drained_all {
        let next = outbox.queue.next_due(key).await.ok().flatten();
        return Drained::SentAll(next.map_or(IDLE_POLL, until).min(IDLE_POLL));
    }
    Drained::Sent
}

fn until(ms: i64) -> Duration {
    Duration::from_millis((ms - now_ms()).max(0) as u64)
}
