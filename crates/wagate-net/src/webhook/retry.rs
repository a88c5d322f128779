//! When a failed delivery is tried again, and when an endpoint is given up.

use std::time::{Duration, SystemTime};

use rand::Rng;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// The least wait after a receiver signalled overload (429, 502, 503, 504,
/// or a timeout): retrying a struggling receiver within seconds only adds
/// to its load.
pub const BACK_OFF_MIN: Duration = MINUTE;

/// The retry schedule of a webhook message.
///
/// `delays[n]` is the wait before attempt `n + 1`; the first entry is the
/// wait before the first attempt (zero: deliver at once). Each wait is
/// spread by ±`jitter_percent` so that messages failing together (an
/// endpoint down for an hour) do not all come back in the same second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRetry {
    pub delays: Vec<Duration>,
    pub jitter_percent: u8,
    /// An endpoint that has not had one successful delivery for this long
    /// is disabled (and its tenant told), however many messages are queued.
    pub give_up_after: Duration,
}

impl Default for WebhookRetry {
    /// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±20 %);
    /// endpoints are disabled after 5 days without a success.
    fn default() -> Self {
        WebhookRetry {
            delays: vec![
                Duration::ZERO,
                Duration::from_secs(5),
                5 * MINUTE,
                30 * MINUTE,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR,
            ],
            jitter_percent: 20,
            give_up_after: 5 * 24 * HOUR,
        }
    }
}

impl WebhookRetry {
    /// The wait before the next attempt of a message already tried
    /// `attempts_made` times; `None` once the schedule is used up.
    ///
    /// `retry_after` is what the receiver asked for (see
    /// [`DeliveryOutcome::requested_wait`](super::DeliveryOutcome::requested_wait)).
    /// It is honoured within bounds: never sooner than the jittered
    /// scheduled wait, so a receiver cannot make the gateway retry faster
    /// than the schedule, and never later than twice that wait (or
    /// [`BACK_OFF_MIN`], if longer), so it cannot park a message for days.
    /// The longest wait the default schedule can give is thus 24 h.
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        attempts_made: usize,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Option<Duration> {
        let scheduled = self.jittered(*self.delays.get(attempts_made)?, rng);
        let Some(asked) = retry_after else {
            return Some(scheduled);
        };
        let latest = scheduled.saturating_mul(2).max(BACK_OFF_MIN);
        Some(asked.clamp(scheduled, latest))
    }

    /// Whether an endpoint failing for `failing_for` since its last success
    /// (or since its creation, if it never had one) is to be disabled.
    pub fn should_disable(&self, failing_for: Duration) -> bool {
        failing_for >= self.give_up_after
    }

    fn jittered<R: Rng + ?Sized>(&self, delay: Duration, rng: &mut R) -> Duration {
        let spread = f64::from(self.jitter_percent.min(100)) / 100.0;
        if delay.is_zero() || spread == 0.0 {
            return delay;
        }
        delay.mul_f64(rng.gen_range(1.0 - spread..=1.0 + spread))
    }
}

/// Reads a `Retry-After` value: delay-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, and the two obsolete forms), which
/// becomes the time left until then — zero if it has passed.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too many for u64: the receiver wants "forever",
        // which the schedule's bounds turn into something finite.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn without_jitter() -> WebhookRetry {
        WebhookRetry {
            jitter_percent: 0,
            ..WebhookRetry::default()
        }
    }

    #[test]
    fn the_default_schedule_has_eight_attempts() {
        let retry = without_jitter();
        let waits: Vec<_> = (0..9)
            .map(|n| retry.next_delay(n, None, &mut rng()))
            .collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            waits,
            [
                secs(0),
                secs(5),
                secs(300),
                secs(1800),
                secs(7200),
                secs(18000),
                secs(36000),
                secs(36000),
                None
            ]
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let retry = WebhookRetry::default();
        let mut rng = rng();
        let waits: Vec<_> = (0..1000)
            .map(|_| retry.next_delay(3, None, &mut rng).unwrap())
            .collect();
        let (low, high) = (24 * MINUTE, 36 * MINUTE);
        assert!(waits.iter().all(|w| (low..=high).contains(w)));
        assert!(waits.iter().any(|w| *w < 27 * MINUTE));
        assert!(waits.iter().any(|w| *w > 33 * MINUTE));
        assert_eq!(retry.next_delay(0, None, &mut rng), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let retry = without_jitter();
        let at_30_min = |asked| retry.next_delay(3, Some(asked), &mut rng()).unwrap();
        assert_eq!(at_30_min(45 * MINUTE), 45 * MINUTE);
        assert_eq!(at_30_min(Duration::ZERO), 30 * MINUTE, "never sooner");
        assert_eq!(at_30_min(7 * 24 * HOUR), HOUR, "at most twice");
        assert_eq!(at_30_min(Duration::MAX), HOUR);

        // Early in the schedule a receiver may still ask for a minute.
        let at_5_s = |asked| retry.next_delay(1, Some(asked), &mut rng()).unwrap();
        assert_eq!(at_5_s(BACK_OFF_MIN), BACK_OFF_MIN);
        assert_eq!(at_5_s(HOUR), BACK_OFF_MIN);
        assert_eq!(at_5_s(Duration::from_secs(8)), Duration::from_secs(8));
        assert_eq!(retry.next_delay(8, Some(MINUTE), &mut rng()), None);
    }

    #[test]
    fn the_longest_wait_is_a_day() {
        let retry = WebhookRetry::default();
        let mut rng = rng();
        for _ in 0..1000 {
            let wait = retry.next_delay(7, Some(Duration::MAX), &mut rng).unwrap();
            assert!(wait <= 24 * HOUR, "{wait:?}");
        }
    }

    #[test]
    fn endpoints_are_disabled_after_five_days() {
        let retry = WebhookRetry::default();
        assert!(!retry.should_disable(5 * 24 * HOUR - Duration::from_secs(1)));
        assert!(retry.should_disable(5 * 24 * HOUR));
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let parse = |value| parse_retry_after(value, now);
        assert_eq!(parse("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:30:30 GMT"),
            Some(Duration::from_secs(150))
        );
        assert_eq!(
            parse("Wednesday, 21-Oct-15 07:29:00 GMT"),
            Some(MINUTE),
            "RFC 850 form"
        );
        assert_eq!(
            parse("Wed Oct 21 07:29:00 2015"),
            Some(MINUTE),
            "asctime form"
        );
        assert_eq!(parse("Tue, 20 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        for bad in ["", "-5", "1.5", "soon", "120s"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
