//! When a failed send is tried again, and when the gateway gives up.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why a send did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth another try: the session is reconnecting, WhatsApp did not
    /// ack in time, or it answered "try later".
    Transient(String),
    /// Trying again cannot help: the number is not on WhatsApp, the media
    /// was rejected, the target message does not exist.
    Permanent(String),
}

impl SendFailure {
    pub fn reason(&self) -> &str {
        match self {
            SendFailure::Transient(r) | SendFailure::Permanent(r) => r,
        }
    }
}

/// Exponential backoff with jitter, and a limit on tries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrySchedule {
    pub first_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Tries before the message ends `failed`. Waiting for a disconnected
    /// session does not count as a try.
    pub max_attempts: u32,
    /// Each delay varies by up to this share (0-100 %).
    pub jitter_percent: u8,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule {
            first_delay_ms: 2_000,
            max_delay_ms: 300_000,
            max_attempts: 10,
            jitter_percent: 20,
        }
    }
}

impl RetrySchedule {
    /// The wait after the `attempt`-th failed try (1-based); `unit` in
    /// [0, 1) places it in the jitter band.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base =
            (self.first_delay_ms as f64 * 2f64.powi(exp as i32)).min(self.max_delay_ms as f64);
        let spread = base * f64::from(self.jitter_percent.min(100)) / 100.0;
        let ms = base - spread + 2.0 * spread * unit.clamp(0.0, 1.0);
        Duration::from_millis(ms.max(0.0) as u64)
    }

    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let s = RetrySchedule {
            jitter_percent: 0,
            ..Default::default()
        };
        assert_eq!(s.delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(s.delay(2, 0.5), Duration::from_secs(4));
        assert_eq!(s.delay(3, 0.5), Duration::from_secs(8));
        assert_eq!(s.delay(30, 0.5), Duration::from_secs(300));
    }

    #[test]
    fn jitter_spreads_around_the_base() {
        let s = RetrySchedule::default();
        assert_eq!(s.delay(1, 0.0), Duration::from_millis(1600));
        assert_eq!(s.delay(1, 1.0), Duration::from_millis(2400));
        assert!(s.exhausted(10) && !s.exhausted(9));
    }
}
