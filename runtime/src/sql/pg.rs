//! Binding run-time values on Postgres.

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::{Query, QueryScalar};

use crate::filter::FilterValue;

pub type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

pub fn bind<'q>(q: PgQuery<'q>, v: &FilterValue) -> PgQuery<'q> {
    match v.clone() {
        FilterValue::Null => q.bind(None::<String>),
        FilterValue::Text(s) => q.bind(s),
        FilterValue::Uuid(u) => q.bind(u),
        FilterValue::Integer(i) => q.bind(i),
        FilterValue::Float(f) => q.bind(f),
        FilterValue::Boolean(b) => q.bind(b),
        FilterValue::DateTime(t) => q.bind(t),
        FilterValue::Date(d) => q.bind(d),
    }
}

pub fn bind_scalar<'q, O>(
    q: QueryScalar<'q, Postgres, O, PgArguments>,
    v: &FilterValue,
) -> QueryScalar<'q, Postgres, O, PgArguments> {
    match v.clone() {
        FilterValue::Null => q.bind(None::<String>),
        FilterValue::Text(s) => q.bind(s),
        FilterValue::Uuid(u) => q.bind(u),
        FilterValue::Integer(i) => q.bind(i),
        FilterValue::Float(f) => q.bind(f),
        FilterValue::Boolean(b) => q.bind(b),
        FilterValue::DateTime(t) => q.bind(t),
        FilterValue::Date(d) => q.bind(d),
    }
}
