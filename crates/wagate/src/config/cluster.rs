//! How this process shares a database with other nodes: how long a
//! session's lease lasts without renewal.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// A node that stops renewing loses its sessions this long after its
    /// last renewal; failover takes about this long plus a quarter.
    pub lease_ttl: Duration,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            lease_ttl: Duration::from_secs(10),
        }
    }
}

/// Shorter leases make every node renew more often than the database
/// should answer; longer ones make failover slower than anyone waits.
const TTL_MS: std::ops::RangeInclusive<u64> = 1_000..=600_000;

impl Cluster {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Cluster> {
        let Some(r) = raw.get("lease_ttl_ms") else {
            return Ok(Cluster::default());
        };
        match r.value.trim().parse::<u64>() {
            Ok(ms) if TTL_MS.contains(&ms) => Ok(Cluster {
                lease_ttl: Duration::from_millis(ms),
            }),
            _ => bail!(
                "{}: expected milliseconds from {} to {}",
                r.origin,
                TTL_MS.start(),
                TTL_MS.end()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use std::time::Duration;

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
