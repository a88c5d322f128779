//! Statements run through SQLite's C API on the calling thread.
//!
//! The driver runs every statement on its connection's own thread, which
//! costs two thread switches per statement — on a shared two-core machine
//! more than the statement itself. The database writer takes its
//! connection from the driver once per batch and runs the batch's
//! statements here instead: the same [`Query`](super::Query) text and
//! values, answered at once.

use super::row::Row;
use super::value::Value;
use chrono::SecondsFormat;
use rusqlite::types::ValueRef;
use std::sync::Arc;

/// Runs `sql` with `args` bound to `$1…$N` (or `?1…?N`); answers the
/// rows it returned (all of them, or none when `rows` is false) and how
/// many rows it changed.
pub(super) fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    args: Vec<Value>,
    rows: bool,
) -> Result<(Vec<Row>, u64), sqlx::Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(to_sqlx)?;
    let mut args: Vec<Option<Value>> = args.into_iter().map(Some).collect();
    // Each placeholder names its value: `$3` (or `?3`) is the third. Read
    // from the statement rather than formatted per value: no allocation
    // on the writer's path, and a value no placeholder names is left out.
    for at in 1..=stmt.parameter_count() {
        let Some(arg) = stmt
            .parameter_name(at)
            .and_then(|name| name.get(1..)?.parse::<usize>().ok())
            .and_then(|n| args.get_mut(n.checked_sub(1)?)?.take())
        else {
            continue;
        };
        let bound = match arg {
            Value::Null(_) => stmt.raw_bind_parameter(at, rusqlite::types::Null),
            Value::Int(v) => stmt.raw_bind_parameter(at, v),
            Value::Real(v) => stmt.raw_bind_parameter(at, v),
            Value::Text(v) => stmt.raw_bind_parameter(at, v),
            Value::Bytes(v) => stmt.raw_bind_parameter(at, v),
            Value::Bool(v) => stmt.raw_bind_parameter(at, v),
            // As the driver writes times, so both read them back alike.
            Value::Time(v) => {
                stmt.raw_bind_parameter(at, v.to_rfc3339_opts(SecondsFormat::AutoSi, false))
            }
        };
        bound.map_err(to_sqlx)?;
    }
    let columns: Arc<[String]> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let width = columns.len();
    let mut out = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(to_sqlx)? {
        if !rows {
            continue;
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i).map_err(to_sqlx)? {
                ValueRef::Null => Value::Null(super::Kind::Text),
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            });
        }
        out.push(Row::new(columns.clone(), values));
    }
    drop(cursor);
    Ok((out, conn.changes()))
}

/// A SQLite error as the driver would report it, so callers tell
/// constraint violations apart the same way on every path.
pub fn to_sqlx(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            sqlx::Error::Database(Box::new(DirectError {
                code: code.extended_code,
                message: message.unwrap_or_else(|| code.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(format!("direct statement: {other}")),
    }
}

/// A failed statement's SQLite error code and message.
#[derive(Debug)]
struct DirectError {
    code: i32,
    message: String,
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for DirectError {}

impl sqlx::error::DatabaseError for DirectError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}
