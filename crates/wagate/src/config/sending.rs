//! The sending settings: default pacing, ack timeout, media limits and
//! the media fetcher's allow-list.

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
    pub media_limits: MediaLimits,
    /// IPs or CIDR blocks media may be fetched from despite being private.
    pub fetch_allow: Vec<String>,
}

impl Default for Sending {
    fn default() -> Self {
        Sending {
            policy: SendPolicy::default(),
            ack_timeout: Duration::from_secs(20),
            media_limits: MediaLimits::default(),
            fetch_allow: Vec::new(),
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

impl Sending {
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
        Ok(s)
    }
}
