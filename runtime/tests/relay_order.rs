//! Several relays on one Postgres outbox publish in the order events were written: one of them
//! at a time holds the turn, the others skip the round.

use std::sync::Arc;
use std::time::Duration;

use archgen_runtime::events::{
    Envelope, EventBus, EventError, InProcessBus, Relay, Subscription, write_pg,
};
use archgen_runtime::sql::Db;
use archgen_runtime::testing;
use sqlx::Connection;

/// A broker with network-like latency, so that relays running at once would interleave.
struct Slow(InProcessBus);

#[async_trait::async_trait]
impl EventBus for Slow {
    async fn publish(
        &self,
        subject: &str,
        id: uuid::Uuid,
        payload: &[u8],
    ) -> Result<(), EventError> {
        tokio::time::sleep(Duration::from_micros(200)).await;
        self.0.publish(subject, id, payload).await
    }
    async fn ensure_stream(&self, domain: &str) -> Result<(), EventError> {
        self.0.ensure_stream(domain).await
    }
    async fn subscribe(&self, filter: &str, group: &str) -> Result<Subscription, EventError> {
        self.0.subscribe(filter, group).await
    }
    fn backend(&self) -> &'static str {
        "slow"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn concurrent_relays_keep_the_order() {
    let Some(pg) = testing::postgres("relay_order").await else {
        return;
    };
    let Db::Postgres(pool) = &pg.db else {
        unreachable!()
    };
    sqlx::raw_sql(
        "CREATE TABLE archgen_outbox (id UUID PRIMARY KEY, subject TEXT NOT NULL, payload TEXT NOT NULL, \
         created_at TIMESTAMPTZ NOT NULL, published_at TIMESTAMPTZ)",
    )
    .execute(pool)
    .await
    .unwrap();
    let mut written = Vec::new();
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for i in 0..1000 {
        let event = Envelope::new("o.thing.created", serde_json::json!({ "n": i }));
        write_pg(&mut tx, &event).await.unwrap();
        written.push(event.id);
    }
    tx.commit().await.unwrap();

    let bus: Arc<dyn EventBus> = Arc::new(Slow(InProcessBus::default()));
    let mut sub = bus.subscribe("o.>", "test").await.unwrap();
    let relays: Vec<_> = (0..3)
        .map(|_| {
            let relay = Relay::new(pg.db.clone(), bus.clone());
            tokio::spawn(async move {
                for _ in 0..50 {
                    relay.run_once().await.unwrap();
                }
            })
        })
        .collect();
    let mut received = Vec::new();
    while received.len() < written.len() {
        let delivery = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("every event arrives")
            .unwrap();
        let event: Envelope = serde_json::from_slice(&delivery.payload).unwrap();
        received.push(event.id);
    }
    for relay in relays {
        relay.await.unwrap();
    }
    let first_out_of_order = received.iter().zip(&written).position(|(r, w)| r != w);
    assert_eq!(
        (first_out_of_order, received.len()),
        (None, written.len()),
        "every event once, in the order written"
    );
}
