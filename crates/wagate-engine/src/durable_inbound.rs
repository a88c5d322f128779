//! Received messages become `message.received` events before WhatsApp
//! gets their ack: whatsapp-rust holds the ack until this hook returns
//! `Ok`, so a crash before the commit makes WhatsApp deliver the message
//! again instead of losing it. A redelivered message is recognised by its
//! chat, sender and id and recorded once.
//!
//! Media is fetched after the commit (the ack must not wait on a
//! download); the event's webhook deliveries are held until the file is
//! stored or the download has failed, so receivers get the final
//! `media.status` either way. What the download needs is kept, sealed,
//! before the event commits, so a restart runs it again (`media_fetch`).

use crate::Engine;
use crate::inbound::map::inbound_message;
use crate::media_fetch::{fetch_and_settle, fetch_of};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Weak};
use wagate_core::SessionKey;
use wagate_core::events::{EventId, EventKind};
use wagate_store::events::{InboundKey, NewEvent};
use whatsapp_rust::Client;
use whatsapp_rust::InboundDurabilityHook;
use whatsapp_rust::types::events::InboundMessage;

/// What deliveries of an event with media wait for.
const HELD_FOR_MEDIA: &str = "media";

pub(crate) struct InboundHook {
    pub engine: Weak<Engine>,
    pub key: SessionKey,
}

#[async_trait::async_trait]
impl InboundDurabilityHook for InboundHook {
    async fn on_messages(
        &self,
        client: Arc<Client>,
        batch: &[InboundMessage],
    ) -> anyhow::Result<()> {
        let Some(engine) = self.engine.upgrade() else {
            anyhow::bail!("the engine is stopping");
        };
        let mut items = Vec::new();
        let mut downloads = Vec::new();
        for m in batch.iter().filter(|m| !m.info.source.is_from_me) {
            let id = EventId::generate();
            let url = engine.media_url(&id);
            let Some(mut data) = inbound_message(&m.message, &m.info, |_| url.clone(), None) else {
                continue;
            };
            if let Some(media) = data.media.as_mut() {
                media.public_url = engine.public_media_url(self.key.tenant, &id);
            }
            crate::poll_votes::open_vote(
                &engine, &client, &self.key, &m.message, &m.info, &mut data,
            )
            .await;
            let fetch = data
                .media
                .as_ref()
                .and_then(|media| fetch_of(&m.message, &media.mimetype));
            let data = serde_json::to_value(&data)?;
            let has_media = data.get("media").is_some();
            if has_media {
                downloads.push((items.len(), id.as_str().to_string(), fetch, data.clone()));
            }
            let key = InboundKey {
                chat: m.info.source.chat.to_string(),
                sender: m.info.source.sender.to_string(),
                message_id: m.info.id.clone(),
            };
            let event = NewEvent {
                id: id.as_str().to_string(),
                key: self.key.clone(),
                kind: EventKind::MessageReceived.as_str().to_string(),
                data,
                held_for: has_media.then(|| HELD_FOR_MEDIA.to_string()),
            };
            items.push((key, event));
        }
        if items.is_empty() {
            return Ok(());
        }
        // Kept before the event commits: a held event always finds them.
        let kept: Vec<_> = downloads
            .iter()
            .filter_map(|(_, id, fetch, _)| Some((self.key.clone(), id.clone(), fetch.clone()?)))
            .collect();
        if !kept.is_empty() {
            engine.media_downloads.remember(kept).await?;
        }
        let seqs = engine.events.append_inbound(items).await?;
        for (i, event_id, fetch, data) in downloads {
            let Some(seq) = seqs[i] else {
                // A redelivered message: its first copy's download runs.
                if fetch.is_some() {
                    let _ = engine.media_downloads.forget(&event_id).await;
                }
                continue;
            };
            let engine_ref = Arc::downgrade(&engine);
            match fetch {
                Some(fetch) => {
                    let (key, client) = (self.key.clone(), client.clone());
                    tokio::spawn(fetch_and_settle(
                        engine_ref, key, client, seq, event_id, fetch, data,
                    ));
                }
                None => {
                    let outcome = Err("the message names no downloadable file".to_string());
                    let mut data = data;
                    crate::media_fetch::settle(&engine, seq, &event_id, &mut data, outcome).await;
                }
            }
        }
        Ok(())
    }
}

/// After a restart: downloads the last process left unsettled run again
/// (in the background, once their sessions are back); a held event with
/// nothing to run again is reported failed, so its deliveries go out
/// instead of waiting forever.
pub(crate) async fn settle_interrupted(engine: &Engine) {
    let pending = match engine.media_downloads.pending().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("cannot read interrupted media downloads: {e}");
            Vec::new()
        }
    };
    let resumed: HashSet<i64> = pending.iter().map(|p| p.event_seq).collect();
    let held = match engine.events.held_events().await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!("cannot look for interrupted media downloads: {e}");
            Vec::new()
        }
    };
    for event in held.into_iter().filter(|e| !resumed.contains(&e.seq)) {
        let mut data = event.data;
        if let Some(media) = data.get_mut("media").and_then(Value::as_object_mut) {
            media.insert("status".into(), "failed".into());
            media.insert(
                "error".into(),
                "the gateway restarted before the download finished".into(),
            );
        }
        if let Err(e) = engine.events.settle_held(event.seq, data).await {
            tracing::error!(event = event.seq, "cannot release held deliveries: {e}");
        }
    }
    if !pending.is_empty() {
        tracing::info!(
            count = pending.len(),
            "resuming interrupted media downloads"
        );
        tokio::spawn(crate::media_fetch::resume(engine.arc(), pending));
    }
}
