//! How fast a session may send. WhatsApp bans numbers that send like
//! machines; a gap between messages, a cap per hour and a cap on new
//! chats per day keep a number looking like a busy person.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The pacing a session's sender follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendPolicy {
    /// Smallest gap between two messages of the session.
    pub min_interval_ms: u64,
    /// The gap varies by up to this share (0-100 %), so sends do not tick
    /// like a clock.
    pub jitter_percent: u8,
    /// Messages per rolling hour; 0 means no cap.
    pub hourly_cap: u32,
    /// Recipients messaged for the first time per rolling 24 hours; 0
    /// means no cap.
    pub first_contact_daily_cap: u32,
    /// Show "typing…" this long before a text; 0 sends at once.
    pub typing_ms: u64,
}

impl Default for SendPolicy {
    fn default() -> Self {
        SendPolicy {
            min_interval_ms: 1_000,
            jitter_percent: 30,
            hourly_cap: 1_000,
            first_contact_daily_cap: 250,
            typing_ms: 0,
        }
    }
}

/// A session's own settings over the defaults; unset fields inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendPolicyOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_cap: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_contact_daily_cap: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_ms: Option<u64>,
}

/// Longest gap or typing pause a policy may ask for: a day between two
/// messages is a misconfiguration, not a policy.
pub const MAX_PAUSE_MS: u64 = 3_600_000;

impl SendPolicyOverrides {
    /// Names the first out-of-range field.
    pub fn check(&self) -> Result<(), crate::CoreError> {
        if self.jitter_percent.is_some_and(|j| j > 100) {
            return Err(crate::CoreError::validation(
                "jitterPercent",
                "must be 0-100",
            ));
        }
        if self.min_interval_ms.is_some_and(|m| m > MAX_PAUSE_MS) {
            return Err(crate::CoreError::validation(
                "minIntervalMs",
                format!("must be at most {MAX_PAUSE_MS}"),
            ));
        }
        if self.typing_ms.is_some_and(|m| m > 60_000) {
            return Err(crate::CoreError::validation(
                "typingMs",
                "must be at most 60000",
            ));
        }
        Ok(())
    }
}

impl SendPolicy {
    pub fn with(&self, o: &SendPolicyOverrides) -> SendPolicy {
        SendPolicy {
            min_interval_ms: o.min_interval_ms.unwrap_or(self.min_interval_ms),
            jitter_percent: o.jitter_percent.unwrap_or(self.jitter_percent),
            hourly_cap: o.hourly_cap.unwrap_or(self.hourly_cap),
            first_contact_daily_cap: o
                .first_contact_daily_cap
                .unwrap_or(self.first_contact_daily_cap),
            typing_ms: o.typing_ms.unwrap_or(self.typing_ms),
        }
    }

    /// The gap before the next send; `unit` in [0, 1) picks where in the
    /// jitter band it falls.
    pub fn gap(&self, unit: f64) -> Duration {
        let base = self.min_interval_ms as f64;
        let spread = base * f64::from(self.jitter_percent.min(100)) / 100.0;
        let ms = base - spread + 2.0 * spread * unit.clamp(0.0, 1.0);
        Duration::from_millis(ms.max(0.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_inherit_unset_fields() {
        let p = SendPolicy::default().with(&SendPolicyOverrides {
            hourly_cap: Some(5),
            ..Default::default()
        });
        assert_eq!(p.hourly_cap, 5);
        assert_eq!(p.min_interval_ms, SendPolicy::default().min_interval_ms);
    }

    #[test]
    fn gap_stays_in_the_jitter_band() {
        let p = SendPolicy {
            min_interval_ms: 1000,
            jitter_percent: 20,
            ..Default::default()
        };
        assert_eq!(p.gap(0.0), Duration::from_millis(800));
        assert_eq!(p.gap(0.5), Duration::from_millis(1000));
        assert!(p.gap(0.999) <= Duration::from_millis(1200));
    }

    #[test]
    fn out_of_range_overrides_are_named() {
        let bad = SendPolicyOverrides {
            jitter_percent: Some(101),
            ..Default::default()
        };
        assert!(
            bad.check()
                .unwrap_err()
                .to_string()
                .contains("jitterPercent")
        );
    }
}
