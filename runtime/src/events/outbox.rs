//! The outbox table: events written in the same transaction as their change, waiting for the
//! relay. Generated migrations create it when an entity has events.

use std::sync::LazyLock;

use tokio::sync::Notify;

use super::Envelope;

pub const OUTBOX_TABLE: &str = "archgen_outbox";

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tell the relay that rows may be waiting, so it need not wait for its next poll.
pub fn wake() {
    WAKE.notify_one();
}

pub(super) async fn woken() {
    WAKE.notified().await;
}

fn payload(event: &Envelope) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// Write `event` on `conn`: call it inside the transaction of the change it describes.
pub async fn write_pg(conn: &mut sqlx::PgConnection, event: &Envelope) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO \"archgen_outbox\" (\"id\", \"subject\", \"payload\", \"created_at\") VALUES ($1, $2, $3, $4)",
    )
    .bind(event.id)
    .bind(&event.kind)
    .bind(payload(event))
    .bind(event.time)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn write_sqlite(
    conn: &mut sqlx::SqliteConnection,
    event: &Envelope,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO \"archgen_outbox\" (\"id\", \"subject\", \"payload\", \"created_at\") VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(crate::sql::sqlite::uuid(&event.id))
    .bind(&event.kind)
    .bind(payload(event))
    .bind(crate::sql::sqlite::timestamp(&event.time))
    .execute(conn)
    .await
    .map(|_| ())
}
