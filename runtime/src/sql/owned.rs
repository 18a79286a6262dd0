//! The tables the runtime itself owns: the outbox and the credential store. They are migrated
//! like a spec's tables, by sqlx's migrator (versions, checksums, a lock so that replicas
//! starting together take turns), but recorded in their own history table, so that a spec's
//! migrations and the runtime's never share version numbers.

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use archgen_sql::{Column, Dialect, Index, Table, create_index, create_table};

use super::{Db, MigrationFile};

/// Where the runtime's migrations are recorded.
pub const HISTORY_TABLE: &str = "_archgen_runtime_migrations";

/// A table the runtime owns. Each service migrates those it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    /// `archgen_outbox`: events wait here for the relay, written in the transaction of their
    /// change (`crate::events`).
    Outbox,
    /// `archgen_credentials`: hashes of API keys and session tokens (`crate::auth`).
    Credentials,
}

impl Owned {
    /// The migrations of this table, in order. Versions are the runtime's own: a new migration
    /// of either table takes the next free number.
    fn migrations(self) -> Vec<(i64, &'static str, Table)> {
        match self {
            Owned::Outbox => vec![(1, "create_archgen_outbox", outbox())],
            Owned::Credentials => vec![(2, "create_archgen_credentials", credentials())],
        }
    }
}

fn column(name: &str, postgres: &str, sqlite: &str, nullable: bool) -> Column {
    Column {
        name: name.into(),
        postgres: postgres.into(),
        sqlite: sqlite.into(),
        nullable,
        primary: false,
        default: None,
        values: Vec::new(),
    }
}

/// Events wait here for the relay, written in the transaction of their change, published in
/// order, then marked.
fn outbox() -> Table {
    Table {
        name: crate::events::OUTBOX_TABLE.into(),
        columns: vec![
            Column {
                primary: true,
                ..column("id", "UUID", "TEXT", false)
            },
            column("subject", "TEXT", "TEXT", false),
            column("payload", "TEXT", "TEXT", false),
            column("created_at", "TIMESTAMPTZ", "TEXT", false),
            column("published_at", "TIMESTAMPTZ", "TEXT", true),
        ],
        indices: vec![Index {
            name: "idx_archgen_outbox_pending".into(),
            columns: vec!["created_at".into()],
            unique: false,
            condition: Some("\"published_at\" IS NULL".into()),
        }],
        foreign_keys: Vec::new(),
        tenant: None,
    }
}

/// SHA-256 hashes of API keys and session tokens, with whom each stands for.
fn credentials() -> Table {
    let kind = Column {
        values: vec!["api_key".into(), "session".into()],
        ..column("kind", "TEXT", "TEXT", false)
    };
    Table {
        name: crate::auth::CREDENTIALS_TABLE.into(),
        columns: vec![
            Column {
                primary: true,
                ..column("hash", "TEXT", "TEXT", false)
            },
            kind,
            column("scheme", "TEXT", "TEXT", true),
            column("subject", "TEXT", "TEXT", false),
            column("organization", "UUID", "TEXT", true),
            Column {
                default: Some("'[]'".into()),
                ..column("roles", "TEXT", "TEXT", false)
            },
            column("created_at", "TIMESTAMPTZ", "TEXT", false),
            column("expires_at", "TIMESTAMPTZ", "TEXT", true),
            column("revoked_at", "TIMESTAMPTZ", "TEXT", true),
        ],
        indices: Vec::new(),
        foreign_keys: Vec::new(),
        tenant: None,
    }
}

/// A table's DDL, as the generator renders a spec's (`IF NOT EXISTS`: services generated before
/// the runtime owned these tables created them themselves).
fn ddl(table: &Table, dialect: Dialect) -> String {
    let mut sql = create_table(table, &table.name, dialect);
    for index in &table.indices {
        sql.push_str(&create_index(table, index));
    }
    sql
}

impl Db {
    /// Apply the migrations of `tables` that have not run yet.
    pub async fn migrate_owned(&self, tables: &[Owned]) -> Result<(), MigrateError> {
        let dialect = match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::Sqlite(_) => Dialect::Sqlite,
        };
        let mut steps: Vec<(i64, &str, Table)> =
            tables.iter().flat_map(|t| t.migrations()).collect();
        steps.sort_by_key(|(version, ..)| *version);
        steps.dedup_by_key(|(version, ..)| *version);
        let migrations = steps
            .iter()
            .map(|(version, name, table)| {
                let sql = AssertSqlSafe(ddl(table, dialect)).into_sql_str();
                Migration::new(*version, (*name).into(), MigrationType::Simple, sql, false)
            })
            .collect();
        let mut migrator = Migrator::with_migrations(migrations);
        migrator.dangerous_set_table_name(HISTORY_TABLE);
        // A service migrates only the tables it uses; another service on the same database may
        // have migrated others.
        migrator.set_ignore_missing(true);
        self.run(&migrator).await
    }
}

pub(super) fn migration(m: &MigrationFile) -> Migration {
    Migration::new(
        m.version,
        m.name.into(),
        MigrationType::Simple,
        AssertSqlSafe(m.sql).into_sql_str(),
        m.no_tx,
    )
}
