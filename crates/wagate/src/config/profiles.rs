//! Which compatibility profiles are served. All are on by default so a
//! client written for one of them works against a fresh install.

use super::Raw;
use super::sending::flag;
use std::collections::BTreeMap;
use wagate_api::profiles::Profiles;

pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Profiles> {
    let default = Profiles::default();
    Ok(Profiles {
        seed000: flag(raw, "profile_seed000")?.unwrap_or(default.seed000),
        seed003: flag(raw, "profile_seed003")?.unwrap_or(default.seed003),
        external: flag(raw, "profile_external")?.unwrap_or(default.external),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;

    #[test]
    fn all_on_by_default_and_each_can_be_switched_off() {
        let profiles = load(&[]).unwrap().profiles;
        assert!(profiles.seed000 && profiles.seed003 && profiles.external);
        let profiles = load(&[("WAGATE_PROFILE_SEED003", "false")])
            .unwrap()
            .profiles;
        assert!(profiles.seed000 && !profiles.seed003 && profiles.external);
        let err = load(&[("WAGATE_PROFILE_EXTERNAL", "maybe")]).unwrap_err();
        assert!(
            err.to_string().starts_with("WAGATE_PROFILE_EXTERNAL:"),
            "{err}"
        );
    }
}
