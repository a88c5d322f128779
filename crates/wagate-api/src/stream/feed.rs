//! A client's position in the event log and the way forward from it.
//!
//! A feed holds no events of its own beyond the page it is handing out:
//! each wake of the outbox's watch channel makes it read the rows after its
//! cursor, so a slow client only falls behind in the table and catches up
//! from there, and a client that resumes is served from the same rows.

use super::Shutdown;
use chrono::Utc;
use std::collections::VecDeque;
use tokio::sync::watch;
use wagate_core::events::{Event, EventData, EventFilter, EventKind, WebhookShape, render};
use wagate_core::{CoreError, SessionId, TenantId};
use wagate_store::Events;
use wagate_store::events::StoredEvent;

/// Rows read from the database at a time; bounds what a client holds.
const PAGE: u32 = 100;

/// What a stream sends for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamItem {
    /// The public id (`evt_…`), for `Last-Event-ID`.
    pub id: String,
    pub kind: EventKind,
    /// The native payload, as a native webhook endpoint receives it.
    pub payload: serde_json::Value,
}

/// Which events a stream follows.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub tenant: TenantId,
    /// One session's events, or every session of the tenant.
    pub session: Option<SessionId>,
    pub filter: EventFilter,
    /// The `seq` of the last event the client has; the stream starts after it.
    pub after: i64,
}

/// Why a feed ended.
#[derive(Debug)]
pub enum FeedEnd {
    /// The server is shutting down.
    Stopping,
    /// Reading the outbox failed; the client may resume where it was.
    Failed(CoreError),
}

pub struct Feed {
    events: Events,
    subscription: Subscription,
    latest: watch::Receiver<i64>,
    stopping: watch::Receiver<bool>,
    page: VecDeque<StreamItem>,
}

impl Feed {
    pub fn new(events: Events, subscription: Subscription, shutdown: &Shutdown) -> Feed {
        Feed {
            latest: events.subscribe(),
            events,
            subscription,
            stopping: shutdown.subscribe(),
            page: VecDeque::new(),
        }
    }

    /// The next event the subscription wants, waiting for one to be
    /// committed when the client is up to date.
    ///
    /// Cancel-safe: state changes only between awaits, so a caller may
    /// drop the future (to send a ping, say) and call again.
    pub async fn next(&mut self) -> Result<StreamItem, FeedEnd> {
        loop {
            if *self.stopping.borrow() {
                return Err(FeedEnd::Stopping);
            }
            if let Some(item) = self.page.pop_front() {
                return Ok(item);
            }
            // Marked seen before the read: a commit published during the
            // read wakes the wait below, one published before it is in
            // the rows.
            self.latest.borrow_and_update();
            let sub = &self.subscription;
            let rows = self
                .events
                .after(sub.tenant, sub.session.as_ref(), sub.after, PAGE)
                .await
                .map_err(FeedEnd::Failed)?;
            if let Some(last) = rows.last() {
                self.subscription.after = last.seq;
                let filter = &self.subscription.filter;
                self.page
                    .extend(rows.iter().filter_map(|row| item(row, filter)));
                continue;
            }
            tokio::select! {
                changed = self.latest.changed() => {
                    // The outbox is gone: the server is going down.
                    if changed.is_err() {
                        return Err(FeedEnd::Stopping);
                    }
                }
                _ = self.stopping.wait_for(|stopping| *stopping) => {
                    return Err(FeedEnd::Stopping);
                }
            }
        }
    }
}

/// The stream item of a stored event, if the filter wants it.
fn item(row: &StoredEvent, filter: &EventFilter) -> Option<StreamItem> {
    let kind = EventKind::parse(&row.kind)?;
    if !filter.matches(kind) {
        return None;
    }
    let data = match EventData::from_json(kind, row.data.clone()) {
        Ok(data) => data,
        Err(e) => {
            // Skipped as the webhook dispatcher skips it: a payload that
            // does not read back cannot be rendered for anyone.
            tracing::error!(event = %row.id, "stored event does not read back: {e}");
            return None;
        }
    };
    let event = Event {
        id: row.id.clone(),
        seq: row.seq,
        tenant: row.key.tenant,
        session: row.key.session.clone(),
        created_at: row.created_at,
        data,
    };
    let payload = render(WebhookShape::Native, &event, Utc::now())?;
    Some(StreamItem {
        id: row.id.clone(),
        kind,
        payload,
    })
}
