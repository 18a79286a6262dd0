//! The Redis Streams bus against the real server on `REDIS_URL`: filters, de-duplication, the
//! generic subscriber's retries and dead letters, and the outbox relay end to end. Each test works
//! under a key prefix of its own and deletes its keys when it ends, even when it fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use archgen_runtime::events::{
    self, Delivery, Envelope, EventBus, RedisStreamsBus, Relay, Retry, Subscription,
};
use archgen_runtime::sql::Db;
use archgen_runtime::testing;
use serde_json::json;
use uuid::Uuid;

/// Long enough for a message to arrive; also how long "nothing more arrives" is watched.
const WAIT: Duration = Duration::from_secs(3);
const QUIET: Duration = Duration::from_millis(1500);

/// Deletes every key under the prefix when dropped. It blocks, so no reader task of the test can
/// run (and recreate a stream) between the deletion and the end of the test's runtime.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.0);
        let deleted = redis::Client::open(testing::redis_url())
            .and_then(|client| client.get_connection())
            .and_then(|mut conn| delete_matching(&mut conn, &pattern));
        if let Err(e) = deleted {
            eprintln!("could not delete the test keys {pattern}: {e}");
        }
    }
}

fn delete_matching(conn: &mut redis::Connection, pattern: &str) -> redis::RedisResult<()> {
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query::<i64>(conn)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

async fn setup(label: &str) -> Option<(Cleanup, Arc<RedisStreamsBus>, String)> {
    let prefix = testing::redis(label).await?;
    let bus = Arc::new(RedisStreamsBus::new(&testing::redis_url(), &prefix));
    Some((Cleanup(prefix.clone()), bus, prefix))
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(testing::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a message within the wait")
        .expect("the subscription is open")
}

async fn assert_quiet(sub: &mut Subscription) {
    if let Ok(Some(extra)) = tokio::time::timeout(QUIET, sub.next()).await {
        panic!("unexpected message on {}", extra.subject);
    }
}

fn event(subject: &str, data: serde_json::Value) -> (Uuid, Vec<u8>) {
    let envelope = Envelope::new(subject, data);
    (envelope.id, serde_json::to_vec(&envelope).unwrap())
}

#[tokio::test]
async fn subscribers_receive_what_matches_their_filter() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_filter").await else {
        return;
    };
    assert_eq!(bus.backend(), "redis");
    bus.ensure_stream("library").await.unwrap();
    let mut sub = bus.subscribe("library.author.*", "svc").await.unwrap();

    bus.publish("library.book.created", Uuid::now_v7(), b"book")
        .await
        .unwrap();
    bus.publish("library.author.created", Uuid::now_v7(), b"author")
        .await
        .unwrap();

    let delivery = next(&mut sub).await;
    assert_eq!(delivery.subject, "library.author.created");
    assert_eq!(delivery.payload, b"author");
    delivery.ack().await;
    assert_quiet(&mut sub).await;

    // Both went to the domain's one stream, and nothing is left unacknowledged.
    let mut conn = raw().await;
    let stream = format!("{prefix}events:library");
    let len: i64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, 2);
    let (pending, ..): (i64, Option<String>, Option<String>, redis::Value) = redis::cmd("XPENDING")
        .arg(&stream)
        .arg("svc:library.author.*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn a_second_publish_of_an_id_is_dropped() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_dedup").await else {
        return;
    };
    let mut sub = bus.subscribe("library.>", "svc").await.unwrap();
    let id = Uuid::now_v7();
    bus.publish("library.author.created", id, b"first")
        .await
        .unwrap();
    bus.publish("library.author.created", id, b"again")
        .await
        .unwrap();

    let delivery = next(&mut sub).await;
    assert_eq!(delivery.payload, b"first");
    delivery.ack().await;
    assert_quiet(&mut sub).await;

    // The de-duplication entry expires, so it does not grow without bound.
    let mut conn = raw().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}events:dedup:{}", id.hyphenated()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 120_000, "ttl {ttl}");
}

#[tokio::test]
async fn unacknowledged_messages_come_again_to_a_restarted_consumer() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_pending").await else {
        return;
    };
    let mut sub = bus.subscribe("library.author.*", "svc").await.unwrap();
    bus.publish("library.author.created", Uuid::now_v7(), b"once")
        .await
        .unwrap();
    // Received but never acknowledged: the subscriber "crashes".
    assert_eq!(next(&mut sub).await.payload, b"once");
    drop(sub);

    // The same process restarted: a new bus whose consumer has the same name.
    let again = RedisStreamsBus::new(&testing::redis_url(), &prefix);
    let mut sub = again.subscribe("library.author.*", "svc").await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(delivery.payload, b"once");
    delivery.ack().await;
    assert_quiet(&mut sub).await;
}

