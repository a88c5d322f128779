//! The history settings: how long tenants keep messages by default, and
//! how often old ones are looked for.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;
use wagate_store::domain::MAX_RETENTION_DAYS;

#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Days of history a tenant without its own setting keeps; 0 = forever.
    pub retention_days: u32,
    /// Time between two sweeps for history past its retention.
    pub sweep_interval: Duration,
}

/// As `config.default.toml` sets them, for configs built in code.
impl Default for History {
    fn default() -> Self {
        History {
            retention_days: 90,
            sweep_interval: Duration::from_secs(600),
        }
    }
}

impl History {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<History> {
        let number = |key: &str, max: u64| -> anyhow::Result<Option<u64>> {
            let Some(r) = raw.get(key) else {
                return Ok(None);
            };
            match r.value.trim().parse::<u64>() {
                Ok(n) if n <= max => Ok(Some(n)),
                _ => bail!("{}: expected a whole number from 0 to {max}", r.origin),
            }
        };
        let retention_days = number("history_retention_days", u64::from(MAX_RETENTION_DAYS))?;
        let interval = number("history_sweep_interval_ms", u64::from(u32::MAX))?;
        if interval == Some(0) {
            bail!("history_sweep_interval_ms: must be at least 1");
        }
        let default = History::default();
        Ok(History {
            retention_days: retention_days.map_or(default.retention_days, |d| d as u32),
            sweep_interval: interval.map_or(default.sweep_interval, Duration::from_millis),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use std::time::Duration;

    #[test]
    fn defaults_and_bad_values() {
        let history = load(&[]).unwrap().history;
        assert_eq!(history, super::History::default());
        assert_eq!(history.retention_days, 90);
        assert_eq!(history.sweep_interval, Duration::from_secs(600));
        let history = load(&[("WAGATE_HISTORY_RETENTION_DAYS", "0")])
            .unwrap()
            .history;
        assert_eq!(history.retention_days, 0);
        let err = load(&[("WAGATE_HISTORY_RETENTION_DAYS", "-1")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("WAGATE_HISTORY_RETENTION_DAYS:"),
            "{err}"
        );
        assert!(load(&[("WAGATE_HISTORY_SWEEP_INTERVAL_MS", "0")]).is_err());
    }
}
