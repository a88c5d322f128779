//! One session's task: builds its whatsapp-rust client over our encrypted
//! store, turns client events into session state, and restarts the client
//! if it stops for any reason other than a logout or a stop request.

use crate::{Engine, SharedHttpClient};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wagate_core::{SessionKey, SessionStatus, SessionUpdate};
use wagate_store::WaStateBackend;
use wagate_store::outbound::Outcome;
use whatsapp_rust::bot::{Bot, BotHandle, EventDelivery};
use whatsapp_rust::transport::TokioWebSocketTransportFactory;
use whatsapp_rust::types::events::Event;
use whatsapp_rust::{CacheConfig, CacheEntryConfig, Client};

/// How long to wait before restarting a client that stopped unexpectedly.
const RESTART_DELAY: Duration = Duration::from_secs(2);
/// How long a client that stopped may still deliver its last events.
const LAST_WORDS: Duration = Duration::from_millis(300);
/// Events buffered between the client and the session task.
const EVENT_MAILBOX: usize = 1024;
/// Sent messages a client keeps in memory for answering retry receipts.
/// Without this cache the client awaits the database write of every sent
/// message before `send_message` returns, which halves a session's send
/// rate; with it the row is still written, just behind the send. The cap
/// bounds a busy session's memory (a few hundred bytes per text).
const RECENT_SENT_IN_MEMORY: u64 = 256;
/// How long a sent message stays in that cache: the client's own default.
const RECENT_SENT_TTL: Duration = Duration::from_secs(300);

/// The handle the engine keeps for a running session.
pub(crate) struct Running {
    pub client: Arc<Mutex<Option<Arc<Client>>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The client of the current connection attempt, if one is built.
    pub fn client(&self) -> Option<Arc<Client>> {
        self.client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the task to stop its client (flushing state) and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Why a client's run ended.
enum Ending {
    Stopped,
    LoggedOut,
    /// QR codes ran out with nobody scanning.
    Unlinked,
    /// Another login of the same device took over (`conflict: replaced`).
    Replaced,
    Unexpected,
}

impl Engine {
    /// Takes `key`'s lease (see [`Ownership::acquire`]); when it is new to
    /// this node, the messages the previous holder had claimed go back to
    /// the queue. False when another node holds it.
    ///
    /// [`Ownership::acquire`]: crate::ownership::Ownership::acquire
    pub(crate) async fn claim_session(
        &self,
        key: &SessionKey,
        steal: bool,
    ) -> anyhow::Result<bool> {
        let Some((_, new)) = self.leases.acquire(key, steal).await? else {
            return Ok(false);
        };
        if new {
            let released = self.outbox.queue.release_session_claims(key).await?;
            if released > 0 {
                tracing::info!(session = %key.session, released, "messages the previous holder claimed are queued again");
            }
        }
        Ok(true)
    }

    /// Starts the session's task (replacing a running one). The node must
    /// hold its lease.
    pub(crate) async fn start(&self, key: SessionKey) -> anyhow::Result<()> {
        let old = self.running().remove(&key);
        if let Some(old) = old {
            old.stop().await;
        }
        if self.leases.trusted_epoch(&key).is_none() {
            anyhow::bail!(
                "this node does not hold the lease of session {}",
                key.session
            );
        }
        self.writer
            .record(&key, SessionUpdate::Status(SessionStatus::Connecting));
        let (stop, stopped) = watch::channel(false);
        let client = Arc::new(Mutex::new(None));
        let engine = self.arc();
        let (task_key, task_client) = (key.clone(), client.clone());
        let task = tokio::spawn(async move {
            engine.supervise(task_key, task_client, stopped).await;
        });
        self.running().insert(key, Running { client, stop, task });
        Ok(())
    }

    /// Stops a session whose lease this node lost, without writing a
    /// thing for it: the new holder does.
    pub(crate) async fn lose(&self, key: &SessionKey) {
        tracing::warn!(session = %key.session, "lease lost; the session stops on this node");
        let running = self.running().remove(key);
        if let Some(r) = running {
            r.stop().await;
        }
    }

    async fn supervise(
        self: Arc<Self>,
        key: SessionKey,
        slot: Arc<Mutex<Option<Arc<Client>>>>,
        mut stopped: watch::Receiver<bool>,
    ) {
        loop {
            // Every (re)start asks whether the lease is still this node's.
            let Some(epoch) = self.leases.trusted_epoch(&key) else {
                tracing::warn!(session = %key.session, "not restarted: this node no longer holds its lease");
                return;
            };
            let backend = Arc::new(
                self.backend(&key)
                    .fenced(self.leases.settings.node.to_string(), epoch),
            );
            let ending = match self.run_client(&key, backend, &slot, &mut stopped).await {
                Ok(ending) => ending,
                Err(e) => {
                    tracing::warn!(session = %key.session, "session client failed: {e:#}");
                    Ending::Unexpected
                }
            };
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
            match ending {
                Ending::Stopped => return,
                Ending::LoggedOut => {
                    self.forget_credentials(&key, SessionStatus::LoggedOut)
                        .await;
                    break;
                }
                Ending::Unlinked => {
                    self.writer.record(&key, SessionUpdate::Qr(None));
                    self.writer
                        .record(&key, SessionUpdate::Status(SessionStatus::Disconnected));
                    break;
                }
                // Reconnecting would knock the other login off in turn,
                // and it back: the session waits for an explicit connect.
                Ending::Replaced => {
                    tracing::warn!(session = %key.session, "another login of this device replaced the session; not reconnecting");
                    self.writer
                        .record(&key, SessionUpdate::Status(SessionStatus::Disconnected));
                    break;
                }
                Ending::Unexpected => {
                    self.metrics.reconnect();
                    self.writer
                        .record(&key, SessionUpdate::Status(SessionStatus::Connecting));
                    tokio::select! {
                        _ = tokio::time::sleep(RESTART_DELAY) => {}
                        _ = stop_requested(&mut stopped) => return,
                    }
                }
            }
        }
        // The session ended on its own: it no longer counts as running,
        // and nobody should run it until asked to.
        self.running().remove(&key);
        self.writer.flush().await;
        self.leases.release(&key).await;
    }

    /// Wipes a session's WhatsApp state so its next connect shows a new QR.
    pub(crate) async fn forget_credentials(&self, key: &SessionKey, status: SessionStatus) {
        if let Err(e) =
            WaStateBackend::delete_all(self.committer.db(), key.tenant, &key.session).await
        {
            tracing::error!(session = %key.session, "cannot delete WhatsApp state: {e}");
        }
        self.fail_unsent(key).await;
        self.writer.record(key, SessionUpdate::Qr(None));
        self.writer.record(key, SessionUpdate::PairCode(None));
        self.writer.record(key, SessionUpdate::Status(status));
        // Callers answer with the session's new state: it must be written.
        self.writer.flush().await;
    }

    /// A logged-out session's number is gone: what it had not sent cannot
    /// go out from it, and must not go out from whichever number is linked
    /// next under the same session id. Each message fails with a reason
    /// (and its `message.status` event), so the sender can act on it.
    async fn fail_unsent(&self, key: &SessionKey) {
        let unsent = match self.outbox.queue.unsent(key).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(session = %key.session, "cannot list unsent messages: {e}");
                return;
            }
        };
        for id in unsent {
            self.outbox.count(false);
            self.outbox.outcomes.record(Outcome::Failed {
                id,
                reason: "the session was logged out before the message was sent".into(),
            });
        }
        self.outbox.outcomes.flush().await;
    }

