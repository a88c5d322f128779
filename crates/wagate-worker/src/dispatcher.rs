//! The claim loop: takes due deliveries while it has room for them and
//! runs each attempt as its own task.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use wagate_store::Events;
use wagate_store::outbound::now_ms;

use crate::attempt::Dispatch;
use crate::render::Render;
use crate::settings::DispatchSettings;

/// The longest the loop sleeps without looking at the table: a delivery
/// made due by another process (a resend through another node) waits at
/// most this long.
const LONGEST_NAP: Duration = Duration::from_secs(5);
/// The shortest: a delivery reported due that a claim did not find (one
/// just recorded) is looked for again without spinning.
const SHORTEST_NAP: Duration = Duration::from_millis(10);
/// The pause after a claim failed (the database is unwell).
const CLAIM_FAILED_PAUSE: Duration = Duration::from_secs(1);

/// The running webhook dispatcher.
pub struct Dispatcher {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Dispatcher {
    /// Starts delivering `events`' due deliveries, rendering each body
    /// with `render`.
    pub fn start(
        events: Events,
        settings: DispatchSettings,
        render: Arc<dyn Render>,
    ) -> Dispatcher {
        let wake = Arc::new(Notify::new());
        let (stop, stopping) = watch::channel(false);
        let dispatch = Arc::new(Dispatch {
            events,
            settings,
            render,
            wake: wake.clone(),
        });
        let task = tokio::spawn(claim_loop(dispatch, stopping));
        Dispatcher { wake, stop, task }
    }

    /// Looks for due deliveries now, e.g. after a resend or a replay queued
    /// some (appended events wake the dispatcher by themselves).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops claiming and waits for the attempts under way to be recorded.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!("the webhook dispatcher failed: {e}");
        }
    }
}

async fn claim_loop(dispatch: Arc<Dispatch>, mut stopping: watch::Receiver<bool>) {
    let settings = &dispatch.settings;
    let room = (settings.max_in_flight)
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize)
        .max(1);
    let batch = settings.claim_batch.max(1) as usize;
    let in_flight = Arc::new(Semaphore::new(room));
    let mut committed = dispatch.events.subscribe();
    loop {
        if *stopping.borrow() {
            break;
        }
        // Room first, then the claim: a claimed delivery starts at once
        // instead of spending its visibility window queued in memory.
        let first = tokio::select! {
            permit = in_flight.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = stopping.changed() => break,
        };
        let mut permits = vec![first];
        while permits.len() < batch {
            match in_flight.clone().try_acquire_owned() {
                Ok(permit) => permits.push(permit),
                Err(_) => break,
            }
        }
        // Seen before claiming: an event committed from here on wakes the
        // nap below even if this claim just missed it.
        committed.borrow_and_update();
        let asked = permits.len();
        match dispatch
            .events
            .claim_deliveries(asked as u32, settings.visibility)
            .await
        {
            Ok(claimed) => {
                let more_due = claimed.len() == asked;
                for (delivery, permit) in claimed.into_iter().zip(permits) {
                    spawn_attempt(&dispatch, delivery, permit);
                }
                if more_due {
                    continue;
                }
            }
            Err(e) => {
                tracing::error!("claiming webhook deliveries failed: {e}");
                drop(permits);
                tokio::select! {
                    _ = tokio::time::sleep(CLAIM_FAILED_PAUSE) => continue,
                    _ = stopping.changed() => break,
                }
            }
        }
        let nap = until_due(&dispatch.events).await;
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = dispatch.wake.notified() => {}
            _ = committed.changed() => {}
            _ = stopping.changed() => break,
        }
    }
    // Drained: every permit back means every attempt has been recorded.
    let _ = in_flight.acquire_many(room as u32).await;
}

fn spawn_attempt(
    dispatch: &Arc<Dispatch>,
    delivery: wagate_store::events::ClaimedDelivery,
    permit: OwnedSemaphorePermit,
) {
    let dispatch = dispatch.clone();
    tokio::spawn(async move {
        // Failures are logged by the attempt's span; the claim's expiry
        // retries them.
        let _ = dispatch.attempt(delivery).await;
        drop(permit);
    });
}

/// How long until the next delivery falls due, within the nap bounds.
async fn until_due(events: &Events) -> Duration {
    match events.next_delivery_due().await {
        Ok(Some(at)) => {
            let wait = Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64);
            wait.clamp(SHORTEST_NAP, LONGEST_NAP)
        }
        Ok(None) => LONGEST_NAP,
        Err(e) => {
            tracing::warn!("reading when the next webhook delivery is due failed: {e}");
            LONGEST_NAP
        }
    }
}
