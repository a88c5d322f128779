//! The options of a poll a session received, so that votes on it can be
//! reported by option name. A vote carries only hashes of the names; the
//! names are in the poll's own `message.received` event.

use crate::db::{Backend, Db, query_scalar};
use crate::outbound::internal;
use wagate_core::{CoreError, SessionKey};

/// The options of received poll `poll_id`, from its event; `None` when the
/// session has no such poll (never received, or swept by retention).
/// WhatsApp ids are random enough that the id alone finds the poll even
/// when the chat is named by LID in one message and by number in another.
pub async fn received_poll_options(
    db: &Db,
    key: &SessionKey,
    poll_id: &str,
) -> Result<Option<Vec<String>>, CoreError> {
    let (options, poll) = match db.backend() {
        Backend::Sqlite => (
            "json_extract(e.data, '$.poll.options')",
            "json_extract(e.data, '$.poll')",
        ),
        Backend::Postgres => (
            "(e.data::jsonb #>> '{poll,options}')",
            "(e.data::jsonb -> 'poll')",
        ),
    };
    let options: Option<String> = query_scalar(format!(
        "SELECT {options} FROM inbound_seen s \
         JOIN events e ON e.seq = s.event_seq \
         WHERE s.tenant_id = $1 AND s.session_id = $2 AND s.message_id = $3 \
           AND {poll} IS NOT NULL \
         ORDER BY e.seq DESC LIMIT 1",
    ))
    .bind(key.tenant.0)
    .bind(key.session.as_str())
    .bind(poll_id)
    .fetch_optional(db)
    .await
    .map_err(internal)?
    .flatten();
    options
        .map(|o| serde_json::from_str(&o).map_err(|e| CoreError::Internal(e.to_string())))
        .transpose()
}
