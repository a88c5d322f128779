//! The user login settings: how long access and refresh tokens live.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;
use wagate_api::accounts::{DEFAULT_ACCESS_TTL, DEFAULT_REFRESH_TTL};

#[derive(Debug, Clone, PartialEq)]
pub struct Accounts {
    /// How long an access token is accepted after login or refresh.
    pub access_ttl: Duration,
    /// How long a refresh token can be exchanged for a new pair.
    pub refresh_ttl: Duration,
}

/// As `config.default.toml` sets them, for configs built in code.
impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            access_ttl: DEFAULT_ACCESS_TTL,
            refresh_ttl: DEFAULT_REFRESH_TTL,
        }
    }
}

/// An access token is checked on every request, but revoking one only
/// takes effect when it runs out: at most a day.
const MAX_ACCESS_TTL_S: u64 = 86_400;
/// A login can last at most a year without logging in again.
const MAX_REFRESH_TTL_S: u64 = 365 * 86_400;

impl Accounts {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Accounts> {
        let seconds = |key: &str, max: u64| -> anyhow::Result<Option<Duration>> {
            let Some(r) = raw.get(key) else {
                return Ok(None);
            };
            match r.value.trim().parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(Duration::from_secs(n))),
                _ => bail!(
                    "{}: expected a whole number of seconds from 1 to {max}",
                    r.origin
                ),
            }
        };
        let default = Accounts::default();
        Ok(Accounts {
            access_ttl: seconds("jwt_access_ttl_s", MAX_ACCESS_TTL_S)?
                .unwrap_or(default.access_ttl),
            refresh_ttl: seconds("jwt_refresh_ttl_s", MAX_REFRESH_TTL_S)?
                .unwrap_or(default.refresh_ttl),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use std::time::Duration;

    #[test]
    fn defaults_and_bad_values() {
        let accounts = load(&[]).unwrap().accounts;
        assert_eq!(accounts, super::Accounts::default());
        assert_eq!(accounts.access_ttl, Duration::from_secs(900));
        assert_eq!(accounts.refresh_ttl, Duration::from_secs(30 * 86_400));
        let short = load(&[("WAGATE_JWT_ACCESS_TTL_S", "1")]).unwrap().accounts;
        assert_eq!(short.access_ttl, Duration::from_secs(1));
        for bad in ["0", "-5", "x", "86401"] {
            let err = load(&[("WAGATE_JWT_ACCESS_TTL_S", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("WAGATE_JWT_ACCESS_TTL_S:"),
                "{bad}: {err}"
            );
        }
        assert!(load(&[("WAGATE_JWT_REFRESH_TTL_S", "0")]).is_err());
    }
}
