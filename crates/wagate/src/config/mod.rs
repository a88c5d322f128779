//! Settings, in layers: the documented defaults built into the binary,
//! then an optional TOML file, then `WAGATE_*` environment variables.
//! Everything is validated here, once; an error names the setting and
//! where its value came from.

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The defaults, with a comment for every setting.
pub const DEFAULTS: &str = include_str!("../../config.default.toml");

/// Every setting and the environment variable that overrides it.
const SETTINGS: &[(&str, &str)] = &[
    ("listen", "WAGATE_LISTEN"),
    ("public_url", "WAGATE_PUBLIC_URL"),
    ("database_url", "WAGATE_DATABASE_URL"),
    ("data_dir", "WAGATE_DATA_DIR"),
    ("admin_key", "WAGATE_ADMIN_KEY"),
    ("master_key", "WAGATE_MASTER_KEY"),
    ("wa_url", "WAGATE_WA_URL"),
    ("wa_version", "WAGATE_WA_VERSION"),
    ("log", "WAGATE_LOG"),
    ("send_min_interval_ms", "WAGATE_SEND_MIN_INTERVAL_MS"),
    ("send_jitter_percent", "WAGATE_SEND_JITTER_PERCENT"),
    ("send_hourly_cap", "WAGATE_SEND_HOURLY_CAP"),
    (
        "send_first_contact_daily_cap",
        "WAGATE_SEND_FIRST_CONTACT_DAILY_CAP",
    ),
    ("send_typing_ms", "WAGATE_SEND_TYPING_MS"),
    ("send_ack_timeout_ms", "WAGATE_SEND_ACK_TIMEOUT_MS"),
    (
        "send_parallel_recipients",
        "WAGATE_SEND_PARALLEL_RECIPIENTS",
    ),
    ("media_max_image_bytes", "WAGATE_MEDIA_MAX_IMAGE_BYTES"),
    ("media_max_video_bytes", "WAGATE_MEDIA_MAX_VIDEO_BYTES"),
    ("media_max_audio_bytes", "WAGATE_MEDIA_MAX_AUDIO_BYTES"),
    (
        "media_max_document_bytes",
        "WAGATE_MEDIA_MAX_DOCUMENT_BYTES",
    ),
    ("media_max_sticker_bytes", "WAGATE_MEDIA_MAX_STICKER_BYTES"),
    ("media_fetch_allow", "WAGATE_MEDIA_FETCH_ALLOW"),
    ("media_store", "WAGATE_MEDIA_STORE"),
    ("s3_bucket", "WAGATE_S3_BUCKET"),
    ("s3_region", "WAGATE_S3_REGION"),
    ("s3_endpoint", "WAGATE_S3_ENDPOINT"),
    ("s3_prefix", "WAGATE_S3_PREFIX"),
    ("s3_access_key_id", "WAGATE_S3_ACCESS_KEY_ID"),
    ("s3_secret_access_key", "WAGATE_S3_SECRET_ACCESS_KEY"),
    ("s3_path_style", "WAGATE_S3_PATH_STYLE"),
    ("media_public_url_ttl_s", "WAGATE_MEDIA_PUBLIC_URL_TTL_S"),
    ("link_preview_fetch", "WAGATE_LINK_PREVIEW_FETCH"),
    (
        "link_preview_use_media_allow",
        "WAGATE_LINK_PREVIEW_USE_MEDIA_ALLOW",
    ),
    ("webhook_allow", "WAGATE_WEBHOOK_ALLOW"),
    ("webhook_retry_delays_ms", "WAGATE_WEBHOOK_RETRY_DELAYS_MS"),
    ("history_retention_days", "WAGATE_HISTORY_RETENTION_DAYS"),
    (
        "history_sweep_interval_ms",
        "WAGATE_HISTORY_SWEEP_INTERVAL_MS",
    ),
    ("profile_seed000", "WAGATE_PROFILE_SEED000"),
    ("profile_seed003", "WAGATE_PROFILE_SEED003"),
    ("profile_external", "WAGATE_PROFILE_EXTERNAL"),
    ("jwt_access_ttl_s", "WAGATE_JWT_ACCESS_TTL_S"),
    ("jwt_refresh_ttl_s", "WAGATE_JWT_REFRESH_TTL_S"),
    ("default_tier", "WAGATE_DEFAULT_TIER"),
    ("lease_ttl_ms", "WAGATE_LEASE_TTL_MS"),
    ("roles", "WAGATE_ROLES"),
];

