use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counters shared by the API and the session engine, read by
/// the `/metrics` endpoint. Held in an `Arc`; no global registry, so every
/// test server counts on its own.
///
/// Who counts what: the engine's senders count messages WhatsApp acked
/// and messages given up on; the engine counts reconnect attempts.
#[derive(Debug, Default)]
pub struct Metrics {
    messages_sent: AtomicU64,
    messages_failed: AtomicU64,
    reconnects: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub messages_sent: u64,
    pub messages_failed: u64,
    pub reconnects: u64,
}

impl Metrics {
    pub fn message_sent(&self) {
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub fn message_failed(&self) {
        self.messages_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A session's connection dropped and the engine is connecting again.
    pub fn reconnect(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
            messages_failed: self.messages_failed.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let m = Metrics::default();
        m.message_sent();
        m.message_sent();
        m.message_failed();
        m.reconnect();
        assert_eq!(
            m.snapshot(),
            MetricsSnapshot {
                messages_sent: 2,
                messages_failed: 1,
                reconnects: 1
            }
        );
    }
}
