//! The webhook settings: which private addresses endpoints may point to.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use wagate_net::AddressPolicy;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhooks {
    /// IPs or CIDR blocks endpoints may be on despite being private.
    pub allow: Vec<String>,
    /// Waits before each try (the first is the wait before the first
    /// try); `None`: the standard schedule (immediately, 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h, 10 h).
    pub retry_delays_ms: Option<Vec<u64>>,
}

impl Webhooks {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Webhooks> {
        let mut w = Webhooks::default();
        if let Some(r) = raw.get("webhook_allow") {
            w.allow = r
                .value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect();
            if let Err(e) = AddressPolicy::from_allow_list(&w.allow) {
                bail!("{}: {e}", r.origin);
            }
        }
        if let Some(r) = raw.get("webhook_retry_delays_ms") {
            let delays: Result<Vec<u64>, _> = r
                .value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::parse::<u64>)
                .collect();
            match delays {
                Ok(d) if !d.is_empty() => w.retry_delays_ms = Some(d),
                _ => bail!(
                    "{}: expected a comma-separated list of milliseconds",
                    r.origin
                ),
            }
        }
        Ok(w)
    }

    /// The address filter endpoint URLs are checked against, when they are
    /// set and when they are called. The list was checked at load.
    pub fn policy(&self) -> AddressPolicy {
        AddressPolicy::from_allow_list(&self.allow).expect("validated when the config was loaded")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;

    #[test]
    fn allow_list_is_parsed_and_checked() {
        assert!(load(&[]).unwrap().webhooks.allow.is_empty());
        let config = load(&[("WAGATE_WEBHOOK_ALLOW", " 127.0.0.1, 10.0.0.0/8 ,")]).unwrap();
        assert_eq!(config.webhooks.allow, ["127.0.0.1", "10.0.0.0/8"]);
        config.webhooks.policy();
        let err = load(&[("WAGATE_WEBHOOK_ALLOW", "intranet")]).unwrap_err();
        assert!(
            err.to_string().starts_with("WAGATE_WEBHOOK_ALLOW:"),
            "{err}"
        );
    }
}
