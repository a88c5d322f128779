//! Statements with bound values, run on a pool, a transaction or a
//! connection of either database.
//!
//! Statements are written once, with `$N` placeholders (SQLite takes them
//! too), and bound with [`Value`]s that keep their type, so the same text
//! and the same binds serve both databases.

use super::row::{self, Row};
use super::value::{Bind, FromValue, Kind, Value};
use super::{Db, Link, Tx};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};
use std::borrow::Cow;
use std::marker::PhantomData;

/// Where a statement runs.
pub enum Target<'a> {
    SqlitePool(&'a SqlitePool),
    PgPool(&'a PgPool),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
    /// The writer's SQLite connection, taken from the driver ([`super::direct`]).
    Direct(&'a rusqlite::Connection),
}

/// Anything a statement can run on: `&Db`, `&mut Tx`, or a connection.
pub trait Exec<'a> {
    fn target(self) -> Target<'a>;
}

impl<'a> Exec<'a> for &'a Db {
    fn target(self) -> Target<'a> {
        match self {
            Db::Sqlite(pool) => Target::SqlitePool(pool),
            Db::Postgres(pool) => Target::PgPool(pool),
        }
    }
}

impl<'a> Exec<'a> for &'a mut Tx {
    fn target(self) -> Target<'a> {
        match self {
            Tx::Sqlite(tx) => Target::Sqlite(tx),
            Tx::Postgres(tx) => Target::Postgres(tx),
        }
    }
}

impl<'a, 'b: 'a> Exec<'a> for &'a mut Link<'b> {
    fn target(self) -> Target<'a> {
        match self {
            Link::Direct(conn) => Target::Direct(conn),
            Link::Postgres(conn) => Target::Postgres(conn),
        }
    }
}

impl<'a> Exec<'a> for &'a mut SqliteConnection {
    fn target(self) -> Target<'a> {
        Target::Sqlite(self)
    }
}

impl<'a> Exec<'a> for &'a mut PgConnection {
    fn target(self) -> Target<'a> {
        Target::Postgres(self)
    }
}

/// What a run of a statement answers.
enum Answer {
    Done(u64),
    Rows(Vec<Row>),
    Row(Option<Row>),
}

#[derive(Clone, Copy)]
enum Mode {
    Execute,
    All,
    Optional,
}

/// How many rows a statement changed.
#[derive(Debug, Clone, Copy)]
pub struct Done(u64);

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.0
    }
}

/// A statement and its bound values.
#[derive(Debug, Clone)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// A statement to run; bind its `$N` values in order.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A statement whose answer is the first column of its rows.
pub fn query_scalar<T: FromValue>(sql: impl Into<Cow<'static, str>>) -> Scalar<T> {
    Scalar {
        query: query(sql),
        _type: PhantomData,
    }
}

impl Query {
    pub fn bind<T: Bind>(mut self, value: T) -> Self {
        self.args.push(value.into_value());
        self
    }

