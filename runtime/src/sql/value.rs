//! Values crossing into and out of SQL, in either dialect: [`Value`] is what a statement binds,
//! [`Row`] what it returns. Generated code converts each field with `.into()` and `row.get(…)`;
//! the difference between the dialects (SQLite stores UUIDs and timestamps as text) is settled
//! here, once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row as _;
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::query::{Query, QueryScalar};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use uuid::Uuid;

/// A value bound to a statement. Every variant carries an `Option`, so that a NULL keeps its
/// type: Postgres refuses a text NULL for a UUID column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Uuid(Option<Uuid>),
    Int32(Option<i32>),
    Int64(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    DateTime(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    /// Arrays and objects, stored as `jsonb` on Postgres and as text on SQLite.
    Json(Option<serde_json::Value>),
}

impl Value {
    /// A value stored as JSON (a nested object or array).
    pub fn json<T: Serialize>(value: &T) -> Self {
        Value::Json(Some(serde_json::to_value(value).unwrap_or_default()))
    }

    /// The value as serde writes the field it came from (NULL: `null`).
    pub fn to_json(&self) -> serde_json::Value {
        fn json<T: Serialize>(v: &Option<T>) -> serde_json::Value {
            serde_json::to_value(v).unwrap_or_default()
        }
        match self {
            Value::Text(v) => json(v),
            Value::Uuid(v) => json(v),
            Value::Int32(v) => json(v),
            Value::Int64(v) => json(v),
            Value::Float(v) => json(v),
            Value::Bool(v) => json(v),
            Value::DateTime(v) => json(v),
            Value::Date(v) => json(v),
            Value::Json(v) => v.clone().unwrap_or_default(),
        }
    }

    /// A nullable JSON column: `None` is SQL NULL, not JSON `null`.
    pub fn json_opt<T: Serialize>(value: Option<&T>) -> Self {
        match value {
            Some(v) => Self::json(v),
            None => Value::Json(None),
        }
    }
}

macro_rules! value_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(Some(v))
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Self {
                Value::$variant(v)
            }
        }
    )*};
}

value_from! {
    String => Text,
    Uuid => Uuid,
    i32 => Int32,
    i64 => Int64,
    f64 => Float,
    bool => Bool,
    DateTime<Utc> => DateTime,
    NaiveDate => Date,
}

impl<T: crate::IntEnum> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        Value::Int64(v.map(T::value))
    }
}

impl<T: crate::IntEnum> FromSql for Option<T> {
    fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
        let value: Option<i64> = row.try_get(column)?;
        value
            .map(|v| crate::int_enum_decode(column, v, T::of))
            .transpose()
    }
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
        let value: Option<i64> = row.try_get(column)?;
        value
            .map(|v| crate::int_enum_decode(column, v, T::of))
            .transpose()
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}

/// A patch field as the update statement binds it: whether to set the column, then its new
/// value. `null` for a column that cannot be null was refused by validation and leaves the
/// column as it is.
pub fn set<T>(patch: crate::Patch<T>, nullable: bool) -> (bool, Value)
where
    Value: From<Option<T>>,
{
    let (set, value) = super::patch_parts(patch, nullable);
    (set, Value::from(value))
}

/// [`set`] for a field stored as JSON.
pub fn set_json<T: Serialize>(patch: crate::Patch<T>, nullable: bool) -> (bool, Value) {
    let (set, value) = super::patch_parts(patch, nullable);
    (set, Value::json_opt(value.as_ref()))
}

/// [`set`] for a string enum, stored as its wire value.
pub fn set_wire<T>(
    patch: crate::Patch<T>,
    nullable: bool,
    wire: fn(&T) -> &'static str,
) -> (bool, Value) {
    let (set, value) = super::patch_parts(patch, nullable);
    (set, Value::from(value.as_ref().map(wire)))
}

/// The same binding for every query shape, whose `bind` methods share no trait.
macro_rules! bind_pg {
    ($q:expr, $v:expr) => {
        match $v {
            Value::Text(v) => $q.bind(v),
            Value::Uuid(v) => $q.bind(v),
            Value::Int32(v) => $q.bind(v),
            Value::Int64(v) => $q.bind(v),
            Value::Float(v) => $q.bind(v),
            Value::Bool(v) => $q.bind(v),
            Value::DateTime(v) => $q.bind(v),
            Value::Date(v) => $q.bind(v),
            Value::Json(v) => $q.bind(v.map(sqlx::types::Json)),
        }
    };
}

