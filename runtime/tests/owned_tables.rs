//! The runtime's own tables (the outbox, the credentials) are migrated through sqlx's migrator,
//! recorded in their own history table, once, whichever service or replica gets there first.

use archgen_runtime::auth::SqlCredentials;
use archgen_runtime::sql::{Db, HISTORY_TABLE, Migrations, Owned};
use archgen_runtime::testing;

const OUTBOX_ONLY: Migrations = Migrations {
    owned: &[Owned::Outbox],
    postgres: &[],
    sqlite: &[],
};

async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn recorded(db: &Db) -> Vec<i64> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT version FROM {HISTORY_TABLE} ORDER BY version"
    ));
    match db {
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

/// A service with events migrates the outbox; the credential store adds its table later; either
/// runs again without effect, and each records only its own versions.
async fn each_table_once(db: Db) {
    db.migrate(&OUTBOX_ONLY).await.unwrap();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM archgen_outbox").await, 0);
    assert_eq!(recorded(&db).await, vec![1]);
    SqlCredentials::new(db.clone()).await.unwrap();
    SqlCredentials::new(db.clone()).await.unwrap();
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM archgen_credentials").await,
        0
    );
    // The outbox-only service starts again beside a database that has more than it knows.
    db.migrate(&OUTBOX_ONLY).await.unwrap();
    assert_eq!(recorded(&db).await, vec![1, 2]);
    // The spec's own history is another table: its version 1 is not the runtime's.
    let spec_history = scalar(&db, "SELECT COUNT(*) FROM _sqlx_migrations").await;
    assert_eq!(spec_history, 0);
}

#[tokio::test]
async fn each_table_is_migrated_once_on_sqlite() {
    each_table_once(testing::sqlite_memory().await).await;
}

#[tokio::test]
async fn each_table_is_migrated_once_on_postgres() {
    let Some(pg) = testing::postgres("owned_tables").await else {
        return;
    };
    each_table_once(pg.db.clone()).await;
}

/// Replicas starting together used to race on `CREATE TABLE IF NOT EXISTS`; the migrator's lock
/// lets one create the table and the others find it done.
#[tokio::test]
async fn replicas_starting_together_all_succeed_on_postgres() {
    let Some(pg) = testing::postgres("owned_tables_race").await else {
        return;
    };
    let starts = (0..6).map(|_| SqlCredentials::new(pg.db.clone()));
    for started in futures_util::future::join_all(starts).await {
        started.unwrap();
    }
    assert_eq!(recorded(&pg.db).await, vec![2]);
}

/// A database whose outbox an earlier archgen created among the spec's migrations.
#[tokio::test]
async fn an_outbox_made_by_an_older_archgen_is_kept() {
    let db = testing::sqlite_memory().await;
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    sqlx::query(
        "CREATE TABLE archgen_outbox (id TEXT PRIMARY KEY, subject TEXT NOT NULL, \
         payload TEXT NOT NULL, created_at TEXT NOT NULL, published_at TEXT)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO archgen_outbox VALUES ('a', 's', '{}', '2026-01-01', NULL)")
        .execute(pool)
        .await
        .unwrap();
    db.migrate(&OUTBOX_ONLY).await.unwrap();
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM archgen_outbox").await, 1);
}