mod accounts;
mod cluster;
mod history;
mod media;
mod profiles;
mod sending;
mod tiers;
mod webhooks;
pub use accounts::Accounts;
pub use cluster::{Cluster, Roles};
pub use history::History;
pub use media::{Media, MediaStore};
pub use sending::Sending;
pub use tiers::Tiers;
pub use webhooks::Webhooks;

/// A secret string; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The 32-byte key that encrypts WhatsApp state at rest; `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey(pub [u8; 32]);

impl MasterKey {
    pub fn from_base64(encoded: &str) -> Option<Self> {
        let bytes = BASE64.decode(encoded.trim()).ok()?;
        Some(MasterKey(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where clients reach the gateway (behind a proxy, its address), for
    /// the links in event payloads; `None`: the listening address.
    pub public_url: Option<String>,
    pub database_url: String,
    /// Where `master.key` lives: `data_dir`, else the database's directory.
    pub data_dir: PathBuf,
    pub admin_key: Option<Secret>,
    /// `None`: read or generate `master.key` in `data_dir`.
    pub master_key: Option<MasterKey>,
    pub wa_url: String,
    /// The WhatsApp Web version clients announce; `None` looks it up.
    pub wa_version: Option<(u32, u32, u32)>,
    /// tracing `EnvFilter` directives.
    pub log: String,
    /// Pacing, ack timeout, media limits, media fetch allow-list.
    pub sending: Sending,
    /// The webhook endpoint allow-list.
    pub webhooks: Webhooks,
    /// Message history retention.
    pub history: History,
    /// Where media files are kept; signed public links.
    pub media: Media,
    /// Which compatibility profiles are served.
    pub profiles: wagate_api::profiles::Profiles,
    /// How long user login tokens live.
    pub accounts: Accounts,
    /// The tier of tenants created without one.
    pub tiers: Tiers,
    /// Session leases, when nodes share the database.
    pub cluster: Cluster,
}

/// A raw setting and where it came from, for error messages.
struct Raw {
    value: String,
    origin: String,
}

impl Config {
    /// Loads from the process environment and `--config` (if given).
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Config> {
        Config::load_from(config_file, |name| std::env::var(name).ok())
    }

    /// Loads with `env` standing in for the process environment.
    pub fn load_from(
        config_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let mut raw = BTreeMap::new();
        merge_toml(&mut raw, DEFAULTS, "built-in defaults")?;

        let explicit = config_file
            .map(Path::to_path_buf)
            .or_else(|| env("WAGATE_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(path) => Some(path),
            None => Some(PathBuf::from("wagate.toml")).filter(|p| p.is_file()),
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            merge_toml(&mut raw, &text, &path.display().to_string())?;
        }

        for &(key, var) in SETTINGS {
            let value = env(var).or_else(|| (key == "log").then(|| env("RUST_LOG")).flatten());
            if let Some(value) = value {
                let origin = if env(var).is_some() { var } else { "RUST_LOG" };
                raw.insert(
                    key,
                    Raw {
                        value,
                        origin: origin.to_string(),
                    },
                );
            }
        }
        Config::validate(raw)
    }

    fn validate(mut raw: BTreeMap<&'static str, Raw>) -> anyhow::Result<Config> {
        // Empty means unset, so `WAGATE_ADMIN_KEY=` can clear a file value.
        raw.retain(|_, r| !r.value.trim().is_empty());
        let required = |raw: &BTreeMap<_, Raw>, key: &str| -> anyhow::Result<(String, String)> {
            match raw.get(key) {
                Some(r) => Ok((r.value.trim().to_string(), r.origin.clone())),
                None => bail!("{key}: must be set"),
            }
        };

        let (listen, origin) = required(&raw, "listen")?;
        let listen: SocketAddr = listen
            .parse()
            .map_err(|_| anyhow::anyhow!("{origin}: invalid socket address '{listen}'"))?;

        let public_url = match raw.get("public_url") {
            Some(r) => {
                Some(public_url(r.value.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", r.origin))?)
            }
            None => None,
        };

        let (database_url, origin) = required(&raw, "database_url")?;
        if !database_url.starts_with("sqlite:") && !wagate_store::db::is_postgres_url(&database_url)
        {
            bail!(
                "{origin}: unsupported database URL '{database_url}' \
                 (expected sqlite://PATH or postgres://USER@HOST/DATABASE)"
            );
        }

        let data_dir = match raw.get("data_dir") {
            Some(r) => PathBuf::from(r.value.trim()),
            None => sqlite_file(&database_url)
                .and_then(|file| file.parent().map(Path::to_path_buf))
                .map(|dir| {
                    if dir.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        dir
                    }
                })
                .unwrap_or_else(|| PathBuf::from("./data")),
        };

        let admin_key = match raw.get("admin_key") {
            Some(r) if r.value.trim().chars().count() < 16 => {
                bail!("{}: must be at least 16 characters", r.origin)
            }
            Some(r) => Some(Secret::new(r.value.trim())),
            None => None,
        };

        let master_key = match raw.get("master_key") {
            Some(r) => Some(MasterKey::from_base64(&r.value).ok_or_else(|| {
                anyhow::anyhow!("{}: must be the base64 encoding of 32 bytes", r.origin)
            })?),
            None => None,
        };

        let (wa_url, origin) = required(&raw, "wa_url")?;
        if !(wa_url.starts_with("wss://") || wa_url.starts_with("ws://")) {
            bail!("{origin}: invalid websocket URL '{wa_url}' (expected ws:// or wss://)");
        }

        let wa_version = match raw.get("wa_version") {
            Some(r) => Some(parse_version(r.value.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: invalid version '{}' (expected like 2.3000.1023456789)",
                    r.origin,
                    r.value.trim()
                )
            })?),
            None => None,
        };

        let (log, origin) = required(&raw, "log")?;
        tracing_subscriber::EnvFilter::try_new(&log)
            .map_err(|err| anyhow::anyhow!("{origin}: invalid log filter '{log}': {err}"))?;

        // Empty is allowed for the allow-list: it means "none".
        let sending = Sending::from_raw(&raw)?;
        let webhooks = Webhooks::from_raw(&raw)?;
        let history = History::from_raw(&raw)?;
        let media = Media::from_raw(&raw)?;
        let profiles = profiles::from_raw(&raw)?;
        let accounts = Accounts::from_raw(&raw)?;
        let tiers = Tiers::from_raw(&raw)?;
        let cluster = Cluster::from_raw(&raw)?;
        Ok(Config {
            cluster,
            profiles,
            accounts,
            tiers,
            history,
            media,
            sending,
            webhooks,
            listen,
            public_url,
            database_url,
            data_dir,
            admin_key,
            master_key,
            wa_url,
            wa_version,
            log,
        })
    }
}

/// An absolute http(s) URL with no query or fragment, without its
/// trailing slash: paths are appended to it.
fn public_url(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("'{value}' must be an http:// or https:// URL"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(format!("'{value}' must be an http:// or https:// URL"));
    }
    if value.contains(['?', '#']) {
        return Err(format!("'{value}' must not have a query or fragment"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// Adds the settings in TOML `text` to `raw`; unknown keys and non-string
/// values are errors, so typos do not pass silently.
fn merge_toml(
    raw: &mut BTreeMap<&'static str, Raw>,
    text: &str,
    source: &str,
) -> anyhow::Result<()> {
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{source}: not valid TOML"))?;
    for (key, value) in table {
        let Some(&(known, _)) = SETTINGS.iter().find(|(k, _)| *k == key) else {
            bail!("{source}: unknown setting '{key}'");
        };
        let Some(value) = value.as_str() else {
            bail!("{key} in {source}: must be a string");
        };
        raw.insert(
            known,
            Raw {
                value: value.to_string(),
                origin: format!("{key} in {source}"),
            },
        );
    }
    Ok(())
}

/// The file behind an SQLite URL; `None` for in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// `major.minor.patch` as three numbers.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads the defaults with `vars` as the environment (for the
    /// settings modules' tests too).
    pub(super) fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_from(None, |name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_valid() {
        let config = load(&[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.admin_key, None);
        assert_eq!(config.wa_url, "wss://web.whatsapp.com/ws/chat");
    }

    #[test]
    fn env_overrides_and_errors_name_the_variable() {
        let err = load(&[("WAGATE_LISTEN", "x")]).unwrap_err();
        assert_eq!(err.to_string(), "WAGATE_LISTEN: invalid socket address 'x'");
        let err = load(&[("WAGATE_MASTER_KEY", "short")]).unwrap_err();
        assert!(err.to_string().starts_with("WAGATE_MASTER_KEY:"), "{err}");
        let err = load(&[("WAGATE_ADMIN_KEY", "short")]).unwrap_err();
        assert!(err.to_string().starts_with("WAGATE_ADMIN_KEY:"), "{err}");
        let err = load(&[("RUST_LOG", "info,=[")]).unwrap_err();
        assert!(err.to_string().starts_with("RUST_LOG:"), "{err}");
        let config = load(&[("WAGATE_DATABASE_URL", "sqlite:///var/lib/w/x.db")]).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/w"));
    }

    #[test]
    fn public_url_is_checked_and_loses_its_trailing_slash() {
        assert_eq!(load(&[]).unwrap().public_url, None);
        let set = load(&[("WAGATE_PUBLIC_URL", "https://wa.example.com/gw/")]).unwrap();
        assert_eq!(set.public_url.as_deref(), Some("https://wa.example.com/gw"));
        for bad in ["wa.example.com", "ftp://x", "https://x/?a=1"] {
            let err = load(&[("WAGATE_PUBLIC_URL", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("WAGATE_PUBLIC_URL:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn parallel_recipients_default_and_bounds() {
        assert_eq!(load(&[]).unwrap().sending.parallel_recipients, 8);
        let one = load(&[("WAGATE_SEND_PARALLEL_RECIPIENTS", "1")]).unwrap();
        assert_eq!(one.sending.parallel_recipients, 1);
        for bad in ["0", "65", "x"] {
            let err = load(&[("WAGATE_SEND_PARALLEL_RECIPIENTS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("send_parallel_recipients")
                    || err.to_string().contains("WAGATE_SEND_PARALLEL_RECIPIENTS"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn file_layer_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wagate.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\n").unwrap();
        let config = Config::load_from(Some(&path), |_| None).unwrap();
        assert_eq!(config.listen.port(), 9000);
        std::fs::write(&path, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load_from(Some(&path), |_| None).unwrap_err();
        assert!(err.to_string().contains("unknown setting 'lisen'"), "{err}");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let key = MasterKey([7; 32]);
        let config = load(&[
            ("WAGATE_ADMIN_KEY", "super-secret-admin-key"),
            ("WAGATE_MASTER_KEY", &key.to_base64()),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(!shown.contains(&key.to_base64()), "{shown}");
        assert_eq!(config.master_key, Some(key));
    }
}
