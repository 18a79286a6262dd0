//! The tables the runtime itself owns: the outbox and the credential store. They are migrated
//! like a spec's tables, by sqlx's migrator (versions, checksums, a lock so that replicas
//! starting together take turns), but recorded in their own history table, so that a spec's
//! migrations and the runtime's never share version numbers.

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

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
    /// The migrations of this table, per dialect. Versions are the runtime's own: a new
    /// migration of either table takes the next free number.
    fn migrations(self) -> (&'static [MigrationFile], &'static [MigrationFile]) {
        match self {
            Owned::Outbox => (OUTBOX_POSTGRES, OUTBOX_SQLITE),
            Owned::Credentials => (CREDENTIALS_POSTGRES, CREDENTIALS_SQLITE),
        }
    }
}

// `IF NOT EXISTS`: services generated before the runtime owned the outbox created it among
// their own migrations.
const OUTBOX_POSTGRES: &[MigrationFile] = &[MigrationFile {
    version: 1,
    name: "create_archgen_outbox",
    sql: "SELECT set_config('archgen.tenant_bypass', 'on', true);
CREATE TABLE IF NOT EXISTS archgen_outbox (
    id UUID PRIMARY KEY,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS idx_archgen_outbox_pending ON archgen_outbox (created_at) WHERE published_at IS NULL;
",
    no_tx: false,
}];

const OUTBOX_SQLITE: &[MigrationFile] = &[MigrationFile {
    version: 1,
    name: "create_archgen_outbox",
    sql: "CREATE TABLE IF NOT EXISTS archgen_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX IF NOT EXISTS idx_archgen_outbox_pending ON archgen_outbox (created_at) WHERE published_at IS NULL;
",
    no_tx: false,
}];

// `IF NOT EXISTS`: the credential store created its table itself before.
const CREDENTIALS_POSTGRES: &[MigrationFile] = &[MigrationFile {
    version: 2,
    name: "create_archgen_credentials",
    sql: "CREATE TABLE IF NOT EXISTS archgen_credentials (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('api_key', 'session')),
    scheme TEXT,
    subject TEXT NOT NULL,
    organization UUID,
    roles TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
",
    no_tx: false,
}];

const CREDENTIALS_SQLITE: &[MigrationFile] = &[MigrationFile {
    version: 2,
    name: "create_archgen_credentials",
    sql: "CREATE TABLE IF NOT EXISTS archgen_credentials (
    hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('api_key', 'session')),
    scheme TEXT,
    subject TEXT NOT NULL,
    organization TEXT,
    roles TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
",
    no_tx: false,
}];

impl Db {
    /// Apply the migrations of `tables` that have not run yet.
    pub async fn migrate_owned(&self, tables: &[Owned]) -> Result<(), MigrateError> {
        let mut files: Vec<&MigrationFile> = tables
            .iter()
            .flat_map(|t| {
                let (postgres, sqlite) = t.migrations();
                match self {
                    Db::Postgres(_) => postgres,
                    Db::Sqlite(_) => sqlite,
                }
            })
            .collect();
        files.sort_by_key(|f| f.version);
        files.dedup_by_key(|f| f.version);
        let mut migrator = Migrator::with_migrations(files.into_iter().map(migration).collect());
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