#[tokio::test]
async fn the_generic_subscriber_retries_then_dead_letters() {
    let Some((_cleanup, bus, _prefix)) = setup("redis_events_retry").await else {
        return;
    };
    let bus: Arc<dyn EventBus> = bus;
    let retry = Retry {
        attempts: 3,
        backoff: Duration::from_millis(10),
    };
    let mut dead = bus
        .subscribe("library.book.created.dead_letter", "ops")
        .await
        .unwrap();

    // Fails twice, then succeeds.
    let calls = Arc::new(AtomicU32::new(0));
    let (done, mut handled) = tokio::sync::mpsc::channel(4);
    let counted = calls.clone();
    let flaky = events::subscribe(
        bus.clone(),
        "library.author.created",
        "svc",
        retry,
        move |event: Envelope| {
            let (calls, done) = (counted.clone(), done.clone());
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Err("not yet".to_string());
                }
                let _ = done.send(event.id).await;
                Ok(())
            }
        },
    )
    .await
    .unwrap();
    // Always fails.
    let broken = events::subscribe(
        bus.clone(),
        "library.book.created",
        "svc",
        retry,
        |_: Envelope| async { Err::<(), _>("broken".to_string()) },
    )
    .await
    .unwrap();

    let (author, payload) = event("library.author.created", json!({"name": "Le Guin"}));
    bus.publish("library.author.created", author, &payload)
        .await
        .unwrap();
    let (book, payload) = event("library.book.created", json!({"title": "Lathe"}));
    bus.publish("library.book.created", book, &payload)
        .await
        .unwrap();

    let handled_id = tokio::time::timeout(WAIT, handled.recv()).await.unwrap();
    assert_eq!(handled_id, Some(author));
    let letter = next(&mut dead).await;
    assert_eq!(letter.subject, "library.book.created.dead_letter");
    let letter: serde_json::Value = serde_json::from_slice(&letter.payload).unwrap();
    assert_eq!(letter["error"], "broken");
    assert_eq!(letter["event"]["id"], json!(book));
    assert_quiet(&mut dead).await;
    // Acknowledged once it succeeded, so it is not handled again.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    flaky.abort();
    broken.abort();
}

const OUTBOX_DDL: &str = r#"CREATE TABLE IF NOT EXISTS "archgen_outbox" ("id" TEXT PRIMARY KEY, "subject" TEXT NOT NULL, "payload" TEXT NOT NULL, "created_at" TEXT NOT NULL, "published_at" TEXT)"#;

async fn outbox_with(events: &[Envelope]) -> Db {
    let db = testing::sqlite_memory().await;
    let Db::Sqlite(pool) = &db else {
        unreachable!("sqlite_memory is SQLite");
    };
    sqlx::query(OUTBOX_DDL).execute(pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for event in events {
        events::write_sqlite(&mut tx, event).await.unwrap();
    }
    tx.commit().await.unwrap();
    db
}

async fn unpublished(db: &Db) -> i64 {
    let Db::Sqlite(pool) = db else {
        unreachable!("sqlite_memory is SQLite");
    };
    sqlx::query_scalar(r#"SELECT COUNT(*) FROM "archgen_outbox" WHERE "published_at" IS NULL"#)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_relay_publishes_the_outbox_once() {
    let Some((_cleanup, bus, _prefix)) = setup("redis_events_relay").await else {
        return;
    };
    let written = vec![
        Envelope::new("library.author.created", json!({"name": "Le Guin"})),
        Envelope::new("library.book.created", json!({"title": "Lathe"})),
        Envelope::new("library.author.deleted", json!({"name": "Le Guin"})),
    ];
    let db = outbox_with(&written).await;
    let mut sub = bus.subscribe("library.>", "svc").await.unwrap();

    let relay = Relay::new(db.clone(), bus.clone());
    assert_eq!(relay.run_once().await.unwrap(), 3);
    assert_eq!(unpublished(&db).await, 0);
    assert_eq!(relay.run_once().await.unwrap(), 0);

    for expected in &written {
        let delivery = next(&mut sub).await;
        assert_eq!(delivery.subject, expected.kind);
        let received: Envelope = serde_json::from_slice(&delivery.payload).unwrap();
        assert_eq!(&received, expected);
        delivery.ack().await;
    }

    // A relay that crashed before marking its rows publishes them again: the broker drops them.
    let Db::Sqlite(pool) = &db else {
        unreachable!("sqlite_memory is SQLite");
    };
    sqlx::query(r#"UPDATE "archgen_outbox" SET "published_at" = NULL"#)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(relay.run_once().await.unwrap(), 3);
    assert_quiet(&mut sub).await;
}

#[tokio::test]
async fn a_publish_that_fails_forgets_its_id() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_failed_add").await else {
        return;
    };
    let mut conn = raw().await;
    let stream = format!("{prefix}events:library");
    // A key of the wrong type makes XADD fail after the id was recorded.
    redis::cmd("SET")
        .arg(&stream)
        .arg("not a stream")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let id = Uuid::now_v7();
    assert!(
        bus.publish("library.author.created", id, b"x")
            .await
            .is_err()
    );

    // The retry goes through instead of being taken for a duplicate.
    redis::cmd("DEL")
        .arg(&stream)
        .query_async::<i64>(&mut conn)
        .await
        .unwrap();
    bus.publish("library.author.created", id, b"x")
        .await
        .unwrap();
    let len: i64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, 1);
}

