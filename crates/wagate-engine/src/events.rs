//! Client events → session state in the store.

use crate::Engine;
use crate::supervisor::Applied;
use std::sync::Arc;
use wacore::proto_helpers::MessageExt;
use wagate_core::{SessionKey, SessionStatus};
use whatsapp_rust::Client;
use whatsapp_rust::types::events::Event;

impl Engine {
    pub(crate) async fn apply(
        &self,
        key: &SessionKey,
        client: &Arc<Client>,
        event: &Event,
    ) -> Applied {
        let records = &self.records;
        let result = match event {
            Event::PairingQrCode(qr) => {
                let _ = records.set_qr(key, Some(&qr.code)).await;
                records.set_status(key, SessionStatus::Qr).await
            }
            Event::PairingCode(code) => records.set_pair_code(key, Some(&code.code)).await,
            Event::PairSuccess(_) => {
                let _ = records.set_qr(key, None).await;
                records.set_status(key, SessionStatus::Connecting).await
            }
            Event::Connected(_) => {
                let phone = client.pn().map(|j| j.user.to_string()).unwrap_or_default();
                records.set_connected(key, &phone, chrono::Utc::now()).await
            }
            Event::Disconnected(_) => {
                self.metrics.reconnect();
                records.set_status(key, SessionStatus::Connecting).await
            }
            Event::LoggedOut(_) => return Applied::LoggedOut,
            Event::PairingQrCodesExhausted(_) => return Applied::Unlinked,
            Event::Messages(batch) => {
                for inbound in batch.iter().filter(|m| !m.info.source.is_from_me) {
                    let text = inbound.message.text_content();
                    let text = text.or_else(|| inbound.message.get_caption()).unwrap_or("");
                    tracing::info!(
                        session = %key.session,
                        from = %inbound.info.source.sender,
                        id = %inbound.info.id,
                        text = %preview(text),
                        "inbound message"
                    );
                }
                Ok(())
            }
            Event::ClientOutdated(_) => {
                tracing::error!(session = %key.session, "WhatsApp rejected this client version as outdated");
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(session = %key.session, "cannot record session state: {e}");
        }
        Applied::Continue
    }
}

/// The start of a message's text, for a log line.
fn preview(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
