//! The sending settings: default pacing, ack timeout, media limits, the
//! media fetcher's allow-list, and link preview fetching.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;
use wagate_api::messages::MediaLimits;
use wagate_core::outbound::SendPolicy;

#[derive(Debug, Clone, PartialEq)]
pub struct Sending {
    pub policy: SendPolicy,
    pub ack_timeout: Duration,
    /// Recipients one session sends to at once.
    pub parallel_recipients: usize,
    pub media_limits: MediaLimits,
    /// IPs or CIDR blocks media may be fetched from despite being private.
    pub fetch_allow: Vec<String>,
    /// Whether a text asking for a link preview gets the linked page's
    /// title, description and thumbnail when the sender gave no title.
    pub preview_fetch: bool,
    /// Whether preview fetches may call `fetch_allow`'s addresses too;
    /// otherwise only public ones.
    pub preview_use_media_allow: bool,
}

impl Default for Sending {
    fn default() -> Self {
        Sending {
            policy: SendPolicy::default(),
            ack_timeout: Duration::from_secs(20),
            parallel_recipients: 8,
            media_limits: MediaLimits::default(),
            fetch_allow: Vec::new(),
            preview_fetch: true,
            preview_use_media_allow: true,
        }
    }
}

fn number(raw: &BTreeMap<&'static str, Raw>, key: &str, max: u64) -> anyhow::Result<Option<u64>> {
    let Some(r) = raw.get(key) else {
        return Ok(None);
    };
    match r.value.trim().parse::<u64>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => bail!("{}: must be a whole number from 0 to {max}", r.origin),
    }
}

pub(super) fn flag(raw: &BTreeMap<&'static str, Raw>, key: &str) -> anyhow::Result<Option<bool>> {
    let Some(r) = raw.get(key) else {
        return Ok(None);
    };
    match r.value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(Some(true)),
        "false" | "no" | "off" | "0" => Ok(Some(false)),
        _ => bail!("{}: must be true or false", r.origin),
    }
}

impl Sending {
    /// The address filter link preview fetches go through. The media
    /// allow-list was checked at load.
    pub fn preview_policy(&self) -> wagate_net::AddressPolicy {
        let allow: &[String] = if self.preview_use_media_allow {
            &self.fetch_allow
        } else {
            &[]
        };
        wagate_net::AddressPolicy::from_allow_list(allow)
            .expect("validated when the config was loaded")
    }

    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Sending> {
        let mut s = Sending::default();
        let p = &mut s.policy;
        let hour = 3_600_000;
        if let Some(n) = number(raw, "send_min_interval_ms", hour)? {
            p.min_interval_ms = n;
        }
        if let Some(n) = number(raw, "send_jitter_percent", 100)? {
            p.jitter_percent = n as u8;
        }
        if let Some(n) = number(raw, "send_hourly_cap", u64::from(u32::MAX))? {
            p.hourly_cap = n as u32;
        }
        if let Some(n) = number(raw, "send_first_contact_daily_cap", u64::from(u32::MAX))? {
            p.first_contact_daily_cap = n as u32;
        }
        if let Some(n) = number(raw, "send_typing_ms", 60_000)? {
            p.typing_ms = n;
        }
        if let Some(n) = number(raw, "send_ack_timeout_ms", hour)? {
            if n < 100 {
                bail!("send_ack_timeout_ms: must be at least 100");
            }
            s.ack_timeout = Duration::from_millis(n);
        }
        if let Some(n) = number(raw, "send_parallel_recipients", 64)? {
            if n == 0 {
                bail!("send_parallel_recipients: must be at least 1");
            }
            s.parallel_recipients = n as usize;
        }
        let l = &mut s.media_limits;
        let gib = 2 * 1024 * 1024 * 1024;
        for (key, slot) in [
            ("media_max_image_bytes", &mut l.image),
            ("media_max_video_bytes", &mut l.video),
            ("media_max_audio_bytes", &mut l.audio),
            ("media_max_document_bytes", &mut l.document),
            ("media_max_sticker_bytes", &mut l.sticker),
        ] {
            if let Some(n) = number(raw, key, gib)? {
                *slot = n;
            }
        }
        if let Some(r) = raw.get("media_fetch_allow") {
            s.fetch_allow = r
                .value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect();
            if let Err(e) = wagate_net::AddressPolicy::from_allow_list(&s.fetch_allow) {
                bail!("{}: {e}", r.origin);
            }
        }
        if let Some(on) = flag(raw, "link_preview_fetch")? {
            s.preview_fetch = on;
        }
        if let Some(on) = flag(raw, "link_preview_use_media_allow")? {
            s.preview_use_media_allow = on;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use std::net::IpAddr;

    #[test]
    fn link_previews_are_fetched_by_default_under_the_media_allow_list() {
        let local: IpAddr = "10.1.2.3".parse().unwrap();
        let config = load(&[("WAGATE_MEDIA_FETCH_ALLOW", "10.0.0.0/8")]).unwrap();
        assert!(config.sending.preview_fetch);
        assert!(config.sending.preview_policy().check_ip(local).is_ok());

        let config = load(&[
            ("WAGATE_MEDIA_FETCH_ALLOW", "10.0.0.0/8"),
            ("WAGATE_LINK_PREVIEW_FETCH", "off"),
            ("WAGATE_LINK_PREVIEW_USE_MEDIA_ALLOW", "false"),
        ])
        .unwrap();
        assert!(!config.sending.preview_fetch);
        assert!(config.sending.preview_policy().check_ip(local).is_err());

        let err = load(&[("WAGATE_LINK_PREVIEW_FETCH", "sometimes")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "WAGATE_LINK_PREVIEW_FETCH: must be true or false"
        );
    }
}
