//! Databases: one [`Db`] handle over Postgres or SQLite, migrations, and the pieces of SQL that are
//! built at run time (list queries). Generated repositories hold their other SQL as constants.

mod list;
mod mapping;
mod owned;
pub mod pg;
mod repository;
mod session;
pub mod sqlite;
mod tx;
mod value;

use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::FieldError;
use crate::repo::RepoError;

pub use list::{ListSql, Placeholders, build_list};
pub use mapping::{Events, Mapping, Method, Returns, Statements};
pub use owned::{HISTORY_TABLE, Owned};
pub use repository::SqlRepository;
pub use tx::{Conn, Executor, Later, MemoryTx, PgExecutor, Scope, SqliteExecutor, Tx, journal};
pub use value::{FromSql, Row, Value, set, set_json, set_wire};

/// A connection pool to whichever database `DATABASE_URL` names.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// One migration file, embedded in the generated code.
#[derive(Debug, Clone, Copy)]
pub struct MigrationFile {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// Runs outside a transaction (SQLite table rebuilds, which must switch foreign keys off).
    pub no_tx: bool,
}

/// The migrations of a generated service, one list per database.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// The runtime's own tables the service uses, migrated first ([`Owned`]).
    pub owned: &'static [Owned],
    pub postgres: &'static [MigrationFile],
    pub sqlite: &'static [MigrationFile],
}

/// Connections that keep in-memory SQLite databases alive (see [`Db::connect`]).
static IN_MEMORY_KEEPERS: std::sync::Mutex<Vec<sqlx::SqliteConnection>> =
    std::sync::Mutex::new(Vec::new());

impl Db {
    /// `postgres://…` or `sqlite:…`; a bare path is taken as an SQLite file.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5))
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            });
        // An in-memory database lives while a connection to it is open. The pool keeps one, but
        // closes it when a request is cancelled mid-query (a client hanging up, the request
        // deadline), and its replacement would open an empty database: a second connection, kept
        // for the life of the process, holds the data. (sqlx names `:memory:` databases uniquely,
        // with a shared cache, so both connections see the same one.)
        let pool = if in_memory {
            use sqlx::ConnectOptions;
            let keeper = options.connect().await?;
            IN_MEMORY_KEEPERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(keeper);
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        Ok(Db::Sqlite(pool.connect_with(options).await?))
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// Apply the migrations for this backend that have not run yet: the runtime's tables the
    /// service uses, then the spec's. Checksums are verified, so a migration edited after it ran
    /// is an error rather than silent drift.
    pub async fn migrate(
        &self,
        migrations: &Migrations,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        self.migrate_owned(migrations.owned).await?;
        let files = match self {
            Db::Postgres(_) => migrations.postgres,
            Db::Sqlite(_) => migrations.sqlite,
        };
        let migrator = Migrator::with_migrations(files.iter().map(owned::migration).collect());
        let result = self.run(&migrator).await;
        if let Err(sqlx::migrate::MigrateError::VersionMismatch(v)) = &result {
            tracing::error!(
                version = v,
                "migration {v} changed after it was applied to this database: the spec changed a table. \
                 Recreate the database (development), or keep the released migration and add the change as a new one"
            );
        }
        result
    }

    async fn run(&self, migrator: &Migrator) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Postgres(pool) => migrator.run(pool).await,
            Db::Sqlite(pool) => migrator.run(pool).await,
        }
    }
}

/// The current time at the precision both databases store (microseconds), so a value returned by
/// `create` equals the same value read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Turn a database error into a repository error: constraint violations are the client's problem
/// (409), everything else is ours (500).
pub fn map_error(e: sqlx::Error) -> RepoError {
    use sqlx::error::ErrorKind;
    if let sqlx::Error::Database(db) = &e {
        let message = db.message().to_string();
        let constraint = db
            .constraint()
            .map(str::to_string)
            .or_else(|| sqlite_constraint(&message));
        match db.kind() {
            ErrorKind::UniqueViolation => {
                return RepoError::Conflict {
                    message: format!(
                        "a row with the same {} already exists",
                        constraint.as_deref().unwrap_or("unique key")
                    ),
                    constraint,
                };
            }
            // SQLite does not say which key failed, so neither answer names one. A RESTRICT
            // key on SQLite fails with its own code (1811, SQLITE_CONSTRAINT_TRIGGER), which sqlx
            // does not classify, but with the same message.
            ErrorKind::ForeignKeyViolation => {
                return foreign_key_conflict();
            }
            _ if message.contains("FOREIGN KEY constraint failed") => {
                return foreign_key_conflict();
            }
            ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
                let field = constraint.unwrap_or_else(|| "body".into());
                return RepoError::Invalid(vec![FieldError::new(field, message)]);
            }
            _ => {}
        }
    }
    RepoError::Database(Box::new(e))
}

fn foreign_key_conflict() -> RepoError {
    RepoError::Conflict {
        message:
            "the request refers to a row that does not exist, or that other rows still refer to"
                .into(),
        constraint: None,
    }
}

/// [`map_error`], with a conflict named by the API fields of the unique index it broke, so the
/// answer is the same on Postgres (which names the index) and SQLite (which names the columns).
pub fn table_error(table: &crate::repo::Table, e: sqlx::Error) -> RepoError {
    match map_error(e) {
        RepoError::Conflict {
            constraint: Some(c),
            message,
        } if message.starts_with("a row with the same") => {
            let fields = table.unique.iter().find_map(|(name, fields)| {
                let columns: Vec<&str> = fields
                    .iter()
                    .filter_map(|f| {
                        table
                            .columns
                            .iter()
                            .find(|col| col.field == *f)
                            .map(|col| col.column)
                    })
                    .collect();
                (*name == c || columns.join(",") == c).then(|| fields.join(", "))
            });
            let fields = fields.unwrap_or(c);
            RepoError::Conflict {
                message: format!(
                    "{} with the same {fields} already exists",
                    crate::repo::article(table.entity)
                ),
                constraint: Some(fields),
            }
        }
        other => other,
    }
}

/// SQLite names the columns rather than the constraint: "UNIQUE constraint failed: labels.name".
fn sqlite_constraint(message: &str) -> Option<String> {
    let (_, cols) = message.split_once("constraint failed: ")?;
    Some(
        cols.split(", ")
            .map(|c| c.rsplit('.').next().unwrap_or(c))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// A patch field as the update statement binds it: (whether to set the column, the new value).
/// `null` for a column that cannot be null was rejected by validation and leaves the column as is.
pub fn patch_parts<T>(patch: crate::Patch<T>, nullable: bool) -> (bool, Option<T>) {
    match patch {
        crate::Patch::Absent => (false, None),
        crate::Patch::Null => (nullable, None),
        crate::Patch::Value(v) => (true, Some(v)),
    }
}

/// Decoding a stored enum or JSON value failed: the database holds data the spec does not allow.
pub fn decode_error(column: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: e.to_string().into(),
    }
}

#[cfg(test)]
mod in_memory_tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn an_in_memory_database_outlives_its_pool_connection() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(pool)
            .await
            .unwrap();
        // Lose the pool's only connection, as a cancelled query does.
        pool.acquire()
            .await
            .unwrap()
            .detach()
            .close()
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(pool)
            .await
            .expect("the table is still there");
    }
}
