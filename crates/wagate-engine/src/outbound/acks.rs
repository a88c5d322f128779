//! Waiting for WhatsApp's `<ack>` of a sent message.
//!
//! `send_message` returns once the stanza is written; only the server's
//! ack says WhatsApp took it. The sender registers the message id before
//! it writes, and the session's event loop hands every `ServerAck` here.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// What the server said about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckReply {
    /// Taken; the server's timestamp, in ms, when it gave one.
    Acked { at_ms: Option<i64> },
    /// Refused with a code (e.g. 503 "try later", 479 bad stanza).
    Nacked { code: String },
}

#[derive(Default)]
pub struct AckWaiters {
    waiting: Mutex<HashMap<String, oneshot::Sender<AckReply>>>,
}

impl AckWaiters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<AckReply>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Call before sending, so a fast ack is not missed.
    pub fn expect(&self, id: &str) -> oneshot::Receiver<AckReply> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id.to_string(), tx);
        rx
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Hands an ack to whoever waits for it; acks nobody waits for (other
    /// stanzas, or a message whose wait timed out) are dropped.
    pub fn resolve(&self, id: &str, reply: AckReply) {
        if let Some(tx) = self.lock().remove(id) {
            let _ = tx.send(reply);
        }
    }
}

/// How a nack code is handled: WhatsApp's codes for "this will never
/// go" are final, everything else is worth another try.
pub fn nack_is_permanent(code: &str) -> bool {
    // 400 malformed, 404 no such recipient, 406 not acceptable, 463
    // missing privacy token (the recipient does not accept messages from
    // strangers), 479 invalid stanza.
    matches!(code, "400" | "404" | "406" | "463" | "479")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn acks_reach_their_waiter_once() {
        let w = AckWaiters::default();
        let rx = w.expect("A");
        w.resolve("B", AckReply::Acked { at_ms: None });
        w.resolve("A", AckReply::Nacked { code: "503".into() });
        assert_eq!(rx.await.unwrap(), AckReply::Nacked { code: "503".into() });
        let rx = w.expect("C");
        w.forget("C");
        assert!(rx.await.is_err());
        assert!(nack_is_permanent("479") && !nack_is_permanent("503"));
    }
}
