//! The relay: publishes outbox rows in order and marks them published. On Postgres every
//! instance runs one; an advisory lock lets one publish at a time (so order holds) and another
//! take over when it stops, and `FOR UPDATE SKIP LOCKED` keeps rows that anyone else holds out
//! of its batch. On SQLite one process owns the database.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{EventBus, EventError, outbox};
use crate::sql::Db;

/// Rows claimed per round.
const BATCH: i64 = 200;
/// How often an idle relay looks for rows that no wake-up announced (another instance's).
const POLL: Duration = Duration::from_millis(250);
/// Published rows are kept this long, then deleted.
const KEEP: Duration = Duration::from_secs(3600);

pub struct Relay {
    db: Db,
    bus: Arc<dyn EventBus>,
}

impl Relay {
    pub fn new(db: Db, bus: Arc<dyn EventBus>) -> Self {
        Self { db, bus }
    }

    /// Publish the waiting rows, oldest first, up to one batch. Stops at the first failure,
    /// keeping what went out marked: the rest waits for the next round. Returns how many went.
    pub async fn run_once(&self) -> Result<usize, EventError> {
        let db_error = |e: sqlx::Error| EventError(format!("outbox: {e}"));
        match &self.db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(db_error)?;
                // One relay publishes at a time, so events go out in the order they were
                // written; the others skip the round and take over when it stops.
                let turn: bool = sqlx::query_scalar(
                    "SELECT pg_try_advisory_xact_lock(hashtext('archgen_outbox'))",
                )
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                if !turn {
                    return Ok(0);
                }
                let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
                    "SELECT \"id\", \"subject\", \"payload\" FROM \"archgen_outbox\" WHERE \"published_at\" IS NULL \
                     ORDER BY \"created_at\", \"id\" LIMIT $1 FOR UPDATE SKIP LOCKED",
                )
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
                let (sent, failure) = self.publish(rows).await;
                if !sent.is_empty() {
                    sqlx::query("UPDATE \"archgen_outbox\" SET \"published_at\" = $1 WHERE \"id\" = ANY($2)")
                        .bind(crate::sql::now())
                        .bind(&sent)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                failure.map_or(Ok(sent.len()), Err)
            }
            Db::Sqlite(pool) => {
                // One process owns an SQLite file: no locks to hold while publishing, and no
                // transaction open across the network, which writers would wait on.
                let rows: Vec<(uuid::fmt::Hyphenated, String, String)> = sqlx::query_as(
                    "SELECT \"id\", \"subject\", \"payload\" FROM \"archgen_outbox\" WHERE \"published_at\" IS NULL \
                     ORDER BY \"created_at\", \"id\" LIMIT ?1",
                )
                .bind(BATCH)
                .fetch_all(pool)
                .await
                .map_err(db_error)?;
                let rows = rows
                    .into_iter()
                    .map(|(id, s, p)| (id.into_uuid(), s, p))
                    .collect();
                let (sent, failure) = self.publish(rows).await;
                if !sent.is_empty() {
                    let marks = vec!["?"; sent.len()].join(", ");
                    let sql = format!(
                        "UPDATE \"archgen_outbox\" SET \"published_at\" = ? WHERE \"id\" IN ({marks})"
                    );
                    let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(crate::sql::sqlite::timestamp(&crate::sql::now()));
                    for id in &sent {
                        update = update.bind(crate::sql::sqlite::uuid(id));
                    }
                    update.execute(pool).await.map_err(db_error)?;
                }
                failure.map_or(Ok(sent.len()), Err)
            }
        }
    }

    async fn publish(&self, rows: Vec<(Uuid, String, String)>) -> (Vec<Uuid>, Option<EventError>) {
        let mut sent = Vec::with_capacity(rows.len());
        for (id, subject, payload) in rows {
            match self.bus.publish(&subject, id, payload.as_bytes()).await {
                Ok(()) => sent.push(id),
                Err(e) => return (sent, Some(e)),
            }
        }
        (sent, None)
    }

    /// Delete rows published longer ago than `KEEP`.
    async fn prune(&self) {
        let cutoff = crate::sql::now() - chrono::Duration::from_std(KEEP).unwrap_or_default();
        let result = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query("DELETE FROM \"archgen_outbox\" WHERE \"published_at\" < $1")
                    .bind(cutoff)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
            Db::Sqlite(pool) => {
                sqlx::query("DELETE FROM \"archgen_outbox\" WHERE \"published_at\" < ?1")
                    .bind(crate::sql::sqlite::timestamp(&cutoff))
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "pruning the outbox failed");
        }
    }

    /// Relay until the process ends: rounds back to back while rows wait, then a wake-up or the
    /// poll interval. While the broker is down, retries back off up to 10 s.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut backoff = POLL;
            let mut rounds: u64 = 0;
            loop {
                rounds += 1;
                if rounds.is_multiple_of(240) {
                    self.prune().await;
                }
                match self.run_once().await {
                    Ok(n) if n as i64 == BATCH => continue,
                    Ok(_) => {
                        backoff = POLL;
                        tokio::select! {
                            () = outbox::woken() => {}
                            () = tokio::time::sleep(POLL) => {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "events wait in the outbox until the broker is back");
                        // A bus that reconnects wakes the relay, so events go out at once.
                        tokio::select! {
                            () = outbox::woken() => {}
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        })
    }
}