/// Put a message in `group`'s pending list under a consumer that never comes back, as if it had
/// been read `idle_ms` ago. Returns its stream id.
async fn orphan(prefix: &str, group: &str, idle_ms: u64) -> String {
    let mut conn = raw().await;
    let stream = format!("{prefix}events:library");
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg(group)
        .arg("$")
        .arg("MKSTREAM")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let id: String = redis::cmd("XADD")
        .arg(&stream)
        .arg("*")
        .arg("subject")
        .arg("library.author.created")
        .arg("id")
        .arg(Uuid::now_v7().to_string())
        .arg("payload")
        .arg("orphan")
        .query_async(&mut conn)
        .await
        .unwrap();
    redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(group)
        .arg("ghost")
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async::<redis::Value>(&mut conn)
        .await
        .unwrap();
    redis::cmd("XCLAIM")
        .arg(&stream)
        .arg(group)
        .arg("ghost")
        .arg(0)
        .arg(&id)
        .arg("IDLE")
        .arg(idle_ms)
        .arg("JUSTID")
        .query_async::<redis::Value>(&mut conn)
        .await
        .unwrap();
    id
}

async fn pending_count(prefix: &str, group: &str) -> i64 {
    let (count, ..): (i64, Option<String>, Option<String>, redis::Value) = redis::cmd("XPENDING")
        .arg(format!("{prefix}events:library"))
        .arg(group)
        .query_async(&mut raw().await)
        .await
        .unwrap();
    count
}

#[tokio::test]
async fn messages_a_gone_consumer_left_pending_are_taken_over() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_claim").await else {
        return;
    };
    let group = "svc:library.author.*";
    // Pending for ten minutes: its consumer is gone.
    orphan(&prefix, group, 600_000).await;
    let mut sub = bus.subscribe("library.author.*", "svc").await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(delivery.payload, b"orphan");
    delivery.ack().await;
    assert_quiet(&mut sub).await;
    assert_eq!(pending_count(&prefix, group).await, 0);
}

#[tokio::test]
async fn a_pending_message_trimmed_away_is_acknowledged_not_delivered() {
    let Some((_cleanup, bus, prefix)) = setup("redis_events_trimmed").await else {
        return;
    };
    let group = "svc:library.author.*";
    let mut sub = bus.subscribe("library.author.*", "svc").await.unwrap();
    bus.publish("library.author.created", Uuid::now_v7(), b"gone")
        .await
        .unwrap();
    // Received, never acknowledged, then trimmed from the stream while its consumer was down.
    assert_eq!(next(&mut sub).await.payload, b"gone");
    drop(sub);
    assert_eq!(pending_count(&prefix, group).await, 1);
    let mut conn = raw().await;
    let stream = format!("{prefix}events:library");
    redis::cmd("XTRIM")
        .arg(&stream)
        .arg("MAXLEN")
        .arg(0)
        .query_async::<i64>(&mut conn)
        .await
        .unwrap();

    let again = RedisStreamsBus::new(&testing::redis_url(), &prefix);
    let mut sub = again.subscribe("library.author.*", "svc").await.unwrap();
    assert_quiet(&mut sub).await;
    assert_eq!(pending_count(&prefix, group).await, 0);
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_panic() {
    // Nothing listens on port 1.
    let bus = RedisStreamsBus::new("redis://127.0.0.1:1", "test:unreachable:");
    let started = std::time::Instant::now();
    assert!(
        bus.publish("library.author.created", Uuid::now_v7(), b"x")
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A subscriber waits for Redis to come back rather than failing the service's start.
    let mut sub = bus.subscribe("library.author.*", "svc").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(700), sub.next())
            .await
            .is_err()
    );
    assert!(bus.subscribe("*.author.created", "svc").await.is_err());
}
