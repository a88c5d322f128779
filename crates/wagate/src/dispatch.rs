//! Where the webhook dispatcher plugs into the binary: the payload shapes
//! of wagate-core render each event for its endpoint.

use crate::config::Webhooks;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use wagate_core::events::{Event, EventData, EventKind, WebhookShape, render};
use wagate_store::Events;
use wagate_store::events::{Endpoint, StoredEvent};
use wagate_worker::{DispatchSettings, Dispatcher, Render};

/// Renders an event in the endpoint's chosen shape (native, seed000,
/// seed003); `None` where that shape has no form for the event.
struct ShapedRender;

impl Render for ShapedRender {
    fn render(
        &self,
        endpoint: &Endpoint,
        event: &StoredEvent,
        dispatched_at: DateTime<Utc>,
    ) -> Option<Vec<u8>> {
        let shape = WebhookShape::parse(&endpoint.shape)?;
        let kind = EventKind::parse(&event.kind)?;
        let data = match EventData::from_json(kind, event.data.clone()) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(event = %event.id, "stored event does not read back: {e}");
                return None;
            }
        };
        let event = Event {
            id: event.id.clone(),
            seq: event.seq,
            tenant: event.key.tenant,
            session: event.key.session.clone(),
            created_at: event.created_at,
            data,
        };
        serde_json::to_vec(&render(shape, &event, dispatched_at)?).ok()
    }
}

/// Starts delivering the outbox's webhook deliveries.
pub fn start(events: Events, webhooks: &Webhooks) -> anyhow::Result<Dispatcher> {
    let mut settings = DispatchSettings::new(webhooks.policy())?;
    if let Some(delays) = &webhooks.retry_delays_ms {
        settings.retry.delays = delays.iter().map(|ms| Duration::from_millis(*ms)).collect();
    }
    Ok(Dispatcher::start(events, settings, Arc::new(ShapedRender)))
}
