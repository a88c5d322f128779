//! Compatibility profiles: the request and response shapes of gateways
//! people already have clients for, served by thin adapters over the same
//! core as the native API. A profile only translates — names, shapes,
//! status codes and error bodies — and calls the same store, engine and
//! queue the native handlers call; none of them has a session, send or
//! webhook path of its own.
//!
//! Each profile can be switched off ([`Profiles`]); its routes then answer
//! as unknown paths.

use crate::AppState;
use axum::Router;

/// Which compatibility profiles are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profiles {
    /// The "Maytapi alternative" API under `/api/v1/gateway`.
    pub seed000: bool,
    /// The internal microservice API at the root (`/sessions/init`,
    /// `/messages/send`, …).
    pub seed003: bool,
    /// The API-key routes under `/api/v1/external`.
    pub external: bool,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles {
            seed000: true,
            seed003: true,
            external: true,
        }
    }
}

/// The routes of every profile that is on.
pub fn router(profiles: Profiles) -> Router<AppState> {
    let mut router = Router::new();
    if profiles.seed000 {
        router = router.merge(seed000::router());
    }
    if profiles.seed003 {
        router = router.merge(seed003::router());
    }
    if profiles.external {
        router = router.merge(external::router());
    }
    router
}

pub mod external;
pub mod seed000;
pub mod seed003;

/// How often [`settled`] looks at the session again.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Waits up to `within` for a session that was just started to get
/// somewhere a caller can act on — a QR to show, connected, or logged
/// out — and answers the record as it then is (still `connecting` if the
/// time ran out). The profiles whose clients expect a QR in the answer
/// to "create" or "init" use it; the native API answers at once.
pub(crate) async fn settled(
    state: &AppState,
    key: &wagate_core::SessionKey,
    within: std::time::Duration,
) -> Result<wagate_store::domain::SessionRecord, crate::ApiError> {
    use wagate_core::SessionStatus;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let record = state
            .store
            .session(key)
            .await?
            .ok_or_else(|| crate::ApiError::session_not_found(&key.session))?;
        let settled = match record.status {
            SessionStatus::Qr => record.qr.is_some(),
            SessionStatus::Connected | SessionStatus::LoggedOut => true,
            SessionStatus::Connecting | SessionStatus::Disconnected => false,
        };
        if settled || tokio::time::Instant::now() >= deadline {
            return Ok(record);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}
