//! The socket factory of a session's client, asked for every connection
//! the client makes, its own reconnects included: it connects only while
//! this node may trust the session's lease. Two nodes on one WhatsApp
//! device knock each other off and can fork its Signal state, so a node
//! that lost a session must not reach WhatsApp for it even once.

use crate::ownership::Ownership;
use std::sync::Arc;
use wagate_core::SessionKey;
use whatsapp_rust::transport::{
    TokioWebSocketTransportFactory, Transport, TransportEvent, TransportFactory,
};

pub(crate) struct LeasedTransport {
    pub inner: TokioWebSocketTransportFactory,
    pub ownership: Arc<Ownership>,
    pub key: SessionKey,
}

#[async_trait::async_trait]
impl TransportFactory for LeasedTransport {
    async fn create_transport(
        &self,
    ) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
        if self.ownership.trusted_epoch(&self.key).is_none() {
            anyhow::bail!(
                "node {} no longer holds the lease of session {}",
                self.ownership.settings.node,
                self.key.session
            );
        }
        self.inner.create_transport().await
    }
}
