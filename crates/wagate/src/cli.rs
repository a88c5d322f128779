//! The command line: `serve`, `migrate`, `openapi`, `keys create`,
//! `users create`, and in builds with the `demo` feature, `demo`.

use crate::config::Config;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wagate_core::keys::tail;
use wagate_core::{ApiKeyScope, NewApiKey, SessionId, SessionKey, TenantId};
use wagate_store::domain::NewApiKeyRecord;

#[derive(Debug, Parser)]
#[command(
    name = "wagate",
    version,
    about = "Self-hosted multi-tenant WhatsApp gateway"
)]
pub struct Cli {
    /// Config file (default: $WAGATE_CONFIG, else ./wagate.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the session engine until SIGINT or SIGTERM.
    Serve {
        /// What this node does: any of api, engine, sender, webhooks
        /// (engine and sender together), comma-separated; all by default
        /// (or $WAGATE_ROLES).
        #[arg(long)]
        roles: Option<String>,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Print the OpenAPI document (the committed openapi.json).
    Openapi,
    /// Manage API keys without going through the API.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage users without going through the API (e.g. the first admin).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Try wagate against a simulated WhatsApp server: no phone, no
    /// internet, a temporary database. Reads no configuration.
    #[cfg(feature = "demo")]
    Demo(crate::demo::DemoOptions),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown only this once).
    Create {
        /// admin, tenant or session.
        #[arg(long)]
        scope: String,
        /// Tenant id (default: the default tenant).
        #[arg(long)]
        tenant_id: Option<i64>,
        /// Session id, for session keys.
        #[arg(long)]
        session_id: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user who logs in with an email and a password. The password
    /// is read from WAGATE_USER_PASSWORD, else from the first line of
    /// standard input (never from the command line, which others can see).
    Create {
        #[arg(long)]
        email: String,
        /// admin or customer.
        #[arg(long)]
        role: String,
        /// Tenant id: required for customers; admins default to the
        /// default tenant.
        #[arg(long)]
        tenant_id: Option<i64>,
    },
}

/// Logs to stderr with `filter` and starts the async runtime; `None` (said
/// on stderr, as `who`) when the runtime cannot start.
pub(crate) fn start_process(who: &str, filter: &str) -> Option<tokio::runtime::Runtime> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colour codes only help a person at a terminal, not log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    tokio::runtime::Runtime::new()
        .inspect_err(|err| eprintln!("{who}: cannot start the async runtime: {err}"))
        .ok()
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo brings its own settings; the configuration is not read.
    #[cfg(feature = "demo")]
    let cli = match cli.command {
        Command::Demo(options) => return crate::demo::main(options),
        command => Cli { command, ..cli },
    };
    if let Command::Openapi = cli.command {
        print!("{}", wagate_api::openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("wagate: configuration error: {err:#}");
            return ExitCode::from(2);
        }
    };
    if let Command::Serve { roles: Some(roles) } = &cli.command {
        match crate::config::Roles::parse(roles) {
            Ok(roles) => config.cluster.roles = roles,
            Err(err) => {
                eprintln!("wagate: configuration error: --roles: {err}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(runtime) = start_process("wagate", &config.log) else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(execute(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wagate: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            crate::run(config, listener, shutdown_signal()).await
        }
        Command::Migrate => {
            crate::open_store(&config).await?;
            println!("database {} is up to date", config.database_url);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", wagate_api::openapi::document_json());
            Ok(())
        }
        Command::Keys(KeysCommand::Create {
            scope,
            tenant_id,
            session_id,
            name,
        }) => {
            let store = crate::open_store(&config).await?;
            let scope = ApiKeyScope::parse(&scope)
                .context("--scope: must be one of admin, tenant, session")?;
            let tenant = match tenant_id {
                Some(id) => store
                    .tenant(TenantId(id))
                    .await?
                    .with_context(|| format!("--tenant-id: no tenant {id}"))?,
                None => store.default_tenant().await?,
            };
            let session = session_id.map(|raw| SessionId::parse(&raw)).transpose()?;
            if let Some(session) = &session {
                let key = SessionKey {
                    tenant: tenant.id,
                    session: session.clone(),
                };
                store
                    .session(&key)
                    .await?
                    .with_context(|| format!("--session-id: no session '{session}'"))?;
            }
            let secret = NewApiKey::generate();
            let stored = store
                .create_api_key(&NewApiKeyRecord {
                    tenant: tenant.id,
                    scope,
                    session,
                    digest: secret.digest.clone(),
                    tail: tail(&secret.secret),
                    name,
                })
                .await?;
            println!("{}", secret.secret);
            eprintln!(
                "created {} key {} ({})",
                scope.as_str(),
                stored.id,
                stored.masked()
            );
            Ok(())
        }
        Command::Users(UsersCommand::Create {
            email,
            role,
            tenant_id,
        }) => crate::users::create(&config, &email, &role, tenant_id).await,
        #[cfg(feature = "demo")]
        Command::Demo(_) => unreachable!("the demo starts before the configuration is read"),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested");
}