    /// Appends SQL text, for statements built piece by piece.
    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Self {
        self.sql.to_mut().push_str(sql.as_ref());
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind<T: Bind>(&mut self, value: T) -> &mut Self {
        self.args.push(value.into_value());
        let n = self.args.len();
        let sql = self.sql.to_mut();
        sql.push('$');
        sql.push_str(&n.to_string());
        self
    }

    /// Appends `(v1, v2, …)` with a placeholder per item, for `IN`;
    /// `(NULL)`, which matches nothing, when there are none.
    pub fn push_list<T: Bind>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(item);
        }
        self.push(")")
    }

    pub async fn execute<'a>(self, on: impl Exec<'a>) -> Result<Done, sqlx::Error> {
        match self.run(on, Mode::Execute).await? {
            Answer::Done(n) => Ok(Done(n)),
            _ => unreachable!("execute answers a count"),
        }
    }

    pub async fn fetch_all<'a>(self, on: impl Exec<'a>) -> Result<Vec<Row>, sqlx::Error> {
        match self.run(on, Mode::All).await? {
            Answer::Rows(rows) => Ok(rows),
            _ => unreachable!("fetch_all answers rows"),
        }
    }

    pub async fn fetch_optional<'a>(self, on: impl Exec<'a>) -> Result<Option<Row>, sqlx::Error> {
        match self.run(on, Mode::Optional).await? {
            Answer::Row(row) => Ok(row),
            _ => unreachable!("fetch_optional answers a row"),
        }
    }

    pub async fn fetch_one<'a>(self, on: impl Exec<'a>) -> Result<Row, sqlx::Error> {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    async fn run<'a>(self, on: impl Exec<'a>, mode: Mode) -> Result<Answer, sqlx::Error> {
        let Query { sql, args } = self;
        match on.target() {
            Target::SqlitePool(pool) => on_sqlite(pool, &sql, args, mode).await,
            Target::Sqlite(conn) => on_sqlite(conn, &sql, args, mode).await,
            Target::PgPool(pool) => on_postgres(pool, &sql, args, mode).await,
            Target::Postgres(conn) => on_postgres(conn, &sql, args, mode).await,
            Target::Direct(conn) => {
                let want_rows = !matches!(mode, Mode::Execute);
                let (rows, changed) = super::direct::run(conn, &sql, args, want_rows)?;
                Ok(match mode {
                    Mode::Execute => Answer::Done(changed),
                    Mode::All => Answer::Rows(rows),
                    Mode::Optional => Answer::Row(rows.into_iter().next()),
                })
            }
        }
    }
}

/// A statement answering one value per row.
pub struct Scalar<T> {
    query: Query,
    _type: PhantomData<fn() -> T>,
}

impl<T: FromValue> Scalar<T> {
    pub fn bind<B: Bind>(mut self, value: B) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_one<'a>(self, on: impl Exec<'a>) -> Result<T, sqlx::Error> {
        self.query.fetch_one(on).await?.try_get(0)
    }

    pub async fn fetch_optional<'a>(self, on: impl Exec<'a>) -> Result<Option<T>, sqlx::Error> {
        self.query
            .fetch_optional(on)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    pub async fn fetch_all<'a>(self, on: impl Exec<'a>) -> Result<Vec<T>, sqlx::Error> {
        self.query
            .fetch_all(on)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect()
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Value::Int(v) => q.bind(v),
                Value::Real(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Time(v) => q.bind(v),
                Value::Null(Kind::Int) => q.bind(None::<i64>),
                Value::Null(Kind::Real) => q.bind(None::<f64>),
                Value::Null(Kind::Text) => q.bind(None::<String>),
                Value::Null(Kind::Bytes) => q.bind(None::<Vec<u8>>),
                Value::Null(Kind::Bool) => q.bind(None::<bool>),
                Value::Null(Kind::Time) => q.bind(None::<DateTime<Utc>>),
            };
        }
        q
    }};
}

/// `run_on!(name, Database, to_row)`: the function that runs a statement
/// on an executor of that database and reads its rows with `to_row`.
macro_rules! run_on {
    ($name:ident, $database:ty, $to_row:path) => {
        async fn $name<'c, E>(
            on: E,
            sql: &str,
            args: Vec<Value>,
            mode: Mode,
        ) -> Result<Answer, sqlx::Error>
        where
            E: sqlx::Executor<'c, Database = $database>,
        {
            let q = bind_all!(sqlx::query::<$database>(sql), args);
            Ok(match mode {
                Mode::Execute => Answer::Done(q.execute(on).await?.rows_affected()),
                Mode::All => {
                    let rows = q.fetch_all(on).await?;
                    let Some(first) = rows.first() else {
                        return Ok(Answer::Rows(Vec::new()));
                    };
                    let columns = row::column_names(first);
                    let rows = rows
                        .iter()
                        .map(|r| $to_row(r, columns.clone()))
                        .collect::<Result<_, _>>()?;
                    Answer::Rows(rows)
                }
                Mode::Optional => Answer::Row(match q.fetch_optional(on).await? {
                    Some(r) => Some($to_row(&r, row::column_names(&r))?),
                    None => None,
                }),
            })
        }
    };
}

run_on!(on_sqlite, Sqlite, row::from_sqlite);
run_on!(on_postgres, Postgres, row::from_postgres);
