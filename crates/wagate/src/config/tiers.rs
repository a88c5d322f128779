//! The tier new tenants get when they are created without one. Whether
//! the tier exists is checked against the database at start, where the
//! tiers live ([`Tiers::origin`] names the setting in that error).

use super::Raw;
use std::collections::BTreeMap;
use wagate_core::TierName;

#[derive(Debug, Clone, PartialEq)]
pub struct Tiers {
    /// The tier of a tenant created without one.
    pub default_tier: TierName,
    /// Where `default_tier` was set, for errors found later.
    pub origin: String,
}

/// As `config.default.toml` sets it, for configs built in code.
impl Default for Tiers {
    fn default() -> Self {
        Tiers {
            default_tier: TierName::parse("basic").expect("a valid tier name"),
            origin: "default_tier".to_string(),
        }
    }
}

impl Tiers {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Tiers> {
        let Some(r) = raw.get("default_tier") else {
            return Ok(Tiers::default());
        };
        let name = r.value.trim();
        let default_tier = TierName::parse(name).map_err(|_| {
            anyhow::anyhow!(
                "{}: invalid tier name '{name}' (1-32 characters of a-z, 0-9, '_' or '-')",
                r.origin
            )
        })?;
        Ok(Tiers {
            default_tier,
            origin: r.origin.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;

    #[test]
    fn basic_by_default_and_names_are_checked() {
        let tiers = load(&[]).unwrap().tiers;
        assert_eq!(tiers.default_tier.as_str(), "basic");
        assert_eq!(tiers.origin, "default_tier in built-in defaults");
        let tiers = load(&[("WAGATE_DEFAULT_TIER", "unlimited")]).unwrap().tiers;
        assert_eq!(tiers.default_tier.as_str(), "unlimited");
        assert_eq!(tiers.origin, "WAGATE_DEFAULT_TIER");
        let err = load(&[("WAGATE_DEFAULT_TIER", "Gold Plan")]).unwrap_err();
        assert!(err.to_string().starts_with("WAGATE_DEFAULT_TIER:"), "{err}");
    }
}