    async fn run_client(
        &self,
        key: &SessionKey,
        backend: Arc<WaStateBackend>,
        slot: &Mutex<Option<Arc<Client>>>,
        stopped: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<Ending> {
        let (tx, mut events) = mpsc::unbounded_channel::<Arc<Event>>();
        let mut builder = Bot::builder()
            .with_backend_arc(backend)
            .with_transport_factory(crate::leased_transport::LeasedTransport {
                inner: TokioWebSocketTransportFactory::new().with_url(self.config.wa_url.clone()),
                ownership: self.leases.clone(),
                key: key.clone(),
            })
            .with_cache_config(CacheConfig {
                recent_messages: CacheEntryConfig::new(
                    Some(RECENT_SENT_TTL),
                    RECENT_SENT_IN_MEMORY,
                ),
                ..CacheConfig::default()
            })
            .with_event_delivery(EventDelivery::Ordered {
                capacity: EVENT_MAILBOX,
            })
            .on_event(move |event, _client| {
                let _ = tx.send(event);
                async {}
            })
            .with_inbound_durability_hook(crate::durable_inbound::InboundHook {
                engine: self.me.clone(),
                key: key.clone(),
            });
        if let Some(version) = self.config.client_version {
            builder = builder.with_version(version);
        }
        if let Some(http) = &self.config.http_client {
            builder = builder.with_http_client(SharedHttpClient(http.clone()));
        }
        let bot = builder.build().await?;
        let mut handle: BotHandle = bot.spawn();
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle.client());
        let mut logged_out = false;
        loop {
            tokio::select! {
                Some(event) = events.recv() => {
                    match self.apply(key, &handle.client(), &event).await {
                        Applied::LoggedOut => logged_out = true,
                        Applied::Unlinked => {
                            handle.shutdown().await;
                            return Ok(Ending::Unlinked);
                        }
                        Applied::Replaced => {
                            handle.shutdown().await;
                            return Ok(Ending::Replaced);
                        }
                        Applied::Continue => {}
                    }
                }
                _ = &mut handle => {
                    // Drain what the client said last before deciding.
                    let mut replaced = false;
                    // The client hands events over on a task of its own:
                    // its last words (a logout, a replacement) can trail
                    // the end of its run by a moment.
                    while let Ok(Some(event)) =
                        tokio::time::timeout(LAST_WORDS, events.recv()).await
                    {
                        match self.apply(key, &handle.client(), &event).await {
                            Applied::LoggedOut => logged_out = true,
                            Applied::Replaced => replaced = true,
                            _ => {}
                        }
                    }
                    return Ok(if logged_out {
                        Ending::LoggedOut
                    } else if replaced {
                        Ending::Replaced
                    } else {
                        Ending::Unexpected
                    });
                }
                _ = stop_requested(stopped) => {
                    handle.shutdown().await;
                    return Ok(Ending::Stopped);
                }
            }
            if logged_out {
                handle.shutdown().await;
                return Ok(Ending::LoggedOut);
            }
        }
    }
}

pub(crate) enum Applied {
    Continue,
    LoggedOut,
    Unlinked,
    Replaced,
}

/// Resolves once a stop was asked for (without holding the watch guard
/// across awaits).
async fn stop_requested(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
