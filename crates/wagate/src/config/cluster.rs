//! How this process shares a database with other nodes: what it does
//! (its roles) and how long a session's lease lasts without renewal.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// A node that stops renewing loses its sessions this long after its
    /// last renewal; failover takes about this long plus a quarter.
    pub lease_ttl: Duration,
    pub roles: Roles,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            lease_ttl: Duration::from_secs(10),
            roles: Roles::ALL,
        }
    }
}

/// What a node does. `engine` runs sessions and sends their queues (the
/// `sender` role, which goes with it: messages leave over the session's
/// own connection); `api` serves the API; `webhooks` delivers webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub engine: bool,
    pub webhooks: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        api: true,
        engine: true,
        webhooks: true,
    };
    const NONE: Roles = Roles {
        api: false,
        engine: false,
        webhooks: false,
    };

    /// `api,engine,sender,webhooks`, or any part of it; `engine` and
    /// `sender` only together.
    pub fn parse(text: &str) -> Result<Roles, String> {
        let mut roles = Roles::NONE;
        let mut sender = false;
        for role in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            match role {
                "api" => roles.api = true,
                "engine" => roles.engine = true,
                "sender" => sender = true,
                "webhooks" => roles.webhooks = true,
                other => {
                    return Err(format!(
                        "unknown role '{other}' (the roles are api, engine, sender, webhooks)"
                    ));
                }
            }
        }
        if roles.engine != sender {
            return Err(
                "engine and sender go together: queued messages leave over the \
                        connection of the session's engine"
                    .into(),
            );
        }
        if roles == Roles::NONE {
            return Err("at least one role is needed".into());
        }
        Ok(roles)
    }

    /// As the node registers them.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.api {
            names.push("api");
        }
        if self.engine {
            names.extend(["engine", "sender"]);
        }
        if self.webhooks {
            names.push("webhooks");
        }
        names.into_iter().map(String::from).collect()
    }
}

/// Shorter leases make every node renew more often than the database
/// should answer; longer ones make failover slower than anyone waits.
const TTL_MS: std::ops::RangeInclusive<u64> = 1_000..=600_000;

impl Cluster {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Cluster> {
        let mut cluster = Cluster::default();
        if let Some(r) = raw.get("lease_ttl_ms") {
            cluster.lease_ttl = match r.value.trim().parse::<u64>() {
                Ok(ms) if TTL_MS.contains(&ms) => Duration::from_millis(ms),
                _ => bail!(
                    "{}: expected milliseconds from {} to {}",
                    r.origin,
                    TTL_MS.start(),
                    TTL_MS.end()
                ),
            };
        }
        if let Some(r) = raw.get("roles") {
            cluster.roles =
                Roles::parse(&r.value).map_err(|e| anyhow::anyhow!("{}: {e}", r.origin))?;
        }
        Ok(cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use std::time::Duration;

    #[test]
    fn roles_parse_and_refuse_what_cannot_run() {
        use super::Roles;
        assert_eq!(load(&[]).unwrap().cluster.roles, Roles::ALL);
        let api = load(&[("WAGATE_ROLES", "api")]).unwrap().cluster.roles;
        assert_eq!((api.api, api.engine, api.webhooks), (true, false, false));
        assert_eq!(api.names(), ["api"]);
        let engine = Roles::parse("engine, sender").unwrap();
        assert_eq!(engine.names(), ["engine", "sender"]);
        for bad in ["engine", "sender,webhooks", "apis", ","] {
            let err = load(&[("WAGATE_ROLES", bad)]).unwrap_err();
            assert!(err.to_string().starts_with("WAGATE_ROLES:"), "{bad}: {err}");
        }
    }

    #[test]
    fn lease_ttl_defaults_and_bounds() {
        assert_eq!(
            load(&[]).unwrap().cluster.lease_ttl,
            Duration::from_secs(10)
        );
        let set = load(&[("WAGATE_LEASE_TTL_MS", "4000")]).unwrap();
        assert_eq!(set.cluster.lease_ttl, Duration::from_millis(4000));
        for bad in ["999", "600001", "ten"] {
            let err = load(&[("WAGATE_LEASE_TTL_MS", bad)]).unwrap_err();
            assert!(err.to_string().starts_with("WAGATE_LEASE_TTL_MS:"), "{err}");
        }
    }
}
