//! Notifications between the nodes sharing a PostgreSQL database: a node
//! that committed something others act on (a queued message, a new event)
//! says so on a channel, and every node listening hears it once the
//! transaction commits. SQLite has one node, which tells itself directly.
//! A channel is shared by everything connected to the same database (other
//! schemas, other deployments), so a payload is a hint to look, never a
//! fact to act on unchecked.

use super::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a listener whose connection failed waits before it tries again.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Listens on `channel` and hands every payload to `heard`, reconnecting
/// as needed; `None` on SQLite. A notification sent while the listener
/// reconnects is lost, so each user also looks for work now and then.
pub fn listen(
    db: &Db,
    channel: &'static str,
    heard: Arc<dyn Fn(&str) + Send + Sync>,
) -> Option<JoinHandle<()>> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    let pool = pool.clone();
    Some(tokio::spawn(async move {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(channel, "cannot listen: {e}");
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(channel).await {
                tracing::warn!(channel, "cannot listen: {e}");
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
            loop {
                match listener.recv().await {
                    Ok(notice) => heard(notice.payload()),
                    Err(e) => {
                        tracing::warn!(channel, "listening stopped: {e}");
                        break;
                    }
                }
            }
        }
    }))
}

/// Ends a listener when whatever holds it ends.
pub struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends `payload` on `channel` outside any transaction, without waiting
/// for it: for news already committed. Nothing on SQLite.
pub fn tell(db: &Db, channel: &'static str, payload: String) {
    let Db::Postgres(pool) = db else {
        return;
    };
    let pool = pool.clone();
    tokio::spawn(async move {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(channel, "notification not sent: {e}");
        }
    });
}
