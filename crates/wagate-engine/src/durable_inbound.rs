//! Received messages become `message.received` events before WhatsApp
//! gets their ack: whatsapp-rust holds the ack until this hook returns
//! `Ok`, so a crash before the commit makes WhatsApp deliver the message
//! again instead of losing it. A redelivered message is recognised by its
//! chat, sender and id and recorded once.
//!
//! Media is fetched after the commit (the ack must not wait on a
//! download); the event's webhook deliveries are held until the file is
//! stored or the download has failed, so receivers get the final
//! `media.status` either way.

use crate::Engine;
use crate::inbound::map::{base_of, inbound_message};
use serde_json::Value;
use std::sync::{Arc, Weak};
use wagate_core::SessionKey;
use wagate_core::events::{EventId, EventKind, InboundMessage as Received};
use wagate_store::events::{InboundKey, NewEvent};
use whatsapp_rust::Client;
use whatsapp_rust::InboundDurabilityHook;
use whatsapp_rust::download::Downloadable;
use whatsapp_rust::types::events::InboundMessage;
use whatsapp_rust::waproto::whatsapp as wa;

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
            let Some(data) = inbound_message(&m.message, &m.info, |_| url.clone(), None) else {
                continue;
            };
            let has_media = data.media.is_some();
            if has_media {
                downloads.push((items.len(), m.message.clone(), data.clone()));
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
                data: serde_json::to_value(&data)?,
                held_for: has_media.then(|| HELD_FOR_MEDIA.to_string()),
            };
            items.push((key, event));
        }
        if items.is_empty() {
            return Ok(());
        }
        let seqs = engine.events.append_inbound(items).await?;
        for (i, message, data) in downloads {
            // A redelivered message was downloaded the first time.
            if let Some(seq) = seqs[i] {
                let (engine, client) = (Arc::downgrade(&engine), client.clone());
                tokio::spawn(fetch_media(engine, client, seq, message, data));
            }
        }
        Ok(())
    }
}

/// Downloads and stores the message's file, then records the outcome on
/// the event and lets its deliveries go.
async fn fetch_media(
    engine: Weak<Engine>,
    client: Arc<Client>,
    seq: i64,
    message: Arc<wa::Message>,
    mut data: Received,
) {
    let result = match downloadable(&message) {
        Some(d) => client.download(d).await.map_err(|e| e.to_string()),
        None => Err("the message carries no downloadable file".to_string()),
    };
    let Some(engine) = engine.upgrade() else {
        return;
    };
    let stored = match result {
        Ok(bytes) => engine
            .outbox
            .media
            .store(&bytes)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Some(media) = data.media.as_mut() {
        match stored {
            Ok((sha256, size)) => {
                media.status = wagate_core::events::MediaStatus::Stored;
                media.sha256 = Some(sha256);
                media.size = Some(size);
            }
            Err(e) => {
                tracing::warn!(event = seq, "cannot fetch received media: {e}");
                media.status = wagate_core::events::MediaStatus::Failed;
                media.error = Some(format!("download failed: {e}"));
            }
        }
    }
    let data = serde_json::to_value(&data).unwrap_or(Value::Null);
    if let Err(e) = engine.events.settle_held(seq, data).await {
        tracing::error!(event = seq, "cannot record received media: {e}");
    }
}

/// The part of `message` that names its file on WhatsApp's media hosts.
fn downloadable(message: &wa::Message) -> Option<&dyn Downloadable> {
    let m = base_of(message);
    if let Some(x) = m.image_message.as_option() {
        return Some(x);
    }
    if let Some(x) = m.video_message.as_option() {
        return Some(x);
    }
    if let Some(x) = m.audio_message.as_option() {
        return Some(x);
    }
    if let Some(x) = m.document_message.as_option() {
        return Some(x);
    }
    if let Some(x) = m.sticker_message.as_option() {
        return Some(x);
    }
    None
}

/// After a restart: downloads that were cut off are reported as failed,
/// so their held deliveries go out instead of waiting forever. (The
/// download keys were in memory only.)
pub(crate) async fn settle_interrupted(engine: &Engine) {
    let held = match engine.events.held_events().await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!("cannot look for interrupted media downloads: {e}");
            return;
        }
    };
    for event in held {
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
}
