//! A session's pacing state: when it last sent, what it sent in the last
//! hour, whom it wrote to first in the last day. Loaded from the queue
//! when a sender starts, so a restart does not reset the caps.

use std::collections::VecDeque;
use std::time::Duration;
use wagate_core::outbound::SendPolicy;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// How long a session's pacing settings are used before they are read
/// again (changes through the API apply within this time).
const POLICY_FRESH: Duration = Duration::from_secs(1);

pub struct Pacer {
    pub policy: SendPolicy,
    policy_read: tokio::time::Instant,
    /// Whether the queue records the session as paused by a cap: `None`
    /// until known, so the first batch clears a pause an earlier run left.
    pub pause_recorded: Option<bool>,
    last_send: Option<tokio::time::Instant>,
    /// Send times (ms) within the last hour, oldest first.
    hour: VecDeque<i64>,
    /// First-contact times (ms) within the last day, oldest first.
    day: VecDeque<i64>,
}

/// Why a message must wait, and until when (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub until_ms: i64,
    pub reason: String,
}

impl Pacer {
    /// A pacer that goes on from the sends of the last hour and first
    /// contacts of the last day, as of `now_ms`. The latest send starts
    /// the minimum gap: a sender that stopped when its queue ran dry
    /// keeps the gap to the message before when it starts again.
    pub fn new(
        policy: SendPolicy,
        sent_last_hour: Vec<i64>,
        first_last_day: Vec<i64>,
        now_ms: i64,
    ) -> Pacer {
        let now = tokio::time::Instant::now();
        let last_send = sent_last_hour.iter().max().map(|&at| {
            let ago = Duration::from_millis(u64::try_from(now_ms - at).unwrap_or(0));
            now.checked_sub(ago).unwrap_or(now)
        });
        Pacer {
            policy,
            policy_read: now,
            pause_recorded: None,
            last_send,
            hour: sent_last_hour.into(),
            day: first_last_day.into(),
        }
    }

    pub fn policy_is_stale(&self) -> bool {
        self.policy_read.elapsed() >= POLICY_FRESH
    }

    pub fn set_policy(&mut self, policy: SendPolicy) {
        self.policy = policy;
        self.policy_read = tokio::time::Instant::now();
    }

    fn trim(&mut self, now_ms: i64) {
        while self.hour.front().is_some_and(|t| *t <= now_ms - HOUR_MS) {
            self.hour.pop_front();
        }
        while self.day.front().is_some_and(|t| *t <= now_ms - DAY_MS) {
            self.day.pop_front();
        }
    }

    /// The hourly cap, if reached: the whole session waits.
    pub fn hourly_hold(&mut self, now_ms: i64) -> Option<Hold> {
        self.trim(now_ms);
        let cap = self.policy.hourly_cap as usize;
        if cap == 0 || self.hour.len() < cap {
            return None;
        }
        let oldest = self.hour[self.hour.len() - cap];
        Some(Hold {
            until_ms: oldest + HOUR_MS,
            reason: format!("hourly cap of {cap} messages reached"),
        })
    }

    /// The first-contact cap, if reached: only new recipients wait.
    pub fn first_contact_hold(&mut self, now_ms: i64) -> Option<Hold> {
        self.trim(now_ms);
        let cap = self.policy.first_contact_daily_cap as usize;
        if cap == 0 || self.day.len() < cap {
            return None;
        }
        let oldest = self.day[self.day.len() - cap];
        Some(Hold {
            until_ms: oldest + DAY_MS,
            reason: format!("daily cap of {cap} first-contact recipients reached"),
        })
    }

    pub fn caps_first_contacts(&self) -> bool {
        self.policy.first_contact_daily_cap > 0
    }

    /// How long to wait before the next send, for the minimum gap.
    pub fn gap_left(&self) -> Duration {
        let Some(last) = self.last_send else {
            return Duration::ZERO;
        };
        let gap = self.policy.gap(rand::random::<f64>());
        (last + gap).saturating_duration_since(tokio::time::Instant::now())
    }

    pub fn record_send(&mut self, now_ms: i64, first_contact: bool) {
        self.last_send = Some(tokio::time::Instant::now());
        self.hour.push_back(now_ms);
        if first_contact {
            self.day.push_back(now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hourly: u32, daily_first: u32) -> SendPolicy {
        SendPolicy {
            min_interval_ms: 0,
            jitter_percent: 0,
            hourly_cap: hourly,
            first_contact_daily_cap: daily_first,
            typing_ms: 0,
        }
    }

    #[test]
    fn hourly_cap_holds_until_the_oldest_send_leaves_the_window() {
        let mut p = Pacer::new(policy(2, 0), vec![1_000], vec![], 2_000);
        assert_eq!(p.hourly_hold(2_000), None);
        p.record_send(2_000, false);
        let hold = p.hourly_hold(3_000).unwrap();
        assert_eq!(hold.until_ms, 1_000 + HOUR_MS);
        assert!(hold.reason.contains("hourly cap of 2"));
        assert_eq!(p.hourly_hold(1_000 + HOUR_MS), None);
    }

    #[test]
    fn first_contact_cap_counts_only_new_recipients() {
        let mut p = Pacer::new(policy(0, 1), vec![], vec![], 0);
        assert!(p.first_contact_hold(0).is_none());
        p.record_send(10, false);
        assert!(p.first_contact_hold(20).is_none());
        p.record_send(30, true);
        assert_eq!(p.first_contact_hold(40).unwrap().until_ms, 30 + DAY_MS);
    }

    #[test]
    fn a_new_pacer_keeps_the_gap_to_the_last_send() {
        let gap_of_a_minute = SendPolicy {
            min_interval_ms: 60_000,
            ..policy(0, 0)
        };
        let now = 10 * HOUR_MS;
        let p = Pacer::new(
            gap_of_a_minute.clone(),
            vec![now - 5_000, now - 1_000],
            vec![],
            now,
        );
        let left = p.gap_left();
        assert!(
            left > Duration::from_secs(58) && left <= Duration::from_secs(59),
            "{left:?}"
        );
        let p = Pacer::new(gap_of_a_minute, vec![now - 61_000], vec![], now);
        assert_eq!(p.gap_left(), Duration::ZERO);
    }
}
