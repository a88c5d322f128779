//! Session engines for API tests: one that records what it is asked and
//! writes plausible state to the store, and one that is down.

use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use wagate_core::{
    CoreError, Recipient, SessionControl, SessionKey, SessionRecords, SessionStatus,
};
use wagate_store::Store;

pub const FAKE_QR: &str = "2@fakeqr,Zm9vYmFy,YmF6cXV4,c2lt";
pub const FAKE_PAIR_CODE: &str = "ABCD1234";

#[derive(Default)]
pub struct FakeEngine {
    store: OnceLock<Store>,
    pub removed: Mutex<Vec<SessionKey>>,
    pub sent: Mutex<Vec<(SessionKey, String, String)>>,
    next_id: AtomicU64,
}

impl FakeEngine {
    pub fn attach(&self, store: Store) {
        let _ = self.store.set(store);
    }

    pub fn store(&self) -> &Store {
        self.store.get().expect("engine built by the app")
    }

    /// What the real engine does once a phone has scanned the QR.
    pub async fn link(&self, key: &SessionKey, phone: &str) {
        self.store()
            .set_connected(key, phone, chrono::Utc::now())
            .await
            .unwrap();
    }
}

#[async_trait]
impl SessionControl for FakeEngine {
    async fn connect(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.store().set_status(key, SessionStatus::Qr).await?;
        self.store().set_qr(key, Some(FAKE_QR)).await
    }

    async fn pair_code(&self, key: &SessionKey, _phone: &str) -> Result<String, CoreError> {
        self.store()
            .set_pair_code(key, Some(FAKE_PAIR_CODE))
            .await?;
        Ok(FAKE_PAIR_CODE.to_string())
    }

    async fn logout(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.store().set_qr(key, None).await?;
        self.store().set_status(key, SessionStatus::LoggedOut).await
    }

    async fn remove(&self, key: &SessionKey) -> Result<(), CoreError> {
        self.removed.lock().unwrap().push(key.clone());
        Ok(())
    }

    async fn send_text(
        &self,
        key: &SessionKey,
        to: &Recipient,
        text: &str,
    ) -> Result<String, CoreError> {
        let session = self.store().session(key).await?;
        if session.map(|s| s.status) != Some(SessionStatus::Connected) {
            return Err(CoreError::Unavailable(format!(
                "Session '{}' is not connected",
                key.session
            )));
        }
        self.sent
            .lock()
            .unwrap()
            .push((key.clone(), to.to_jid(), text.to_string()));
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        Ok(format!("3EB0{n:016X}"))
    }
}

/// An engine that is not running: refuses every command as unavailable.
pub struct EngineDown;

fn down() -> CoreError {
    CoreError::Unavailable("session engine not running".to_string())
}

#[async_trait]
impl SessionControl for EngineDown {
    async fn connect(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(down())
    }

    async fn pair_code(&self, _: &SessionKey, _: &str) -> Result<String, CoreError> {
        Err(down())
    }

    async fn logout(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(down())
    }

    async fn remove(&self, _: &SessionKey) -> Result<(), CoreError> {
        Err(down())
    }

    async fn send_text(&self, _: &SessionKey, _: &Recipient, _: &str) -> Result<String, CoreError> {
        Err(down())
    }
}
