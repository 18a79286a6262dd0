//! Events per second through the transactional outbox on Postgres: written in transactions of
//! 100 (as changes write them), then relayed to the in-process bus and to NATS JetStream, in one
//! run. Needs the Postgres of `DATABASE_URL` and the NATS of `NATS_URL` (local defaults).
//!
//!     cargo run --release -p archgen-runtime --example outbox_throughput [EVENTS]

use std::sync::Arc;
use std::time::Instant;

use archgen_runtime::events::{Envelope, EventBus, InProcessBus, JetStreamBus, Relay, write_pg};
use archgen_runtime::sql::Db;
use archgen_runtime::testing;
use sqlx::Connection;

const DDL: &str = "CREATE TABLE archgen_outbox (id UUID PRIMARY KEY, subject TEXT NOT NULL, payload TEXT NOT NULL, \
                   created_at TIMESTAMPTZ NOT NULL, published_at TIMESTAMPTZ); \
                   CREATE INDEX idx_archgen_outbox_pending ON archgen_outbox (created_at) WHERE published_at IS NULL";

async fn fill(db: &Db, domain: &str, events: usize) -> f64 {
    let Db::Postgres(pool) = db else {
        unreachable!()
    };
    let data = serde_json::json!({"id": uuid::Uuid::now_v7(), "name": "an artifact", "credits": 3, "mimeType": "text/plain"});
    let started = Instant::now();
    for chunk in 0..events.div_ceil(100) {
        let mut conn = pool.acquire().await.expect("connection");
        let mut tx = conn.begin().await.expect("begin");
        for _ in 0..100.min(events - chunk * 100) {
            let event = Envelope::new(&format!("{domain}.artifact.created"), data.clone());
            write_pg(&mut tx, &event).await.expect("write");
        }
        tx.commit().await.expect("commit");
    }
    events as f64 / started.elapsed().as_secs_f64()
}

async fn drain(db: &Db, bus: Arc<dyn EventBus>, events: usize) -> f64 {
    let relay = Relay::new(db.clone(), bus);
    let started = Instant::now();
    let mut sent = 0;
    while sent < events {
        sent += relay.run_once().await.expect("relay");
    }
    events as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let domain = format!("bench{}", std::process::id());
    let mut rows = Vec::new();
    let nats_url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let nats = Arc::new(JetStreamBus::connect(&nats_url).await.expect("NATS"));
    nats.ensure_stream(&domain).await.expect("stream");
    let buses: Vec<(&str, Arc<dyn EventBus>)> = vec![
        ("in-process bus", Arc::new(InProcessBus::default())),
        ("NATS JetStream", nats),
    ];
    for (name, bus) in buses {
        let pg = testing::postgres("outbox_bench").await.expect("Postgres");
        let Db::Postgres(pool) = &pg.db else {
            unreachable!()
        };
        sqlx::raw_sql(DDL)
            .execute(pool)
            .await
            .expect("outbox table");
        let written = fill(&pg.db, &domain, events).await;
        let relayed = drain(&pg.db, bus, events).await;
        rows.push(format!(
            "| {name} | {events} | {written:.0} | {relayed:.0} |"
        ));
    }
    println!("| relay to | events | written/s (tx of 100) | relayed/s |");
    println!("|---|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
    // The stream of this run is of no further use.
    let client = async_nats::connect(&nats_url).await.expect("NATS");
    let _ = async_nats::jetstream::new(client)
        .delete_stream(archgen_runtime::events::stream_name(&domain))
        .await;
}
