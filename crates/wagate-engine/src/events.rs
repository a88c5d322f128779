//! Client events → session state in the store.

use crate::Engine;
use crate::supervisor::Applied;
use std::sync::Arc;
use wacore::proto_helpers::MessageExt;
use wagate_core::{SessionKey, SessionStatus, SessionUpdate};
use whatsapp_rust::Client;
use whatsapp_rust::types::events::Event;

impl Engine {
    pub(crate) async fn apply(
        &self,
        key: &SessionKey,
        client: &Arc<Client>,
        event: &Event,
    ) -> Applied {
        use SessionUpdate::{Connected, PairCode, Qr, Status};
        let w = &self.writer;
        match event {
            Event::PairingQrCode(qr) => {
                w.record(key, Qr(Some(qr.code.clone())));
                w.record(key, Status(SessionStatus::Qr));
            }
            Event::PairingCode(code) => w.record(key, PairCode(Some(code.code.clone()))),
            Event::PairSuccess(_) => {
                w.record(key, Qr(None));
                w.record(key, Status(SessionStatus::Connecting));
            }
            Event::Connected(_) => {
                let phone = client.pn().map(|j| j.user.to_string()).unwrap_or_default();
                w.record(
                    key,
                    Connected {
                        phone,
                        at: chrono::Utc::now(),
                    },
                );
                self.wake_sender(key);
            }
            Event::ServerAck(ack) => self.outbox.on_ack(ack),
            Event::Receipt(receipt) => self.outbox.on_receipt(key, receipt),
            Event::Disconnected(_) => {
                self.metrics.reconnect();
                w.record(key, Status(SessionStatus::Connecting));
            }
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
            }
            Event::LoggedOut(_) => return Applied::LoggedOut,
            Event::PairingQrCodesExhausted(_) => return Applied::Unlinked,
            Event::ClientOutdated(_) => {
                tracing::error!(session = %key.session, "WhatsApp rejected this client version as outdated");
            }
            _ => {}
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
