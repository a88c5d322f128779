//! What one attempt's outcome means for its delivery and its endpoint.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use wagate_net::webhook::{DeliveryOutcome, Verdict, WebhookRetry};
use wagate_store::events::DeliveryState;

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NextStep {
    pub next: DeliveryState,
    /// Disable the endpoint, for this reason (shown to the tenant).
    pub disable: Option<String>,
}

/// Decides the delivery's next state from the attempt's outcome.
///
/// `attempt` is the number of the attempt just made (from 1), and
/// `failing_since` the endpoint's failure run as it stood before it.
pub(crate) fn next_step<R: Rng + ?Sized>(
    retry: &WebhookRetry,
    attempt: u32,
    failing_since: Option<DateTime<Utc>>,
    outcome: &DeliveryOutcome,
    now: DateTime<Utc>,
    rng: &mut R,
) -> NextStep {
    let step = |next, disable| NextStep { next, disable };
    match outcome.verdict {
        Verdict::Delivered => step(DeliveryState::Delivered, None),
        Verdict::Gone => step(
            DeliveryState::Failed,
            Some("the endpoint answered 410 Gone".to_owned()),
        ),
        Verdict::Retry | Verdict::Refused => {
            // Judged on the run before this attempt: the first failure
            // starts a run, it cannot end one.
            if let Some(since) = failing_since
                && retry.should_disable((now - since).to_std().unwrap_or_default())
            {
                let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
                return step(
                    DeliveryState::Failed,
                    Some(format!("no successful delivery since {since}")),
                );
            }
            match retry.next_delay(attempt as usize, outcome.requested_wait(), rng) {
                Some(wait) => {
                    let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    let at = now.timestamp_millis().saturating_add(wait_ms);
                    step(DeliveryState::RetryAt(at), None)
                }
                None => step(DeliveryState::Failed, None),
            }
        }
    }
}

/// The verdict as the attempt log spells it.
pub(crate) fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Delivered => "delivered",
        Verdict::Retry => "retry",
        Verdict::Gone => "gone",
        Verdict::Refused => "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use reqwest::StatusCode;
    use std::time::Duration;

    fn schedule() -> WebhookRetry {
        WebhookRetry {
            delays: vec![
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_secs(300),
            ],
            jitter_percent: 0,
            give_up_after: Duration::from_secs(5 * 24 * 3600),
        }
    }

    fn outcome(verdict: Verdict, status: Option<u16>) -> DeliveryOutcome {
        DeliveryOutcome {
            verdict,
            status: status.map(|s| StatusCode::from_u16(s).unwrap()),
            latency: Duration::ZERO,
            response_body: String::new(),
            body_truncated: false,
            retry_after: None,
            timed_out: false,
            error: None,
        }
    }

    fn decide(attempt: u32, failing_for: Option<i64>, o: &DeliveryOutcome) -> NextStep {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let since = failing_for.map(|secs| now - chrono::Duration::seconds(secs));
        next_step(
            &schedule(),
            attempt,
            since,
            o,
            now,
            &mut StdRng::seed_from_u64(1),
        )
    }

    const NOW_MS: i64 = 1_700_000_000_000;

    #[test]
    fn a_failure_waits_for_the_next_scheduled_delay() {
        let failed = outcome(Verdict::Retry, Some(500));
        assert_eq!(
            decide(1, None, &failed).next,
            DeliveryState::RetryAt(NOW_MS + 5_000)
        );
        assert_eq!(
            decide(2, Some(5), &failed).next,
            DeliveryState::RetryAt(NOW_MS + 300_000)
        );
        let refused = outcome(Verdict::Refused, None);
        assert_eq!(
            decide(1, None, &refused).next,
            DeliveryState::RetryAt(NOW_MS + 5_000)
        );
    }

    #[test]
    fn an_overloaded_receiver_gets_at_least_a_minute() {
        let throttled = outcome(Verdict::Retry, Some(429));
        assert_eq!(
            decide(1, None, &throttled).next,
            DeliveryState::RetryAt(NOW_MS + 60_000)
        );
    }

    #[test]
    fn the_schedule_running_out_fails_the_delivery_only() {
        let step = decide(3, Some(400), &outcome(Verdict::Retry, Some(500)));
        assert_eq!(
            step,
            NextStep {
                next: DeliveryState::Failed,
                disable: None
            }
        );
    }

    #[test]
    fn gone_fails_and_disables() {
        let step = decide(1, None, &outcome(Verdict::Gone, Some(410)));
        assert_eq!(step.next, DeliveryState::Failed);
        assert_eq!(
            step.disable.as_deref(),
            Some("the endpoint answered 410 Gone")
        );
    }

    #[test]
    fn failing_longer_than_the_limit_disables() {
        let five_days = 5 * 24 * 3600;
        let failed = outcome(Verdict::Retry, Some(500));
        assert_eq!(decide(1, Some(five_days - 1), &failed).disable, None);
        let step = decide(1, Some(five_days), &failed);
        assert_eq!(step.next, DeliveryState::Failed);
        assert_eq!(
            step.disable.as_deref(),
            Some("no successful delivery since 2023-11-09T22:13:20Z")
        );
        // A success ends the run whatever its length.
        let delivered = decide(
            1,
            Some(five_days * 2),
            &outcome(Verdict::Delivered, Some(200)),
        );
        assert_eq!(
            delivered,
            NextStep {
                next: DeliveryState::Delivered,
                disable: None
            }
        );
    }
}
