//! Binding run-time values on SQLite, where UUIDs and timestamps are stored as text.

use chrono::{DateTime, Utc};
use sqlx::query::{Query, QueryScalar};
use sqlx::sqlite::{Sqlite, SqliteArguments};

use crate::filter::FilterValue;

pub type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments>;

/// Timestamps are stored in one fixed-width UTC format so that text comparison and ordering in
/// SQL agree with time order (sqlx's own encoding varies the number of fraction digits).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn uuid(u: &uuid::Uuid) -> String {
    u.hyphenated().to_string()
}

fn text(v: &FilterValue) -> Option<String> {
    Some(match v {
        FilterValue::Null => return None,
        FilterValue::Text(s) => s.clone(),
        FilterValue::Uuid(u) => uuid(u),
        FilterValue::DateTime(t) => timestamp(t),
        FilterValue::Date(d) => d.format("%F").to_string(),
        FilterValue::Integer(_) | FilterValue::Float(_) | FilterValue::Boolean(_) => return None,
    })
}

/// The same binding for plain and scalar queries, whose `bind` methods share no trait.
macro_rules! bind_value {
    ($q:expr, $v:expr) => {
        match $v {
            FilterValue::Integer(i) => $q.bind(*i),
            FilterValue::Float(f) => $q.bind(*f),
            FilterValue::Boolean(b) => $q.bind(*b),
            other => $q.bind(text(other)),
        }
    };
}

pub fn bind<'q>(q: SqliteQuery<'q>, v: &FilterValue) -> SqliteQuery<'q> {
    bind_value!(q, v)
}

pub fn bind_scalar<'q, O>(
    q: QueryScalar<'q, Sqlite, O, SqliteArguments>,
    v: &FilterValue,
) -> QueryScalar<'q, Sqlite, O, SqliteArguments> {
    bind_value!(q, v)
}
