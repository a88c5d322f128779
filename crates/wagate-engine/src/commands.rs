//! Carrying out commands other nodes wrote for sessions this node runs
//! (or can take, when no node runs them). Woken by notification on
//! PostgreSQL, and every quarter TTL in any case; each command runs on a
//! task of its own, since a pair code waits for WhatsApp.

use crate::Engine;
use std::sync::{Arc, Weak};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use wagate_store::domain::commands::{COMMANDS_CHANNEL, SessionCommand};

/// Commands looked at per wake.
const BATCH: u32 = 32;

/// The loop and the listener feeding it; both end with [`Commands::stop`].
pub(crate) struct Commands {
    runner: JoinHandle<()>,
    listener: Option<JoinHandle<()>>,
}

impl Commands {
    pub fn start(engine: &Arc<Engine>) -> Commands {
        let wake = Arc::new(Notify::new());
        let rung = wake.clone();
        let listener = wagate_store::db::notices::listen(
            engine.store.db(),
            COMMANDS_CHANNEL,
            Arc::new(move |_: &str| rung.notify_one()),
        );
        let runner = tokio::spawn(run(Arc::downgrade(engine), wake));
        Commands { runner, listener }
    }

    pub fn stop(self) {
        self.runner.abort();
        if let Some(listener) = self.listener {
            listener.abort();
        }
    }
}

async fn run(engine: Weak<Engine>, wake: Arc<Notify>) {
    loop {
        let Some(e) = engine.upgrade() else { return };
        let every = e.leases.settings.renew_every();
        match e.store.open_commands(&e.leases.settings.node, BATCH).await {
            Ok(commands) => {
                for command in commands {
                    take(&e, command).await;
                }
            }
            Err(err) => tracing::warn!("cannot read session commands: {err}"),
        }
        drop(e);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Takes `command` and carries it out on a task of its own, when this
/// node is the one to; puts it back otherwise.
async fn take(engine: &Arc<Engine>, command: SessionCommand) {
    let node = engine.leases.settings.node.clone();
    match engine.store.take_command(command.id, &node).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => {
            tracing::warn!("cannot take a session command: {err}");
            return;
        }
    }
    let engine = engine.clone();
    tokio::spawn(async move {
        let SessionCommand {
            id,
            key,
            command,
            argument,
        } = command;
        let done = engine.carry_out(&key, &command, argument.as_deref()).await;
        let recorded = match done {
            Ok(None) => engine.store.untake_command(id).await,
            Ok(Some(answer)) => engine.store.answer_command(id, &Ok(answer)).await,
            Err(err) => engine.store.answer_command(id, &Err(err)).await,
        };
        if let Err(err) = recorded {
            tracing::warn!(session = %key.session, command, "session command not answered: {err}");
        }
    });
}
