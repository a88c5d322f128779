//! Service tiers: what a tenant may use — sessions, messages per hour and
//! API calls per hour — and the refusal given when a limit is reached.

use crate::CoreError;
use std::fmt;

/// Largest number a tier limit may be set to; larger means "unlimited",
/// which is written as no limit at all.
pub const MAX_LIMIT: u32 = 1_000_000_000;

/// How long a client is told to wait after the session limit refused it.
/// No time frees a session slot (deleting a session or a bigger tier does),
/// so this only keeps clients that honour `Retry-After` from retrying
/// within the hour.
pub const SESSION_RETRY_AFTER_S: u64 = 3600;

/// A tier's name: `[a-z0-9_-]{1,32}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TierName(String);

impl TierName {
    /// The tier existing tenants and the default tenant are in: no limits.
    pub const UNLIMITED: &'static str = "unlimited";

    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(TierName(raw.to_string()))
        } else {
            Err(CoreError::validation(
                "tier",
                "must be 1-32 characters of a-z, 0-9, '_' or '-'",
            ))
        }
    }

    pub fn unlimited() -> Self {
        TierName(Self::UNLIMITED.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TierName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tier's limits; `None` is unlimited, `Some(0)` allows nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TierLimits {
    pub sessions: Option<u32>,
    pub messages_per_hour: Option<u32>,
    pub api_calls_per_hour: Option<u32>,
}

impl TierLimits {
    pub fn get(&self, kind: LimitKind) -> Option<u32> {
        match kind {
            LimitKind::Sessions => self.sessions,
            LimitKind::MessagesPerHour => self.messages_per_hour,
            LimitKind::ApiCallsPerHour => self.api_calls_per_hour,
        }
    }
}

/// The three things a tier limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    Sessions,
    MessagesPerHour,
    ApiCallsPerHour,
}

impl LimitKind {
    pub const ALL: [LimitKind; 3] = [
        LimitKind::Sessions,
        LimitKind::MessagesPerHour,
        LimitKind::ApiCallsPerHour,
    ];

    /// The name clients see, in error bodies and requests.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Sessions => "sessions",
            LimitKind::MessagesPerHour => "messagesPerHour",
            LimitKind::ApiCallsPerHour => "apiCallsPerHour",
        }
    }

    /// `n` of this, in words: "1 session", "100 messages per hour".
    fn amount(self, n: u64) -> String {
        let (one, many, per) = match self {
            LimitKind::Sessions => ("session", "sessions", ""),
            LimitKind::MessagesPerHour => ("message", "messages", " per hour"),
            LimitKind::ApiCallsPerHour => ("API call", "API calls", " per hour"),
        };
        format!("{n} {}{per}", if n == 1 { one } else { many })
    }
}

/// A request refused because it would take its tenant past a tier limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    pub kind: LimitKind,
    /// The tier's limit.
    pub max: u32,
    /// Seconds until the window frees enough for the request (for the
    /// session limit, [`SESSION_RETRY_AFTER_S`]).
    pub retry_after_s: u64,
    /// Names the tier, its limit, the tenant and what it has used.
    pub message: String,
}

impl LimitExceeded {
    /// `used`: what the tenant has (sessions) or has used in the last hour;
    /// `asked`: what the refused request wanted on top (1 but for bulk sends).
    pub fn new(
        kind: LimitKind,
        tier: &str,
        tenant: &str,
        max: u32,
        used: u64,
        asked: u64,
        retry_after_s: u64,
    ) -> Self {
        let allows = kind.amount(u64::from(max));
        let has = match kind {
            LimitKind::Sessions => format!("has {used}"),
            LimitKind::MessagesPerHour => format!("has sent {used} in the last hour"),
            LimitKind::ApiCallsPerHour => format!("has made {used} in the last hour"),
        };
        let request = if asked > 1 {
            format!(" and this request has {asked}")
        } else {
            String::new()
        };
        LimitExceeded {
            kind,
            max,
            retry_after_s: retry_after_s.max(1),
            message: format!("Tier {tier} allows {allows}; tenant {tenant} {has}{request}"),
        }
    }
}

impl From<LimitExceeded> for CoreError {
    fn from(limit: LimitExceeded) -> Self {
        CoreError::LimitReached(Box::new(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names() {
        assert!(TierName::parse("basic").is_ok());
        assert!(TierName::parse("pro-2024_a").is_ok());
        for bad in ["", "Basic", "a b", &"x".repeat(33)] {
            assert!(TierName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_tier_limit_and_tenant() {
        let one = LimitExceeded::new(LimitKind::Sessions, "basic", "acme", 1, 1, 1, 3600);
        assert_eq!(
            one.message,
            "Tier basic allows 1 session; tenant acme has 1"
        );
        let bulk = LimitExceeded::new(LimitKind::MessagesPerHour, "pro", "acme", 3, 2, 5, 60);
        assert_eq!(
            bulk.message,
            "Tier pro allows 3 messages per hour; tenant acme has sent 2 in the last hour \
             and this request has 5"
        );
        let calls = LimitExceeded::new(LimitKind::ApiCallsPerHour, "max", "b", 1, 1, 1, 0);
        assert_eq!(
            calls.message,
            "Tier max allows 1 API call per hour; tenant b has made 1 in the last hour"
        );
        assert_eq!(
            calls.retry_after_s, 1,
            "never tells a client to retry at once"
        );
    }
}
