//! What the first start sets up: the admin key and the master key.

use crate::config::{Config, MasterKey, Secret};
use anyhow::{Context, bail};
use rand::RngCore;
use std::io::Write;
use std::path::Path;
use wagate_core::keys::tail;
use wagate_core::{ApiKeyScope, KeyDigest, NewApiKey};
use wagate_store::Store;
use wagate_store::domain::NewApiKeyRecord;

/// Makes sure an admin can get in. With `configured` (`WAGATE_ADMIN_KEY`),
/// a key with that secret is kept as an admin key. Without it, and with no
/// usable admin key stored, a key is generated and returned so it can be
/// shown once; only its digest is stored.
pub async fn ensure_admin_key(
    store: &Store,
    configured: Option<&Secret>,
) -> anyhow::Result<Option<String>> {
    let new = match configured {
        Some(secret) => match store.find_api_key(&KeyDigest::of(secret.expose())).await? {
            Some(key) if key.scope == ApiKeyScope::Admin && !key.is_revoked() => {
                return Ok(None);
            }
            Some(_) => {
                bail!("WAGATE_ADMIN_KEY: matches a stored key that is revoked or not an admin key")
            }
            None => NewApiKey::from_secret(secret.expose().to_string()),
        },
        None if store.has_active_admin_key().await? => return Ok(None),
        None => NewApiKey::generate(),
    };
    let tenant = store.default_tenant().await?;
    store
        .create_api_key(&NewApiKeyRecord {
            tenant: tenant.id,
            scope: ApiKeyScope::Admin,
            session: None,
            digest: new.digest.clone(),
            tail: tail(&new.secret),
            name: Some("admin".to_string()),
        })
        .await?;
    tracing::info!(masked = %wagate_core::keys::mask(&tail(&new.secret)), "admin key stored");
    Ok(configured.is_none().then_some(new.secret))
}

/// Shows a generated admin key on stdout, once, apart from the logs.
pub fn print_admin_key(secret: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nwagate: generated an admin API key. It is shown only this once:\n\n    \
         {secret}\n\nStore it now. Set WAGATE_ADMIN_KEY to choose your own instead.\n"
    );
    let _ = out.flush();
}

/// The master key: from the configuration, else from `master.key` in the
/// data directory, which is generated (mode 0600) on first start.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(key) = &config.master_key {
        return Ok(key.clone());
    }
    let path = config.data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let key = MasterKey::from_base64(&text).with_context(|| {
            format!(
                "{}: must hold the base64 encoding of 32 bytes",
                path.display()
            )
        })?;
        tracing::info!(path = %path.display(), "master key read from file");
        return Ok(key);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = MasterKey(bytes);
    write_private(&path, &key.to_base64())?;
    tracing::warn!(
        path = %path.display(),
        "generated a new master key; back it up: without it stored WhatsApp sessions cannot be restored"
    );
    Ok(key)
}

/// Creates `path` readable by its owner only; never overwrites.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()?;
    Ok(())
}
