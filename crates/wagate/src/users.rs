//! `wagate users create`: a user made straight in the database, so the
//! first admin can log in before anyone holds a token.

use crate::config::Config;
use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};
use wagate_core::{Email, Password, PasswordHash, TenantId, UserRole};
use wagate_store::domain::NewUser;

/// Where the password comes from when it is not piped in.
pub const PASSWORD_VAR: &str = "WAGATE_USER_PASSWORD";

pub async fn create(
    config: &Config,
    email: &str,
    role: &str,
    tenant_id: Option<i64>,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|err| anyhow::anyhow!("--email: {err}"))?;
    let role = UserRole::parse(role).context("--role: must be admin or customer")?;
    let password = Password::new(&read_password()?).map_err(|err| anyhow::anyhow!("{err}"))?;
    let store = crate::open_store(config).await?;
    let tenant = match (role, tenant_id) {
        (_, Some(id)) => {
            store
                .tenant(TenantId(id))
                .await?
                .with_context(|| format!("--tenant-id: no tenant {id}"))?
                .id
        }
        (UserRole::Admin, None) => store.default_tenant().await?.id,
        (UserRole::Customer, None) => anyhow::bail!("--tenant-id: required for customer users"),
    };
    let password_hash = tokio::task::spawn_blocking(move || PasswordHash::of(&password)).await?;
    let user = store
        .create_user(&NewUser {
            tenant,
            email,
            role,
            password_hash,
        })
        .await?;
    println!(
        "created {} user {} ({}) in tenant {}",
        user.role, user.id, user.email, user.tenant
    );
    Ok(())
}

/// The password from the environment, else the first line of standard
/// input (asked for when a person is typing it).
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_VAR) {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (shown as typed; pipe it in or set {PASSWORD_VAR} to hide it): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!("no password: set {PASSWORD_VAR} or write it to standard input");
    }
    Ok(password)
}
