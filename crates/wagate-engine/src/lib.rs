//! The session engine: one supervised task per WhatsApp session, each
//! owning a whatsapp-rust client whose credentials live in our database.
//!
//! The engine writes what it learns (status, QR, pair code, phone number,
//! last connected) through [`SessionRecords`]; the API reads the store.

mod control;
mod durable_inbound;
mod events;
mod http;
pub mod inbound;
mod media_fetch;
pub mod outbound;
mod poll_votes;
mod state_writer;
mod supervisor;

pub use http::SharedHttpClient;
pub use wacore::net::HttpClient;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wagate_core::{Metrics, SessionKey, SessionRecords, SessionStatus, SessionUpdate};
use wagate_store::StateCipher;

/// How sessions reach WhatsApp.
#[derive(Clone)]
pub struct EngineConfig {
    /// WhatsApp Web socket URL (`wss://web.whatsapp.com/ws/chat` in
    /// production, the simulator's `ws://` URL in tests).
    pub wa_url: String,
    /// Pins the WhatsApp Web version the client announces; `None` lets the
    /// client look it up from web.whatsapp.com.
    pub client_version: Option<(u32, u32, u32)>,
    /// Replaces the default HTTPS client for media and version lookups.
    pub http_client: Option<Arc<dyn HttpClient>>,
    /// The gateway's own base URL (`http://host:port`), for the media links
    /// in received-message events.
    pub public_url: String,
    /// Signs the public links to received media, when they are on.
    pub media_links: Option<wagate_store::blobs::MediaLinks>,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("wa_url", &self.wa_url)
            .field("client_version", &self.client_version)
            .field("http_client", &self.http_client.is_some())
            .finish()
    }
}

/// Runs every session of this process.
pub struct Engine {
    /// Lets `&self` methods hand an owned engine to session tasks.
    me: std::sync::Weak<Engine>,
    /// The process's database writer (and, through it, the pool).
    committer: wagate_store::Committer,
    cipher: Arc<StateCipher>,
    records: Arc<dyn SessionRecords>,
    metrics: Arc<Metrics>,
    config: EngineConfig,
    writer: state_writer::StateWriter,
    outbox: Arc<outbound::Outbox>,
    /// Where inbound messages and session changes are recorded as events.
    events: wagate_store::Events,
    /// What interrupted media downloads need to run again.
    media_downloads: wagate_store::media_downloads::MediaDownloads,
    sessions: Mutex<HashMap<SessionKey, supervisor::Running>>,
}

impl Engine {
    pub fn new(
        cipher: Arc<StateCipher>,
        records: Arc<dyn SessionRecords>,
        metrics: Arc<Metrics>,
        config: EngineConfig,
        outbox: outbound::Outbox,
        events: wagate_store::Events,
    ) -> Arc<Self> {
        let _ = outbox.metrics.set(metrics.clone());
        let media_downloads = wagate_store::media_downloads::MediaDownloads::new(
            outbox.queue.committer().clone(),
            cipher.clone(),
        );
        Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            committer: outbox.queue.committer().clone(),
            cipher,
            writer: state_writer::StateWriter::start(records.clone()),
            records,
            metrics,
            config,
            outbox: Arc::new(outbox),
            media_downloads,
            events,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn arc(&self) -> Arc<Engine> {
        self.me
            .upgrade()
            .expect("the engine outlives its own method calls")
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, supervisor::Running>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings back every session that is linked to a phone, without a new
    /// QR; sessions never linked wait for an explicit connect.
    pub async fn restore(&self) -> anyhow::Result<usize> {
        durable_inbound::settle_interrupted(self).await;
        let keys = self.records.sessions_to_restore().await?;
        let mut started = 0;
        for key in keys {
            let backend = self.backend(&key);
            if backend.is_paired().await.unwrap_or(false) {
                self.start(key, backend).await?;
                started += 1;
            } else {
                self.writer
                    .record(&key, SessionUpdate::Status(SessionStatus::Disconnected));
            }
        }
        // Statuses written before the API serves, so nobody reads a stale
        // `connected` from before the restart.
        self.writer.flush().await;
        self.resume_sending().await?;
        Ok(started)
    }

    /// Puts back messages a previous process claimed but never finished
    /// (their ids are kept, so a resend is no duplicate) and starts a
    /// sender for every session with work.
    async fn resume_sending(&self) -> anyhow::Result<()> {
        let released = self.outbox.queue.release_all_claims().await?;
        if released > 0 {
            tracing::info!(
                released,
                "messages claimed before the restart are queued again"
            );
        }
        for (tenant, session) in self.outbox.queue.sessions_with_work().await? {
            if let Ok(session) = wagate_core::SessionId::parse(&session) {
                self.wake_sender(&SessionKey {
                    tenant: wagate_core::TenantId(tenant),
                    session,
                });
            }
        }
        Ok(())
    }

    /// New messages for a session (or its connection is back).
    pub fn wake_sender(&self, key: &SessionKey) {
        self.outbox.wake(&self.me, key);
    }

    /// Where the gateway serves the file of the received message recorded
    /// as event `id`.
    pub(crate) fn media_url(&self, id: &wagate_core::events::EventId) -> String {
        format!(
            "{}/api/v1/media/{}",
            self.config.public_url.trim_end_matches('/'),
            id.as_str()
        )
    }

    /// A signed link to the same file that needs no API key, when the
    /// gateway hands such links out. Signed now, as the event is made:
    /// the payload is stored once and sent as stored, so its expiry counts
    /// from when the message arrived.
    pub(crate) fn public_media_url(
        &self,
        tenant: wagate_core::TenantId,
        id: &wagate_core::events::EventId,
    ) -> Option<String> {
        let links = self.config.media_links.as_ref()?;
        Some(links.url(
            &self.config.public_url,
            tenant.0,
            id.as_str(),
            chrono::Utc::now().timestamp(),
        ))
    }

    pub fn outbox(&self) -> &outbound::Outbox {
        &self.outbox
    }

    fn backend(&self, key: &SessionKey) -> wagate_store::WaStateBackend {
        wagate_store::WaStateBackend::new(
            self.committer.clone(),
            self.cipher.clone(),
            key.tenant,
            key.session.clone(),
        )
    }

    /// Stops every session, flushing its client state to the database.
    pub async fn shutdown(&self) {
        let all: Vec<supervisor::Running> = self.running().drain().map(|(_, r)| r).collect();
        futures::future::join_all(all.into_iter().map(supervisor::Running::stop)).await;
        self.writer.flush().await;
    }

    /// How many sessions have a live task.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }
}
