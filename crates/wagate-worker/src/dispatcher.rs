//! The claim loop: takes due deliveries while it has room for them and
//! runs each attempt as its own task.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use wagate_store::Events;
use wagate_store::outbound::now_ms;

use crate::attempt::Dispatch;
use crate::batch::{Ready, prepare};
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
/// Attempts sent and waiting for their record's commit, per request that
/// may be in flight: a send does not wait for the previous one's fsync,
/// and what is unrecorded stays bounded.
const UNRECORDED_PER_SENDING: usize = 4;

/// What one claimed delivery holds until it is done: room to send
/// (given back once the receiver answered) and room until recorded.
struct Room {
    sending: OwnedSemaphorePermit,
    unrecorded: OwnedSemaphorePermit,
}

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
    let sending = Arc::new(Semaphore::new(room));
    let unrecorded_room = room
        .saturating_mul(UNRECORDED_PER_SENDING)
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize);
    let unrecorded = Arc::new(Semaphore::new(unrecorded_room));
    let mut committed = dispatch.events.subscribe();
    let queued = dispatch.events.deliveries_queued();
    loop {
        if *stopping.borrow() {
            break;
        }
        // Room first, then the claim: a claimed delivery starts at once
        // instead of spending its visibility window queued in memory.
        let first = tokio::select! {
            room = both(&sending, &unrecorded) => room,
            _ = stopping.changed() => break,
        };
        let mut permits = vec![first];
        while permits.len() < batch {
            let (Ok(s), Ok(u)) = (
                sending.clone().try_acquire_owned(),
                unrecorded.clone().try_acquire_owned(),
            ) else {
                break;
            };
            permits.push(Room {
                sending: s,
                unrecorded: u,
            });
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
                match prepare(&dispatch.events, claimed).await {
                    Ok(ready) => {
                        for (ready, permit) in ready.into_iter().zip(permits) {
                            spawn_attempt(&dispatch, ready, permit);
                        }
                    }
                    // Left claimed: the claims run out and are tried again.
                    Err(e) => tracing::error!("reading claimed webhook deliveries failed: {e}"),
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
            _ = queued.notified() => {}
            _ = committed.changed() => {}
            _ = stopping.changed() => break,
        }
    }
    // Drained: every permit back means every attempt has been recorded.
    let _ = unrecorded.acquire_many(unrecorded_room as u32).await;
}

/// Waits for room to send and room to record.
async fn both(sending: &Arc<Semaphore>, unrecorded: &Arc<Semaphore>) -> Room {
    let unrecorded = unrecorded.clone().acquire_owned().await;
    let sending = sending.clone().acquire_owned().await;
    Room {
        sending: sending.expect("the semaphore is never closed"),
        unrecorded: unrecorded.expect("the semaphore is never closed"),
    }
}

fn spawn_attempt(dispatch: &Arc<Dispatch>, ready: Ready, room: Room) {
    let dispatch = dispatch.clone();
    tokio::spawn(async move {
        let Room {
            sending,
            unrecorded,
        } = room;
        // Failures are logged by the attempt's span; the claim's expiry
        // retries them.
        let _ = dispatch.attempt(ready, sending).await;
        drop(unrecorded);
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
