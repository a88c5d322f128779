//! The engine's side of the outbound queue: settings, one sender task
//! per session with work, and the hooks the session event loop calls
//! (connected, acks, receipts).

use super::acks::{AckReply, AckWaiters};
use super::build::MediaSource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use wagate_core::SessionKey;
use wagate_core::outbound::{OutboundStatus, RetrySchedule, SendPolicy};
use wagate_store::Outbound;
use wagate_store::outbound::{Outcome, OutcomeWriter};
use whatsapp_rust::types::events::{Receipt, ServerAck};
use whatsapp_rust::types::presence::ReceiptType;

/// How senders behave; from configuration.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// Pacing for sessions without their own settings.
    pub policy: SendPolicy,
    pub retry: RetrySchedule,
    /// A message WhatsApp has not acked by then is tried again.
    pub ack_timeout: Duration,
    /// Messages a sender claims at a time.
    pub claim_batch: u32,
    /// A claim older than this is taken to belong to a dead worker.
    pub visibility: Duration,
    /// Messages of one session awaiting their ack at once.
    pub max_in_flight: usize,
    /// Recipients one session sends to at once (each in queue order).
    pub parallel_recipients: usize,
    /// Who claims, in the queue's `claimed_by`.
    pub node: String,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            policy: SendPolicy::default(),
            retry: RetrySchedule::default(),
            ack_timeout: Duration::from_secs(20),
            claim_batch: 64,
            visibility: Duration::from_secs(120),
            max_in_flight: 64,
            parallel_recipients: 8,
            node: format!("node-{}", hex::encode(rand::random::<[u8; 4]>())),
        }
    }
}

/// What the engine needs to send queued messages.
pub struct Outbox {
    pub queue: Outbound,
    pub outcomes: OutcomeWriter,
    pub media: Arc<dyn MediaSource>,
    pub settings: OutboundSettings,
    pub(crate) acks: AckWaiters,
    /// The engine's counters: sends acked and messages given up on.
    pub(crate) metrics: std::sync::OnceLock<Arc<wagate_core::Metrics>>,
    senders: Mutex<HashMap<SessionKey, Arc<Notify>>>,
    /// Sessions whose pacing settings changed since their sender last
    /// loaded them.
    reload: Mutex<std::collections::HashSet<SessionKey>>,
}

impl Outbox {
    pub fn new(
        queue: Outbound,
        outcomes: OutcomeWriter,
        media: Arc<dyn MediaSource>,
        settings: OutboundSettings,
    ) -> Outbox {
        Outbox {
            queue,
            outcomes,
            media,
            settings,
            acks: AckWaiters::default(),
            metrics: std::sync::OnceLock::new(),
            senders: Mutex::new(HashMap::new()),
            reload: Mutex::new(std::collections::HashSet::new()),
        }
    }

    fn senders(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, Arc<Notify>>> {
        self.senders.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the session's sender, starting one if it has none.
    pub(crate) fn wake(&self, engine: &Weak<crate::Engine>, key: &SessionKey) {
        let mut senders = self.senders();
        if let Some(n) = senders.get(key) {
            n.notify_one();
            return;
        }
        let notify = Arc::new(Notify::new());
        senders.insert(key.clone(), notify.clone());
        tokio::spawn(super::sender::run(engine.clone(), key.clone(), notify));
    }

    /// The session's pacing settings changed: its sender loads them again
    /// before it sends anything more (the caller wakes it).
    pub(crate) fn mark_reload(&self, key: &SessionKey) {
        self.reload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone());
    }

    /// Whether the sender of `key` must load its settings again.
    pub(crate) fn take_reload(&self, key: &SessionKey) -> bool {
        self.reload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key)
    }

    /// A sender with nothing left leaves; work that arrives after this
    /// starts a new one.
    pub(crate) fn leave(&self, key: &SessionKey, me: &Arc<Notify>) {
        let mut senders = self.senders();
        if senders.get(key).is_some_and(|n| Arc::ptr_eq(n, me)) {
            senders.remove(key);
        }
    }

    pub(crate) fn count(&self, sent: bool) {
        if let Some(m) = self.metrics.get() {
            if sent {
                m.message_sent();
            } else {
                m.message_failed();
            }
        }
    }

    pub fn active_senders(&self) -> usize {
        self.senders().len()
    }

    pub(crate) fn on_ack(&self, ack: &ServerAck) {
        if ack.class.as_deref().is_some_and(|c| c != "message") {
            return;
        }
        let reply = match &ack.error {
            Some(code) => AckReply::Nacked { code: code.clone() },
            None => AckReply::Acked {
                at_ms: ack.timestamp.map(|t| t.timestamp_millis()),
            },
        };
        self.acks.resolve(&ack.id, reply);
    }

    pub(crate) fn on_receipt(&self, key: &SessionKey, receipt: &Receipt) {
        let status = match receipt.r#type {
            ReceiptType::Delivered | ReceiptType::Inactive => OutboundStatus::Delivered,
            ReceiptType::Read => OutboundStatus::Read,
            ReceiptType::Played => OutboundStatus::Played,
            _ => return,
        };
        if receipt.source.is_from_me {
            // Our own other devices reading a chat say nothing about the
            // recipient.
            return;
        }
        let at_ms = receipt.timestamp.timestamp_millis();
        for id in &receipt.message_ids {
            self.outcomes.record(Outcome::Receipt {
                key: key.clone(),
                id: id.to_string(),
                status,
                at_ms,
            });
        }
    }
}
