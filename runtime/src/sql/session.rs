//! One repository call's hold on its connection, in either dialect: a [`Plan`] says whether the
//! call needs a transaction (or a savepoint) and a tenant, and a [`Session`] runs its statements
//! with their binds and commits, so that the repository's logic is written once.

use sqlx::postgres::{PgConnection, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::{AssertSqlSafe, Transaction};
use uuid::Uuid;

use super::Conn;
use super::value::{Row, Value, bind_pg, bind_pg_scalar, bind_sqlite, bind_sqlite_scalar};
use crate::events::Envelope;
use crate::repo::ListQuery;

/// What a call needs of its connection.
pub(super) struct Plan {
    /// Run in a transaction, or a savepoint of the caller's.
    pub transaction: bool,
    /// Tell Postgres's row-level-security policies whose rows these are.
    pub tenant: Option<Uuid>,
    /// The call writes to the outbox: wake the relay once it commits.
    pub evented: bool,
}

impl Plan {
    /// The connection as it is; for writing an event, which wakes the relay.
    pub fn plain() -> Self {
        Self {
            transaction: false,
            tenant: None,
            evented: true,
        }
    }
}

/// A connection of either database.
pub(super) enum AnyConn<'a> {
    Postgres(Conn<'a, Postgres>),
    Sqlite(Conn<'a, Sqlite>),
}

impl AnyConn<'_> {
    pub async fn session(&mut self, plan: Plan) -> Result<Session<'_>, sqlx::Error> {
        let on = match (self, plan.transaction) {
            (AnyConn::Postgres(c), true) => {
                let mut tx = sqlx::Connection::begin(&mut **c).await?;
                if let Some(org) = plan.tenant {
                    super::pg::scope(&mut tx, org).await?;
                }
                On::PostgresTx(tx)
            }
            (AnyConn::Postgres(c), false) => On::Postgres(c),
            (AnyConn::Sqlite(c), true) => On::SqliteTx(sqlx::Connection::begin(&mut **c).await?),
            (AnyConn::Sqlite(c), false) => On::Sqlite(c),
        };
        Ok(Session {
            on,
            evented: plan.evented,
        })
    }
}

/// One call's statements: on the connection itself, or in a transaction (a savepoint when the
/// connection is already in one) that [`Session::commit`] keeps and dropping rolls back.
pub(super) struct Session<'c> {
    on: On<'c>,
    evented: bool,
}

enum On<'c> {
    Postgres(&'c mut PgConnection),
    PostgresTx(Transaction<'c, Postgres>),
    Sqlite(&'c mut SqliteConnection),
    SqliteTx(Transaction<'c, Sqlite>),
}

/// The connection a statement runs on.
enum Target<'a> {
    Postgres(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

fn pg_query(
    sql: &'static str,
    args: Vec<Value>,
) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    args.into_iter().fold(sqlx::query(sql), bind_pg)
}

fn sqlite_query(
    sql: &'static str,
    args: Vec<Value>,
) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    args.into_iter().fold(sqlx::query(sql), bind_sqlite)
}

impl Session<'_> {
    fn db(&mut self) -> Target<'_> {
        match &mut self.on {
            On::Postgres(c) => Target::Postgres(c),
            On::PostgresTx(tx) => Target::Postgres(tx),
            On::Sqlite(c) => Target::Sqlite(c),
            On::SqliteTx(tx) => Target::Sqlite(tx),
        }
    }

    pub async fn optional(
        &mut self,
        sql: &'static str,
        args: Vec<Value>,
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self.db() {
            Target::Postgres(c) => pg_query(sql, args)
                .fetch_optional(c)
                .await?
                .map(Row::Postgres),
            Target::Sqlite(c) => sqlite_query(sql, args)
                .fetch_optional(c)
                .await?
                .map(Row::Sqlite),
        })
    }

    pub async fn all(
        &mut self,
        sql: &'static str,
        args: Vec<Value>,
    ) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self.db() {
            Target::Postgres(c) => pg_query(sql, args)
                .fetch_all(c)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
            Target::Sqlite(c) => sqlite_query(sql, args)
                .fetch_all(c)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
        })
    }

    pub async fn execute(
        &mut self,
        sql: &'static str,
        args: Vec<Value>,
    ) -> Result<u64, sqlx::Error> {
        Ok(match self.db() {
            Target::Postgres(c) => pg_query(sql, args).execute(c).await?.rows_affected(),
            Target::Sqlite(c) => sqlite_query(sql, args).execute(c).await?.rows_affected(),
        })
    }

    /// The one value of a one-row, one-column statement (a count, an `EXISTS`).
    pub async fn scalar<T>(&mut self, sql: &'static str, args: Vec<Value>) -> Result<T, sqlx::Error>
    where
        T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
        T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
        T: Send + Unpin,
    {
        match self.db() {
            Target::Postgres(c) => {
                args.into_iter()
                    .fold(sqlx::query_scalar(sql), bind_pg_scalar)
                    .fetch_one(c)
                    .await
            }
            Target::Sqlite(c) => {
                args.into_iter()
                    .fold(sqlx::query_scalar(sql), bind_sqlite_scalar)
                    .fetch_one(c)
                    .await
            }
        }
    }

    /// A list's total and page: the count binds the filter's arguments only, the page binds all
    /// of them, then the limit and offset.
    pub async fn page(
        &mut self,
        sql: super::ListSql,
        query: &ListQuery,
    ) -> Result<(i64, Vec<Row>), sqlx::Error> {
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let count_args = &sql.args[..sql.count_args];
        match self.db() {
            Target::Postgres(c) => {
                let count = count_args.iter().fold(
                    sqlx::query_scalar(AssertSqlSafe(sql.count)),
                    super::pg::bind_scalar,
                );
                let total: i64 = count.fetch_one(&mut *c).await?;
                let select = sql
                    .args
                    .iter()
                    .fold(sqlx::query(AssertSqlSafe(sql.select)), super::pg::bind);
                let rows = select.bind(limit).bind(offset).fetch_all(c).await?;
                Ok((total, rows.into_iter().map(Row::Postgres).collect()))
            }
            Target::Sqlite(c) => {
                let count = count_args.iter().fold(
                    sqlx::query_scalar(AssertSqlSafe(sql.count)),
                    super::sqlite::bind_scalar,
                );
                let total: i64 = count.fetch_one(&mut *c).await?;
                let select = sql
                    .args
                    .iter()
                    .fold(sqlx::query(AssertSqlSafe(sql.select)), super::sqlite::bind);
                let rows = select.bind(limit).bind(offset).fetch_all(c).await?;
                Ok((total, rows.into_iter().map(Row::Sqlite).collect()))
            }
        }
    }

    pub async fn outbox(&mut self, event: &Envelope) -> Result<(), sqlx::Error> {
        match self.db() {
            Target::Postgres(c) => crate::events::write_pg(c, event).await,
            Target::Sqlite(c) => crate::events::write_sqlite(c, event).await,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.on {
            On::PostgresTx(tx) => tx.commit().await?,
            On::SqliteTx(tx) => tx.commit().await?,
            On::Postgres(_) | On::Sqlite(_) => {}
        }
        if self.evented {
            crate::events::wake();
        }
        Ok(())
    }
}
