//! Rows read from either database, as owned values by column name.

use super::value::{FromValue, Kind, Value};
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};
use std::sync::Arc;

/// One result row.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// Something a column is found by: its name or its position.
pub trait ColumnIndex {
    fn position(&self, row: &Row) -> Result<usize, sqlx::Error>;
}

impl ColumnIndex for &str {
    fn position(&self, row: &Row) -> Result<usize, sqlx::Error> {
        row.columns
            .iter()
            .position(|c| c == self)
            .ok_or_else(|| sqlx::Error::ColumnNotFound((*self).to_owned()))
    }
}

impl ColumnIndex for usize {
    fn position(&self, row: &Row) -> Result<usize, sqlx::Error> {
        if *self < row.values.len() {
            Ok(*self)
        } else {
            Err(sqlx::Error::ColumnIndexOutOfBounds {
                index: *self,
                len: row.values.len(),
            })
        }
    }
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { columns, values }
    }

    /// The column `index` as a `T`; an error names the column when its
    /// value has another type.
    pub fn try_get<T: FromValue, I: ColumnIndex>(&self, index: I) -> Result<T, sqlx::Error> {
        let at = index.position(self)?;
        let value = &self.values[at];
        T::from_value(value).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: self.columns[at].clone(),
            source: format!("cannot read {value:?} as {}", std::any::type_name::<T>()).into(),
        })
    }
}

/// The column names of a result, shared by its rows.
pub(crate) fn column_names<R: sqlx::Row>(row: &R) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

/// A SQLite row: each value by its storage class.
pub(crate) fn from_sqlite(row: &SqliteRow, columns: Arc<[String]>) -> Result<Row, sqlx::Error> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null(Kind::Text)
        } else {
            match raw.type_info().name() {
                "INTEGER" | "BOOLEAN" => Value::Int(row.try_get_unchecked(i)?),
                "REAL" => Value::Real(row.try_get_unchecked(i)?),
                "BLOB" => Value::Bytes(row.try_get_unchecked(i)?),
                _ => Value::Text(row.try_get_unchecked(i)?),
            }
        };
        values.push(value);
    }
    Ok(Row::new(columns, values))
}

/// A PostgreSQL row: each value by its column's type. The schema uses
/// only the types below; another is a bug in a query, named in the error.
pub(crate) fn from_postgres(row: &PgRow, columns: Arc<[String]>) -> Result<Row, sqlx::Error> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            values.push(Value::Null(Kind::Text));
            continue;
        }
        let value = match raw.type_info().name() {
            "INT8" => Value::Int(row.try_get(i)?),
            "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
            "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
            "FLOAT8" => Value::Real(row.try_get(i)?),
            "FLOAT4" => Value::Real(row.try_get::<f32, _>(i)?.into()),
            "BOOL" => Value::Bool(row.try_get(i)?),
            "BYTEA" => Value::Bytes(row.try_get(i)?),
            "TIMESTAMPTZ" => Value::Time(row.try_get::<DateTime<Utc>, _>(i)?),
            "TIMESTAMP" => Value::Time(row.try_get::<NaiveDateTime, _>(i)?.and_utc()),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Value::Text(row.try_get(i)?),
            other => {
                return Err(sqlx::Error::ColumnDecode {
                    index: columns[i].clone(),
                    source: format!("unsupported column type {other}").into(),
                });
            }
        };
        values.push(value);
    }
    Ok(Row::new(columns, values))
}
