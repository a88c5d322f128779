//! Parallel sending within one session. A session writing to many
//! recipients would otherwise send one message at a time, each waiting
//! for the client's encryption and store round trip; lanes let messages
//! to different recipients be on their way at once, while messages to one
//! recipient still go out strictly one after another, in queue order.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

pub(super) struct Lanes {
    /// Sends running (or lined up behind their recipient's last one).
    slots: Arc<Semaphore>,
    /// The last send started to each recipient: the next one waits for it.
    tails: HashMap<String, JoinHandle<()>>,
}

impl Lanes {
    /// At most `width` sends at once; `1` sends strictly in queue order.
    pub fn new(width: usize) -> Lanes {
        Lanes {
            slots: Arc::new(Semaphore::new(width.max(1))),
            tails: HashMap::new(),
        }
    }

    /// Starts `send` once a slot is free and the previous send to
    /// `recipient` (if any) has finished.
    pub async fn start<F>(&mut self, recipient: String, send: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let before = self.tails.remove(&recipient);
        let task = tokio::spawn(async move {
            if let Some(before) = before {
                // A panicked predecessor still lets its successors go.
                let _ = before.await;
            }
            send.await;
            drop(slot);
        });
        self.tails.insert(recipient, task);
    }

    /// Waits for every send started.
    pub async fn finish(self) {
        for tail in self.tails.into_values() {
            let _ = tail.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[tokio::test]
    async fn one_recipient_in_order_and_others_alongside() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lanes = Lanes::new(4);
        for (to, n, ms) in [("a", 1, 30), ("b", 1, 0), ("a", 2, 0), ("b", 2, 0)] {
            let log = log.clone();
            lanes
                .start(to.to_string(), async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    log.lock().unwrap().push(format!("{to}{n}"));
                })
                .await;
        }
        lanes.finish().await;
        let log = log.lock().unwrap().clone();
        let at = |s: &str| log.iter().position(|x| x == s).unwrap();
        assert!(at("a1") < at("a2") && at("b1") < at("b2"), "{log:?}");
        // b's messages did not wait behind a's slow first one.
        assert!(at("b2") < at("a1"), "{log:?}");
    }

    #[tokio::test]
    async fn width_one_is_queue_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lanes = Lanes::new(1);
        for (to, ms) in [("a", 20), ("b", 0), ("c", 10)] {
            let log = log.clone();
            lanes
                .start(to.to_string(), async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    log.lock().unwrap().push(to);
                })
                .await;
        }
        lanes.finish().await;
        assert_eq!(*log.lock().unwrap(), ["a", "b", "c"]);
    }
}
