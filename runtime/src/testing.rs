//! Test databases. Each Postgres test gets a database of its own, so tests never collide and can
//! run in parallel; it is dropped when the guard goes.
//!
//! Under `CI=true` a missing Postgres fails the test. Elsewhere the test is skipped with a loud
//! message, so a laptop without Postgres can still run the rest.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;

use crate::sql::Db;

/// The schemathesis command, when it is installed (`st`, or its older name). Under `CI=true` a
/// missing one fails the test; elsewhere the caller skips loudly.
pub fn schemathesis() -> Option<&'static str> {
    let found = ["st", "schemathesis"].into_iter().find(|bin| {
        std::process::Command::new(bin)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "schemathesis is missing under CI: pip install schemathesis"
        );
        eprintln!(
            "\n!!! schemathesis is not installed: conformance NOT checked (pip install schemathesis) !!!\n"
        );
    }
    found
}

pub fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty Postgres database named after `label`; `None` (after a loud warning) when
/// Postgres is unreachable outside CI.
pub async fn postgres(label: &str) -> Option<PgTestDb> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin_url = postgres_url();
    let admin = match PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
    {
        Ok(pool) => pool,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("Postgres at {admin_url} is required under CI=true: {e}");
            }
            eprintln!("\n!!! SKIPPING {label}: Postgres at {admin_url} is unreachable ({e}) !!!\n");
            return None;
        }
    };
    let name = format!(
        "archgen_{}_{}_{}",
        label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .ok()?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("DATABASE_URL {admin_url} has no database name"),
    };
    let db = Db::connect(&url).await.expect("connect to test database");
    Some(PgTestDb {
        db,
        name,
        admin_url,
    })
}

pub struct PgTestDb {
    pub db: Db,
    name: String,
    admin_url: String,
}

impl PgTestDb {
    /// The database's name, to build a URL for a process of its own.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        // Drop may run on the test's own runtime, which must not be blocked on its own connections:
        // a separate thread and runtime drop the database, and FORCE ends the test's sessions.
        let (name, url) = (self.name.clone(), self.admin_url.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .ok()?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// An in-memory SQLite database.
pub async fn sqlite_memory() -> Db {
    Db::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite")
}

/// `REDIS_URL`, default the local server.
#[cfg(feature = "redis")]
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix of its own on the local Redis; `None` (after a loud warning) when Redis is
/// unreachable outside CI.
#[cfg(feature = "redis")]
pub async fn redis(label: &str) -> Option<String> {
    use crate::cache::{Cache, RedisCache};
    let url = redis_url();
    let probe = RedisCache::new(&url);
    if let Err(e) = probe.get("archgen:probe").await {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("Redis at {url} is required under CI=true: {e}");
        }
        eprintln!("\n!!! SKIPPING {label}: Redis at {url} is unreachable ({e}) !!!\n");
        return None;
    }
    Some(format!(
        "test:{label}:{}:{}:",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ))
}
