//! Retention: history older than a tenant's setting is deleted in small
//! batches, each one job of the group committer, so the write lock is
//! never held for long and hot writes keep their turn between batches.
//!
//! What is still owed to someone stays, however old: a message in the
//! queue (`queued`, `sending`) and an event with a webhook delivery
//! pending or in flight. An event goes with its deliveries, their attempt
//! log and its deduplication row.

use crate::commit::Committer;
use crate::db::{Link, query, query_scalar};
use crate::outbound::{commit_failed, internal, now_ms};
use futures::future::LocalBoxFuture;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wagate_core::CoreError;

/// Rows per job: a few milliseconds of deleting.
pub const BATCH: u32 = 200;

const DAY_MS: i64 = 86_400_000;

/// What one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// History rows (received and sent messages).
    pub messages: u64,
    /// Finished outbound messages with no history row (failed or
    /// superseded changes, rows from before history was kept).
    pub outbound: u64,
    /// Events of every kind.
    pub events: u64,
}

/// Deletes, for every tenant, what is older than its retention at `now_ms`;
/// `default_days` stands for tenants without a setting, 0 keeps forever.
pub async fn sweep_once(
    committer: &Committer,
    now_ms: i64,
    default_days: u32,
    batch: u32,
) -> Result<SweepReport, CoreError> {
    let tenants = query("SELECT id, history_retention_days FROM tenants ORDER BY id")
        .fetch_all(committer.db())
        .await
        .and_then(|rows| {
            rows.iter()
                .map(|r| Ok::<(i64, Option<i64>), _>((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(internal)?;
    let mut report = SweepReport::default();
    for (tenant, days) in tenants {
        let days = days.unwrap_or(i64::from(default_days));
        if days <= 0 {
            continue;
        }
        let cutoff = now_ms.saturating_sub(days.saturating_mul(DAY_MS));
        let sessions: Vec<String> = query_scalar(
            "SELECT session_id FROM sessions WHERE tenant_id = $1 \
             UNION SELECT session_id FROM chats WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(committer.db())
        .await
        .map_err(internal)?;
        for session in sessions {
            let scope = Scope {
                tenant,
                session,
                cutoff,
                batch,
            };
            report.messages += repeat(committer, &scope, messages_batch).await?;
            report.outbound += repeat(committer, &scope, outbound_batch).await?;
        }
        let scope = Scope {
            tenant,
            session: String::new(),
            cutoff,
            batch,
        };
        report.events += repeat(committer, &scope, events_batch).await?;
    }
    Ok(report)
}

/// One tenant's (and session's) sweep at one cutoff.
#[derive(Clone)]
struct Scope {
    tenant: i64,
    session: String,
    cutoff: i64,
    batch: u32,
}

type Batch =
    for<'c, 'l> fn(&'c mut Link<'l>, &'c Scope) -> LocalBoxFuture<'c, Result<u64, sqlx::Error>>;

/// Runs `step` as its own job until a batch comes back short.
async fn repeat(committer: &Committer, scope: &Scope, step: Batch) -> Result<u64, CoreError> {
    let mut total = 0;
    loop {
        let s = scope.clone();
        let n = committer
            .run(move |conn| Box::pin(async move { step(conn, &s).await }))
            .await
            .map_err(commit_failed)?;
        total += n;
        if n < u64::from(scope.batch) {
            return Ok(total);
        }
    }
}

const PINNED_BY_DELIVERY: &str = "EXISTS (SELECT 1 FROM webhook_deliveries d \
     WHERE d.event_seq = {seq} AND d.status IN ('pending', 'delivering'))";

fn pinned_by_delivery(seq: &str) -> String {
    PINNED_BY_DELIVERY.replace("{seq}", seq)
}

/// History rows past the cutoff, with their events and queue rows.
fn messages_batch<'c>(
    conn: &'c mut Link<'_>,
    s: &'c Scope,
) -> LocalBoxFuture<'c, Result<u64, sqlx::Error>> {
    Box::pin(async move {
        let rows = query(format!(
            "SELECT m.seq, m.chat_jid, m.event_seq, m.direction, m.message_id FROM chat_messages m \
             WHERE m.tenant_id = $1 AND m.session_id = $2 AND m.at < $3 AND NOT {} \
               AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE m.direction = 'out' \
                 AND o.id = m.message_id AND o.status IN ('queued', 'sending')) \
             ORDER BY m.at LIMIT $4",
            pinned_by_delivery("m.event_seq")
        ))
        .bind(s.tenant)
        .bind(&s.session)
        .bind(s.cutoff)
        .bind(i64::from(s.batch))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok::<(i64, String, Option<i64>, String, String), sqlx::Error>((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(0);
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let events: Vec<i64> = rows.iter().filter_map(|r| r.2).collect();
        let sent: Vec<&str> = rows
            .iter()
            .filter(|r| r.3 == "out")
            .map(|r| r.4.as_str())
            .collect();
        delete_events(conn, &events).await?;
        let mut outbound = query(
            "DELETE FROM outbound_messages WHERE tenant_id = $1 \
             AND status NOT IN ('queued', 'sending') AND id IN ",
        )
        .bind(s.tenant);
        outbound.push_list(sent);
        outbound.execute(&mut *conn).await?;
        let mut messages = query("DELETE FROM chat_messages WHERE seq IN ");
        messages.push_list(seqs);
        messages.execute(&mut *conn).await?;
        let mut chats: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        chats.sort_unstable();
        chats.dedup();
        for chat in chats {
            refresh_chat(conn, s, chat).await?;
        }
        Ok(rows.len() as u64)
    })
}

/// Finished queue rows past the cutoff that no history row shows.
fn outbound_batch<'c>(
    conn: &'c mut Link<'_>,
    s: &'c Scope,
) -> LocalBoxFuture<'c, Result<u64, sqlx::Error>> {
    Box::pin(async move {
        let done = query(
            "DELETE FROM outbound_messages WHERE id IN ( \
               SELECT o.id FROM outbound_messages o \
               WHERE o.tenant_id = $1 AND o.session_id = $2 AND o.created_at < $3 \
                 AND o.status NOT IN ('queued', 'sending') \
                 AND NOT EXISTS (SELECT 1 FROM chat_messages c WHERE c.tenant_id = o.tenant_id \
                   AND c.session_id = o.session_id AND c.chat_jid = o.recipient \
                   AND c.message_id = o.id AND c.direction = 'out') \
               ORDER BY o.created_at LIMIT $4)",
        )
        .bind(s.tenant)
        .bind(&s.session)
        .bind(s.cutoff)
        .bind(i64::from(s.batch))
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    })
}

/// Events past the cutoff that owe no delivery. A received message's row
/// went first: it is never written later than its event.
fn events_batch<'c>(
    conn: &'c mut Link<'_>,
    s: &'c Scope,
) -> LocalBoxFuture<'c, Result<u64, sqlx::Error>> {
    Box::pin(async move {
        let seqs: Vec<i64> = query_scalar(format!(
            "SELECT e.seq FROM events e WHERE e.tenant_id = $1 AND e.created_at < $2 AND NOT {} \
             ORDER BY e.created_at LIMIT $3",
            pinned_by_delivery("e.seq")
        ))
        .bind(s.tenant)
        .bind(s.cutoff)
        .bind(i64::from(s.batch))
        .fetch_all(&mut *conn)
        .await?;
        delete_events(conn, &seqs).await?;
        Ok(seqs.len() as u64)
    })
}

async fn delete_events(conn: &mut Link<'_>, seqs: &[i64]) -> Result<(), sqlx::Error> {
    if seqs.is_empty() {
        return Ok(());
    }
    for (sql, close) in [
        (
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries \
             WHERE event_seq IN ",
            ")",
        ),
        ("DELETE FROM webhook_deliveries WHERE event_seq IN ", ""),
        ("DELETE FROM inbound_seen WHERE event_seq IN ", ""),
        ("DELETE FROM events WHERE seq IN ", ""),
    ] {
        let mut delete = query(sql);
        delete.push_list(seqs.iter().copied()).push(close);
        delete.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Recounts a chat after deletions and points it at its newest remaining
/// message; a chat left empty goes.
async fn refresh_chat(conn: &mut Link<'_>, s: &Scope, chat: &str) -> Result<(), sqlx::Error> {
    let newest = query(
        "SELECT seq, at FROM chat_messages WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3 \
         ORDER BY at DESC, seq DESC LIMIT 1",
    )
    .bind(s.tenant)
    .bind(&s.session)
    .bind(chat)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| Ok::<(i64, i64), sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
    .transpose()?;
    let Some((seq, at)) = newest else {
        query("DELETE FROM chats WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3")
            .bind(s.tenant)
            .bind(&s.session)
            .bind(chat)
            .execute(conn)
            .await?;
        return Ok(());
    };
    query(
        "UPDATE chats SET last_seq = $4, last_at = $5, message_count = (SELECT COUNT(*) \
         FROM chat_messages WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3) \
         WHERE tenant_id = $1 AND session_id = $2 AND chat_jid = $3",
    )
    .bind(s.tenant)
    .bind(&s.session)
    .bind(chat)
    .bind(seq)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The background task that sweeps every `every`.
pub struct RetentionSweeper {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RetentionSweeper {
    /// Sweeps now and then every `every`, with `default_days` for tenants
    /// without a setting.
    pub fn start(committer: Committer, default_days: u32, every: Duration) -> RetentionSweeper {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tick.tick() => {}
                }
                // Dropping a pass between batches is safe: each batch is
                // one job, committed whole or not at all.
                let result = tokio::select! {
                    _ = stopped.changed() => return,
                    r = sweep_once(&committer, now_ms(), default_days, BATCH) => r,
                };
                match result {
                    Ok(r) if r == SweepReport::default() => {}
                    Ok(r) => tracing::info!(
                        messages = r.messages,
                        outbound = r.outbound,
                        events = r.events,
                        "history past its retention deleted"
                    ),
                    Err(e) => tracing::warn!("cannot delete history past its retention: {e}"),
                }
            }
        });
        RetentionSweeper { stop, task }
    }

    /// Stops after the batch in progress, if any.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
