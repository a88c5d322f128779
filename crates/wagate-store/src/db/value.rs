//! Values crossing the database boundary, the same for SQLite and
//! PostgreSQL.
//!
//! A bound value keeps its type even when it is NULL: PostgreSQL refuses
//! a text-typed NULL for a bigint column, where SQLite takes anything.
//! Read values are decoded leniently, so one row mapper serves both
//! databases: SQLite keeps booleans as integers and times as text,
//! PostgreSQL has types of its own for both.

use chrono::{DateTime, NaiveDateTime, Utc};

/// The type of a bound value, kept for NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    Bytes,
    Bool,
    Time,
}

/// One value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Time(DateTime<Utc>),
}

/// A Rust value that can be bound to a statement.
pub trait Bind {
    /// The type its NULL is bound as.
    const KIND: Kind;
    fn into_value(self) -> Value;
}

macro_rules! bind_as {
    ($kind:ident, $variant:ident: $($ty:ty => |$v:ident| $conv:expr),+ $(,)?) => {$(
        impl Bind for $ty {
            const KIND: Kind = Kind::$kind;
            fn into_value(self) -> Value {
                let $v = self;
                Value::$variant($conv)
            }
        }
    )+};
}

bind_as!(Int, Int:
    i64 => |v| v,
    &i64 => |v| *v,
    i32 => |v| v.into(),
    u32 => |v| v.into(),
    u16 => |v| v.into(),
    u8 => |v| v.into(),
);
bind_as!(Real, Real: f64 => |v| v);
bind_as!(Bool, Bool: bool => |v| v, &bool => |v| *v);
bind_as!(Text, Text:
    String => |v| v,
    &String => |v| v.clone(),
    &str => |v| v.to_owned(),
    &&str => |v| (*v).to_owned(),
);
bind_as!(Bytes, Bytes:
    Vec<u8> => |v| v,
    &Vec<u8> => |v| v.clone(),
    &[u8] => |v| v.to_vec(),
);
bind_as!(Time, Time: DateTime<Utc> => |v| v, &DateTime<Utc> => |v| *v);

impl<const N: usize> Bind for &[u8; N] {
    const KIND: Kind = Kind::Bytes;
    fn into_value(self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

/// Counts and sizes are bound as integers; one beyond `i64` cannot be
/// stored, and saturates rather than wraps.
impl Bind for u64 {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(i64::try_from(self).unwrap_or(i64::MAX))
    }
}

impl Bind for usize {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(i64::try_from(self).unwrap_or(i64::MAX))
    }
}

impl<T: Bind> Bind for Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::Null(T::KIND),
        }
    }
}

impl<'a, T> Bind for &'a Option<T>
where
    &'a T: Bind,
{
    const KIND: Kind = <&'a T as Bind>::KIND;
    fn into_value(self) -> Value {
        self.as_ref().into_value()
    }
}

/// A Rust value a column can be read as.
pub trait FromValue: Sized {
    /// `None` when the value has another type.
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(v) => Some(*v),
            Value::Bool(v) => Some(i64::from(*v)),
            _ => None,
        }
    }
}

macro_rules! from_int {
    ($($ty:ty),+) => {$(
        impl FromValue for $ty {
            fn from_value(value: &Value) -> Option<Self> {
                i64::from_value(value).and_then(|v| <$ty>::try_from(v).ok())
            }
        }
    )+};
}

from_int!(i32, u32, u16, u8, u64, usize);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Real(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            _ => None,
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(v) => Some(*v),
            Value::Int(v) => Some(*v != 0),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bytes(v) => Some(v.clone()),
            Value::Text(v) => Some(v.as_bytes().to_vec()),
            _ => None,
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Time(v) => Some(*v),
            Value::Text(v) => parse_time(v),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null(_) => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// Times as SQLite keeps them: RFC 3339, as they are written, or SQLite's
/// own `YYYY-MM-DD HH:MM:SS[.fff]` in UTC, as its time functions give them.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_keeps_its_type() {
        assert_eq!(None::<i64>.into_value(), Value::Null(Kind::Int));
        assert_eq!(None::<&str>.into_value(), Value::Null(Kind::Text));
        assert_eq!(Some(3_i32).into_value(), Value::Int(3));
    }

    #[test]
    fn times_read_back_from_either_form() {
        let at = DateTime::parse_from_rfc3339("2026-11-21T17:06:24.5+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let text = Value::Text("2026-11-21T17:06:24.5+00:00".into());
        assert_eq!(DateTime::<Utc>::from_value(&text), Some(at));
        let sqlite = Value::Text("2026-11-21 17:06:24.500".into());
        assert_eq!(DateTime::<Utc>::from_value(&sqlite), Some(at));
        assert_eq!(DateTime::<Utc>::from_value(&Value::Time(at)), Some(at));
    }

    #[test]
    fn booleans_read_from_integers_and_the_reverse() {
        assert_eq!(bool::from_value(&Value::Int(1)), Some(true));
        assert_eq!(i64::from_value(&Value::Bool(true)), Some(1));
        assert_eq!(
            Option::<bool>::from_value(&Value::Null(Kind::Int)),
            Some(None)
        );
        assert_eq!(String::from_value(&Value::Int(1)), None);
    }
}
