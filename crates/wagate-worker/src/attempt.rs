//! One attempt of one claimed delivery: send it, and record what
//! happened in a single commit.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use wagate_core::CoreError;
use wagate_net::Url;
use wagate_net::webhook::{
    DeliveryOutcome, DeliveryRequest, EndpointHeaders, Verdict, WebhookSecret, deliver,
};
use wagate_store::Events;
use wagate_store::events::{
    Attempt, ClaimedDelivery, DeliveryState, Endpoint, NewEvent, StoredEvent,
};

use crate::batch::Ready;
use crate::next_step::{next_step, verdict_name};
use crate::render::Render;
use crate::settings::DispatchSettings;

/// What every attempt shares.
pub(crate) struct Dispatch {
    pub events: Events,
    pub settings: DispatchSettings,
    pub render: Arc<dyn Render>,
    /// Rouses the claim loop when an attempt schedules a retry sooner
    /// than the loop planned to look again.
    pub wake: Arc<Notify>,
}

impl Dispatch {
    /// Makes the attempt. An error leaves the delivery claimed; when the
    /// claim runs out it is tried again, with the same `webhook-id`.
    #[tracing::instrument(
        skip_all,
        fields(
            delivery = ready.claimed.id,
            endpoint = %ready.claimed.endpoint_id,
            attempt = ready.claimed.attempt
        ),
        err
    )]
    ///
    /// `sending` is given back as soon as the receiver has answered: the
    /// next request need not wait for this one's record to be committed.
    pub(crate) async fn attempt(
        &self,
        ready: Ready,
        sending: OwnedSemaphorePermit,
    ) -> Result<(), CoreError> {
        let events = &self.events;
        let claimed = ready.claimed;
        let Some(event) = ready.event else {
            return events
                .cancel_delivery(claimed.id, "the event no longer exists")
                .await;
        };
        let endpoint = match ready.endpoint {
            Some(endpoint) if endpoint.enabled => endpoint,
            Some(_) => {
                return events
                    .cancel_delivery(claimed.id, "endpoint disabled")
                    .await;
            }
            None => return events.cancel_delivery(claimed.id, "endpoint deleted").await,
        };
        let now = Utc::now();
        let Some(body) = self.render.render(&endpoint, &event, now) else {
            return events.skip_delivery(claimed.id).await;
        };
        let outcome = match request(&endpoint, &event, body, now) {
            Ok(request) => {
                let s = &self.settings;
                deliver(&s.client, &s.policy, request).await
            }
            Err(problem) => not_sent(problem),
        };
        drop(sending);
        let decided_at = Utc::now();
        let step = next_step(
            &self.settings.retry,
            claimed.attempt,
            endpoint.failing_since,
            &outcome,
            decided_at,
            &mut rand::thread_rng(),
        );
        if let Some(reason) = &step.disable {
            tracing::warn!(%reason, "disabling webhook endpoint");
        }
        let retrying = matches!(step.next, DeliveryState::RetryAt(_));
        let disable = step
            .disable
            .map(|reason| disabled_event(&endpoint, &event, reason));
        events
            .record_attempt(attempt_record(&claimed, &outcome, step.next, disable))
            .await?;
        if retrying {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// The request for this attempt: `webhook-id` is the event's id on every
/// attempt and every resend; the timestamp is this attempt's.
fn request(
    endpoint: &Endpoint,
    event: &StoredEvent,
    body: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<DeliveryRequest, String> {
    // The API checks all three when they are set; failing here means the
    // stored endpoint is damaged, which only the tenant's edit can mend.
    let url = Url::parse(&endpoint.url).map_err(|e| format!("the endpoint URL is invalid: {e}"))?;
    let secret = WebhookSecret::parse(&endpoint.secret)
        .map_err(|e| format!("the endpoint's signing secret is unusable: {e}"))?;
    let headers = EndpointHeaders::try_from(endpoint.headers.clone())
        .map_err(|e| format!("the endpoint's headers are unusable: {e}"))?;
    Ok(DeliveryRequest {
        url,
        msg_id: event.id.clone(),
        timestamp: now.timestamp(),
        body,
        secret,
        headers,
    })
}

/// An attempt stopped before sending, kept on the schedule like a refused
/// address: the tenant may fix the endpoint meanwhile.
fn not_sent(problem: String) -> DeliveryOutcome {
    DeliveryOutcome {
        verdict: Verdict::Refused,
        status: None,
        latency: Duration::ZERO,
        response_body: String::new(),
        body_truncated: false,
        retry_after: None,
        timed_out: false,
        error: Some(problem),
    }
}

fn attempt_record(
    claimed: &ClaimedDelivery,
    outcome: &DeliveryOutcome,
    next: DeliveryState,
    disable: Option<NewEvent>,
) -> Attempt {
    Attempt {
        delivery_id: claimed.id,
        endpoint_id: claimed.endpoint_id.clone(),
        attempt: claimed.attempt,
        status_code: outcome.status.map(|s| s.as_u16()),
        latency: outcome.latency,
        response_body: Some(outcome.response_body.clone()).filter(|body| !body.is_empty()),
        error: outcome.error.clone().or_else(|| answer_problem(outcome)),
        verdict: verdict_name(outcome.verdict).to_owned(),
        next,
        disable,
    }
}

/// Words for the log when the receiver answered but not with a 2xx.
fn answer_problem(outcome: &DeliveryOutcome) -> Option<String> {
    let status = outcome
        .status
        .filter(|_| outcome.verdict != Verdict::Delivered)?;
    Some(if status.is_redirection() {
        format!("the endpoint answered {status}; redirects are not followed")
    } else {
        format!("the endpoint answered {status}")
    })
}

/// The `webhook.disabled` event that tells the tenant's other endpoints
/// and streams; keyed to the session whose event triggered it.
fn disabled_event(endpoint: &Endpoint, event: &StoredEvent, reason: String) -> NewEvent {
    let random: [u8; 12] = rand::random();
    NewEvent {
        id: format!("evt_{}", hex::encode(random)),
        key: event.key.clone(),
        kind: "webhook.disabled".to_owned(),
        data: json!({ "endpointId": endpoint.id, "url": endpoint.url, "reason": reason }),
        held_for: None,
    }
}
