//! Commands for sessions another node runs (`session_commands`): written
//! by the node that got the API call, carried out by the node that runs
//! the session (or can take it), answered in the same row.

use super::{Store, internal};
use crate::db::{Row, query};
use crate::outbound::now_ms;
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

/// The notification channel for new commands: the command's id.
pub const COMMANDS_CHANNEL: &str = "wagate_commands";

/// A command waiting to be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCommand {
    pub id: i64,
    pub key: SessionKey,
    /// `connect`, `pair_code`, `logout`, `remove` or `move`.
    pub command: String,
    pub argument: Option<String>,
}

/// How a command ended.
pub type CommandAnswer = Result<Option<String>, CoreError>;

/// A taken command whose node has not answered by then is taken again:
/// that node died on it.
const TAKEN_FOR_MS: i64 = 30_000;

fn command_from_row(row: &Row) -> Result<SessionCommand, sqlx::Error> {
    let session: String = row.try_get("session_id")?;
    Ok(SessionCommand {
        id: row.try_get("id")?,
        key: SessionKey {
            tenant: TenantId(row.try_get("tenant_id")?),
            session: SessionId::parse(&session).map_err(|e| sqlx::Error::ColumnDecode {
                index: "session_id".into(),
                source: e.to_string().into(),
            })?,
        },
        command: row.try_get("command")?,
        argument: row.try_get("argument")?,
    })
}

/// The error kinds an answer keeps, so the asking node answers its caller
/// as the running node would have.
fn error_kind(e: &CoreError) -> (&'static str, String) {
    match e {
        CoreError::NotFound(what) => ("not_found", what.clone()),
        CoreError::Conflict(m) => ("conflict", m.clone()),
        CoreError::Unavailable(m) => ("unavailable", m.clone()),
        other => ("internal", other.to_string()),
    }
}

fn error_from(kind: &str, message: String) -> CoreError {
    match kind {
        "not_found" => CoreError::NotFound(message),
        "conflict" => CoreError::Conflict(message),
        "unavailable" => CoreError::Unavailable(message),
        _ => CoreError::Internal(message),
    }
}

impl Store {
    /// Records a command for `key` and tells every node (on PostgreSQL);
    /// returns its id, to wait for its answer.
    /// `for_node`, when given, is the only node that may carry it out.
    pub async fn send_command(
        &self,
        key: &SessionKey,
        command: &str,
        argument: Option<&str>,
        for_node: Option<&str>,
    ) -> Result<i64, CoreError> {
        let mut tx = self.db().begin().await.map_err(internal)?;
        let id: i64 = query(
            "INSERT INTO session_commands (tenant_id, session_id, command, argument, for_node, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(key.tenant.0)
        .bind(key.session.as_str())
        .bind(command)
        .bind(argument)
        .bind(for_node)
        .bind(now_ms())
        .fetch_one(&mut tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(internal)?;
        if tx.backend() == crate::db::Backend::Postgres {
            query("SELECT pg_notify($1, $2)")
                .bind(COMMANDS_CHANNEL)
                .bind(id.to_string())
                .execute(&mut tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        Ok(id)
    }

    /// Commands nobody carries out that `node` may: never taken, or taken
    /// by a node that did not answer in time. Oldest first.
    pub async fn open_commands(
        &self,
        node: &str,
        limit: u32,
    ) -> Result<Vec<SessionCommand>, CoreError> {
        let rows = query(
            "SELECT id, tenant_id, session_id, command, argument FROM session_commands
             WHERE answered_at IS NULL AND (taken_at IS NULL OR taken_at < $1)
               AND (for_node IS NULL OR for_node = $3)
             ORDER BY id LIMIT $2",
        )
        .bind(now_ms() - TAKEN_FOR_MS)
        .bind(i64::from(limit))
        .bind(node)
        .fetch_all(self.db())
        .await
        .map_err(internal)?;
        rows.iter()
            .map(command_from_row)
            .collect::<Result<_, _>>()
            .map_err(internal)
    }

    /// Takes command `id` for `node`; false when another node has it.
    pub async fn take_command(&self, id: i64, node: &str) -> Result<bool, CoreError> {
        let now = now_ms();
        let done = query(
            "UPDATE session_commands SET taken_by = $2, taken_at = $3
             WHERE id = $1 AND answered_at IS NULL AND (taken_at IS NULL OR taken_at < $4)",
        )
        .bind(id)
        .bind(node)
        .bind(now)
        .bind(now - TAKEN_FOR_MS)
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a taken command back, for a node that turned out not to be
    /// the one to carry it out.
    pub async fn untake_command(&self, id: i64) -> Result<(), CoreError> {
        query("UPDATE session_commands SET taken_by = NULL, taken_at = NULL WHERE id = $1 AND answered_at IS NULL")
            .bind(id)
            .execute(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// Writes how command `id` ended.
    pub async fn answer_command(&self, id: i64, answer: &CommandAnswer) -> Result<(), CoreError> {
        let (value, kind, error) = match answer {
            Ok(value) => (value.clone(), None, None),
            Err(e) => {
                let (kind, message) = error_kind(e);
                (None, Some(kind), Some(message))
            }
        };
        query(
            "UPDATE session_commands SET answered_at = $2, answer = $3, error_kind = $4, error = $5
             WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .bind(value)
        .bind(kind)
        .bind(error)
        .execute(self.db())
        .await
        .map_err(internal)?;
        Ok(())
    }

    /// How command `id` ended, once it did; the row goes with the answer.
    /// `Some(Err(NotFound))` when there is no such command.
    pub async fn command_answer(&self, id: i64) -> Result<Option<CommandAnswer>, CoreError> {
        let row = query(
            "SELECT answered_at, answer, error_kind, error FROM session_commands WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db())
        .await
        .map_err(internal)?;
        let Some(row) = row else {
            return Ok(Some(Err(CoreError::NotFound(format!("command {id}")))));
        };
        let answered: Option<i64> = row.try_get("answered_at").map_err(internal)?;
        if answered.is_none() {
            return Ok(None);
        }
        self.drop_command(id).await?;
        let kind: Option<String> = row.try_get("error_kind").map_err(internal)?;
        Ok(Some(match kind {
            Some(kind) => Err(error_from(
                &kind,
                row.try_get::<Option<String>, _>("error")
                    .map_err(internal)?
                    .unwrap_or_default(),
            )),
            None => Ok(row.try_get("answer").map_err(internal)?),
        }))
    }

    /// Forgets command `id` (answered, or given up on).
    pub async fn drop_command(&self, id: i64) -> Result<(), CoreError> {
        query("DELETE FROM session_commands WHERE id = $1")
            .bind(id)
            .execute(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }
}