macro_rules! bind_sqlite {
    ($q:expr, $v:expr) => {
        match $v {
            Value::Text(v) => $q.bind(v),
            Value::Uuid(v) => $q.bind(v.as_ref().map(super::sqlite::uuid)),
            Value::Int32(v) => $q.bind(v),
            Value::Int64(v) => $q.bind(v),
            Value::Float(v) => $q.bind(v),
            Value::Bool(v) => $q.bind(v),
            Value::DateTime(v) => $q.bind(v.as_ref().map(super::sqlite::timestamp)),
            Value::Date(v) => $q.bind(v),
            Value::Json(v) => $q.bind(v.map(sqlx::types::Json)),
        }
    };
}

pub(crate) fn bind_pg(
    q: Query<'static, Postgres, PgArguments>,
    v: Value,
) -> Query<'static, Postgres, PgArguments> {
    bind_pg!(q, v)
}

pub(crate) fn bind_pg_scalar<O>(
    q: QueryScalar<'static, Postgres, O, PgArguments>,
    v: Value,
) -> QueryScalar<'static, Postgres, O, PgArguments> {
    bind_pg!(q, v)
}

pub(crate) fn bind_sqlite(
    q: Query<'static, Sqlite, SqliteArguments>,
    v: Value,
) -> Query<'static, Sqlite, SqliteArguments> {
    bind_sqlite!(q, v)
}

pub(crate) fn bind_sqlite_scalar<O>(
    q: QueryScalar<'static, Sqlite, O, SqliteArguments>,
    v: Value,
) -> QueryScalar<'static, Sqlite, O, SqliteArguments> {
    bind_sqlite!(q, v)
}

/// A row of either database, as a generated `decode` reads it.
pub enum Row {
    Postgres(PgRow),
    Sqlite(SqliteRow),
}

impl Row {
    /// The column as `T` (or `Option<T>` for a nullable column).
    pub fn get<T: FromSql>(&self, column: &str) -> Result<T, sqlx::Error> {
        match self {
            Row::Postgres(row) => T::from_pg(row, column),
            Row::Sqlite(row) => T::from_sqlite(row, column),
        }
    }

    /// A string enum, read back through its `from_wire`.
    pub fn wire<T>(
        &self,
        column: &str,
        from_wire: fn(&str) -> Option<T>,
    ) -> Result<T, sqlx::Error> {
        let text: String = self.get(column)?;
        from_wire(&text).ok_or_else(|| super::decode_error(column, text))
    }

    /// A nullable string enum.
    pub fn wire_opt<T>(
        &self,
        column: &str,
        from_wire: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, sqlx::Error> {
        let text: Option<String> = self.get(column)?;
        text.map(|t| from_wire(&t).ok_or_else(|| super::decode_error(column, t)))
            .transpose()
    }

    /// A value stored as JSON.
    pub fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T, sqlx::Error> {
        let value: sqlx::types::Json<T> = match self {
            Row::Postgres(row) => row.try_get(column)?,
            Row::Sqlite(row) => row.try_get(column)?,
        };
        Ok(value.0)
    }

    /// A nullable value stored as JSON.
    pub fn json_opt<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>, sqlx::Error> {
        let value: Option<sqlx::types::Json<T>> = match self {
            Row::Postgres(row) => row.try_get(column)?,
            Row::Sqlite(row) => row.try_get(column)?,
        };
        Ok(value.map(|v| v.0))
    }
}

/// A Rust type a column decodes into, on both databases.
pub trait FromSql: Sized {
    fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error>;
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error>;
}

/// Types both drivers decode the same way.
macro_rules! from_sql {
    ($($ty:ty),*) => {$(
        impl FromSql for $ty {
            fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
                row.try_get(column)
            }
            fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
                row.try_get(column)
            }
        }
        impl FromSql for Option<$ty> {
            fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
                row.try_get(column)
            }
            fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
                row.try_get(column)
            }
        }
    )*};
}

from_sql!(String, i32, i64, f64, bool, DateTime<Utc>, NaiveDate);

/// SQLite keeps UUIDs as hyphenated text.
impl FromSql for Uuid {
    fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
        row.try_get(column)
    }
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
        Ok(row.try_get::<uuid::fmt::Hyphenated, _>(column)?.into_uuid())
    }
}

impl FromSql for Option<Uuid> {
    fn from_pg(row: &PgRow, column: &str) -> Result<Self, sqlx::Error> {
        row.try_get(column)
    }
    fn from_sqlite(row: &SqliteRow, column: &str) -> Result<Self, sqlx::Error> {
        Ok(row
            .try_get::<Option<uuid::fmt::Hyphenated>, _>(column)?
            .map(|u| u.into_uuid()))
    }
}
