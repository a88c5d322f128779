//! Sending one claimed message: build it, write it with the id chosen at
//! accept time, and leave a task waiting for WhatsApp's ack that records
//! the outcome.

use super::acks::{AckReply, nack_is_permanent};
use super::outbox::Outbox;
use super::pacing::Hold;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use wagate_core::outbound::{Content, MessageId, SendFailure};
use wagate_store::outbound::{Claimed, Outcome, now_ms};
use whatsapp_rust::Client;
use whatsapp_rust::send::SendOptions;

/// Puts a claimed message back untouched until `hold` ends.
pub(super) fn hold_back(outbox: &Outbox, id: &MessageId, hold: &Hold) {
    outbox.outcomes.record(Outcome::Retry {
        id: id.clone(),
        not_before_ms: hold.until_ms,
        reason: hold.reason.clone(),
        counts: false,
    });
}

/// Sends one message and leaves a task waiting for its ack. Returns
/// whether it went out.
pub(super) async fn send_one(
    outbox: &Arc<Outbox>,
    client: &Arc<Client>,
    msg: &Claimed,
    typing_ms: u64,
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
    if typing_ms > 0 && matches!(msg.body.content, Content::Text { .. }) {
        let chat = client.chatstate();
        let _ = chat.send_composing(&jid).await;
        tokio::time::sleep(Duration::from_millis(typing_ms)).await;
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
    let (outbox, msg) = (outbox.clone(), msg.clone());
    tokio::spawn(async move {
        let _permit = permit;
        match tokio::time::timeout(outbox.settings.ack_timeout, ack).await {
            Ok(Ok(AckReply::Acked { at_ms })) => {
                outbox.count(true);
                outbox.outcomes.record(Outcome::Sent {
                    id: msg.id.clone(),
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
