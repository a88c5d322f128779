//! Telling every node that a session has new messages. The node that
//! accepts a message may not be the one running its session; on
//! PostgreSQL the accepting transaction sends a notification on
//! [`CHANNEL`] that reaches every node when it commits, and the node that
//! runs the session wakes its sender. SQLite has one node: its own wake-up
//! is enough.

use crate::db::{Db, Link, query};
use std::sync::Arc;
use tokio::task::JoinHandle;
use wagate_core::{SessionId, SessionKey, TenantId};

/// The notification channel for sessions with new messages.
pub const CHANNEL: &str = "wagate_outbound";
/// PostgreSQL refuses payloads from 8000 bytes on; keys are joined by
/// newlines into payloads below this.
const PAYLOAD_MAX: usize = 7000;

/// `tenant:session`, one per line.
fn payloads<'a>(keys: impl IntoIterator<Item = &'a SessionKey>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for key in keys {
        let line = format!("{}:{}", key.tenant.0, key.session.as_str());
        if !current.is_empty() && current.len() + 1 + line.len() > PAYLOAD_MAX {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn parse(payload: &str) -> impl Iterator<Item = SessionKey> + '_ {
    payload.lines().filter_map(|line| {
        let (tenant, session) = line.split_once(':')?;
        Some(SessionKey {
            tenant: TenantId(tenant.parse().ok()?),
            session: SessionId::parse(session).ok()?,
        })
    })
}

/// Inside the accepting transaction: notifies the other nodes of `keys`
/// when it commits. Nothing on SQLite.
pub(crate) async fn announce<'a>(
    link: &mut Link<'_>,
    keys: impl IntoIterator<Item = &'a SessionKey>,
) -> Result<(), sqlx::Error> {
    if !matches!(link, Link::Postgres(_)) {
        return Ok(());
    }
    for payload in payloads(keys) {
        query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *link)
            .await?;
    }
    Ok(())
}

/// Listens for sessions with new messages and hands each to `wake`; on
/// SQLite there is nothing to listen to (`None`). A notification missed
/// while the listener reconnects is caught by the engine's periodic look
/// at the queue.
pub fn listen(db: &Db, wake: Arc<dyn Fn(&SessionKey) + Send + Sync>) -> Option<JoinHandle<()>> {
    crate::db::notices::listen(
        db,
        CHANNEL,
        Arc::new(move |payload: &str| parse(payload).for_each(|key| wake(&key))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tenant: i64, session: &str) -> SessionKey {
        SessionKey {
            tenant: TenantId(tenant),
            session: SessionId::parse(session).unwrap(),
        }
    }

    #[test]
    fn keys_travel_in_payloads_under_the_limit_and_come_back() {
        let keys: Vec<SessionKey> = (0..1000).map(|i| key(i, &format!("shop-{i}"))).collect();
        let sent = payloads(&keys);
        assert!(sent.len() > 1, "a thousand keys need several payloads");
        assert!(sent.iter().all(|p| p.len() <= PAYLOAD_MAX));
        let back: Vec<SessionKey> = sent
            .iter()
            .flat_map(|p| parse(p).collect::<Vec<_>>())
            .collect();
        assert_eq!(back, keys);
        assert!(payloads(&[]).is_empty());
        assert_eq!(parse("x:y\n1:ok").collect::<Vec<_>>(), vec![key(1, "ok")]);
    }
}
