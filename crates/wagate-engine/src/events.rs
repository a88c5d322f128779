//! Client events → session state in the store.

use crate::Engine;
use crate::supervisor::Applied;
use std::sync::Arc;
use wacore::proto_helpers::MessageExt;
use wagate_core::events::{EventData, EventId, SessionQrData, SessionStatusData};
use wagate_core::{SessionKey, SessionStatus, SessionUpdate};
use wagate_store::events::NewEvent;
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
                self.announce(
                    key,
                    EventData::SessionQr(SessionQrData {
                        qr: qr.code.clone(),
                    }),
                )
                .await;
                self.announce_status(key, SessionStatus::Qr, None, None)
                    .await;
            }
            Event::PairingCode(code) => w.record(key, PairCode(Some(code.code.clone()))),
            Event::PairSuccess(_) => {
                w.record(key, Qr(None));
                w.record(key, Status(SessionStatus::Connecting));
                self.announce_status(key, SessionStatus::Connecting, None, None)
                    .await;
            }
            Event::Connected(_) => {
                let phone = client.pn().map(|j| j.user.to_string()).unwrap_or_default();
                w.record(
                    key,
                    Connected {
                        phone: phone.clone(),
                        at: chrono::Utc::now(),
                    },
                );
                self.wake_sender(key);
                let phone = (!phone.is_empty()).then_some(phone);
                self.announce_status(key, SessionStatus::Connected, phone, None)
                    .await;
            }
            Event::ServerAck(ack) => self.outbox.on_ack(ack),
            Event::Receipt(receipt) => self.outbox.on_receipt(key, receipt),
            Event::Disconnected(_) => {
                self.metrics.reconnect();
                w.record(key, Status(SessionStatus::Connecting));
                // The supervisor reconnects on its own.
                self.announce_status(key, SessionStatus::Disconnected, None, Some(true))
                    .await;
            }
            Event::Messages(batch) => {
                // Recorded as events by the durability hook before this;
                // the log line lets an operator (and the demo) follow along.
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
            Event::LoggedOut(_) => {
                self.announce_status(key, SessionStatus::LoggedOut, None, Some(false))
                    .await;
                return Applied::LoggedOut;
            }
            Event::PairingQrCodesExhausted(_) => return Applied::Unlinked,
            Event::StreamReplaced(_) => return Applied::Replaced,
            Event::ClientOutdated(_) => {
                tracing::error!(session = %key.session, "WhatsApp rejected this client version as outdated");
            }
            _ => {}
        }
        Applied::Continue
    }
}

impl Engine {
    /// Records a `session.status` event.
    async fn announce_status(
        &self,
        key: &SessionKey,
        status: SessionStatus,
        phone: Option<String>,
        should_reconnect: Option<bool>,
    ) {
        let data = SessionStatusData {
            status,
            phone,
            should_reconnect,
            reason: None,
        };
        self.announce(key, EventData::SessionStatus(data)).await;
    }

    /// Records an event about the session. A failure is logged, not
    /// fatal: the session's state is in the store either way. A node that
    /// may no longer trust the session's lease says nothing: the holder
    /// speaks for the session.
    pub(crate) async fn announce(&self, key: &SessionKey, data: EventData) {
        if self.leases.trusted_epoch(key).is_none() {
            tracing::debug!(session = %key.session, kind = data.kind().as_str(), "event not recorded: lease not held");
            return;
        }
        let event = NewEvent {
            id: EventId::generate().as_str().to_string(),
            key: key.clone(),
            kind: data.kind().as_str().to_string(),
            data: serde_json::to_value(&data).unwrap_or_default(),
            held_for: None,
        };
        if let Err(e) = self.events.append(vec![event]).await {
            tracing::error!(session = %key.session, "cannot record a session event: {e}");
        }
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
