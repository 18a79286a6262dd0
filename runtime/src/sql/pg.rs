//! Binding run-time values on Postgres.

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::{Query, QueryScalar};

use crate::filter::FilterValue;

pub type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// The same binding for plain and scalar queries, whose `bind` methods share no trait.
macro_rules! bind_value {
    ($q:expr, $v:expr) => {
        match $v.clone() {
            FilterValue::Null => $q.bind(None::<String>),
            FilterValue::Text(s) => $q.bind(s),
            FilterValue::Uuid(u) => $q.bind(u),
            FilterValue::Integer(i) => $q.bind(i),
            FilterValue::Float(f) => $q.bind(f),
            FilterValue::Boolean(b) => $q.bind(b),
            FilterValue::DateTime(t) => $q.bind(t),
            FilterValue::Date(d) => $q.bind(d),
        }
    };
}

pub fn bind<'q>(q: PgQuery<'q>, v: &FilterValue) -> PgQuery<'q> {
    bind_value!(q, v)
}

pub fn bind_scalar<'q, O>(
    q: QueryScalar<'q, Postgres, O, PgArguments>,
    v: &FilterValue,
) -> QueryScalar<'q, Postgres, O, PgArguments> {
    bind_value!(q, v)
}

/// The setting that row-level-security policies of tenant-scoped tables compare the
/// organization column with.
pub const TENANT_SETTING: &str = "archgen.organization_id";

/// Scope the current transaction to `org`, for the row-level-security policies of tenant-scoped
/// tables. `set_config(…, true)` lasts until the transaction ends, so a pooled connection never
/// carries one caller's organization into the next.
pub async fn scope(conn: &mut sqlx::PgConnection, org: uuid::Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('archgen.organization_id', $1, true)")
        .bind(org.hyphenated().to_string())
        .execute(conn)
        .await
        .map(|_| ())
}
