//! One session's sender: claims its due messages in order, paces them,
//! sends each with the id chosen at accept time and records what
//! WhatsApp answered. It idles while the session is not connected; the
//! messages wait in the queue, not in memory.

use super::acks::{AckReply, nack_is_permanent};
use super::outbox::Outbox;
use super::pacing::{DAY_MS, HOUR_MS, Hold, Pacer};
use crate::Engine;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wagate_core::SessionKey;
use wagate_core::outbound::{Content, MessageId, SendFailure};
use wagate_store::outbound::{Claimed, Outcome, now_ms};
use whatsapp_rust::Client;
use whatsapp_rust::send::SendOptions;

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
    ))
}

enum Drained {
    Sent,
    Wait(Duration),
}

async fn drain_once(
    outbox: &Arc<Outbox>,
    key: &SessionKey,
    client: &Arc<Client>,
    pacer: &mut Pacer,
    in_flight: &Arc<Semaphore>,
) -> Drained {
    // Settings changed through the API apply from the next batch on.
    if let Ok(overrides) = outbox.queue.policy(key).await {
        pacer.policy = outbox.settings.policy.with(&overrides);
    }
    if let Some(hold) = pacer.hourly_hold(now_ms()) {
        let _ = outbox
            .queue
            .set_paused(key, Some((hold.until_ms, &hold.reason)))
            .await;
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
    if claimed.is_empty() {
        let _ = outbox.queue.set_paused(key, None).await;
        let next = outbox.queue.next_due(key).await.ok().flatten();
        return Drained::Wait(next.map_or(IDLE_POLL, until).min(IDLE_POLL));
    }
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
        if send_one(outbox, key, client, &msg, pacer, permit).await {
            pacer.record_send(now_ms(), first_contact);
        }
    }
    Drained::Sent
}

fn until(ms: i64) -> Duration {
    Duration::from_millis((ms - now_ms()).max(0) as u64)
}

fn hold_back(outbox: &Outbox, id: &MessageId, hold: &Hold) {
    outbox.outcomes.record(Outcome::Retry {
        id: id.clone(),
        not_before_ms: hold.until_ms,
        reason: hold.reason.clone(),
        counts: false,
    });
}

/// Sends one message and leaves a task waiting for its ack. Returns
/// whether it went out.
async fn send_one(
    outbox: &Arc<Outbox>,
    key: &SessionKey,
    client: &Arc<Client>,
    msg: &Claimed,
    pacer: &Pacer,
    permit: OwnedSemaphorePermit,
) -> bool {
    let jid: whatsapp_rust::Jid = match msg.recipient.parse() {
        Ok(j) => j,
        Err(_) => {
            fail(
                outbox,
                msg,
                SendFailure::Permanent(format!("{} is not a WhatsApp address", msg.recipient)),
            );
            return false;
        }
    };
    let message =
        match super::build::build_message(client, &jid, &msg.body, outbox.media.as_ref()).await {
            Ok(m) => m,
            Err(f) => {
                fail(outbox, msg, f);
                return false;
            }
        };
    if pacer.policy.typing_ms > 0 && matches!(msg.body.content, Content::Text { .. }) {
        let chat = client.chatstate();
        let _ = chat.send_composing(&jid).await;
        tokio::time::sleep(Duration::from_millis(pacer.policy.typing_ms)).await;
        let _ = chat.send_paused(&jid).await;
    }
    let ack = outbox.acks.expect(msg.id.as_str());
    let options = SendOptions::default().with_message_id(msg.id.as_str());
    if let Err(e) = client
        .send_message_with_options(jid, message, options)
        .await
    {
        outbox.acks.forget(msg.id.as_str());
        let reason = format!("WhatsApp did not take the message: {e}");
        if client.is_logged_in() {
            fail(outbox, msg, SendFailure::Transient(reason));
        } else {
            // The connection dropped under us: no real try was made.
            retry(outbox, msg, reason, false);
        }
        return false;
    }
    let (outbox, key, msg) = (outbox.clone(), key.clone(), msg.clone());
    tokio::spawn(async move {
        let _permit = permit;
        match tokio::time::timeout(outbox.settings.ack_timeout, ack).await {
            Ok(Ok(AckReply::Acked { at_ms })) => {
                outbox.count(true);
                outbox.outcomes.record(Outcome::Sent {
                    key,
                    id: msg.id.clone(),
                    recipient: msg.recipient.clone(),
                    at_ms: at_ms.unwrap_or_else(now_ms),
                });
            }
            Ok(Ok(AckReply::Nacked { code })) => {
                let reason = format!("WhatsApp refused the message (error {code})");
                let failure = if nack_is_permanent(&code) {
                    SendFailure::Permanent(reason)
                } else {
                    SendFailure::Transient(reason)
                };
                fail(&outbox, &msg, failure);
            }
            Ok(Err(_)) | Err(_) => {
                outbox.acks.forget(msg.id.as_str());
                fail(
                    &outbox,
                    &msg,
                    SendFailure::Transient(
                        "WhatsApp did not acknowledge the message in time".into(),
                    ),
                );
            }
        }
    });
    true
}

fn retry(outbox: &Outbox, msg: &Claimed, reason: String, counts: bool) {
    let unit = rand::random::<f64>();
    let delay = if counts {
        outbox.settings.retry.delay(msg.attempts, unit)
    } else {
        Duration::from_secs(1)
    };
    outbox.outcomes.record(Outcome::Retry {
        id: msg.id.clone(),
        not_before_ms: now_ms() + delay.as_millis() as i64,
        reason,
        counts,
    });
}

/// Records a failed try: another one later, or the end.
fn fail(outbox: &Outbox, msg: &Claimed, failure: SendFailure) {
    match failure {
        SendFailure::Transient(reason) if !outbox.settings.retry.exhausted(msg.attempts) => {
            retry(outbox, msg, reason, true);
        }
        SendFailure::Transient(reason) => {
            outbox.count(false);
            outbox.outcomes.record(Outcome::Failed {
                id: msg.id.clone(),
                reason: format!("gave up after {} tries: {reason}", msg.attempts),
            });
        }
        SendFailure::Permanent(reason) => {
            outbox.count(false);
            outbox.outcomes.record(Outcome::Failed {
                id: msg.id.clone(),
                reason,
            });
        }
    }
}
