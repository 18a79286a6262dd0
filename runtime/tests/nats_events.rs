//! The JetStream bus against real NATS: the shared server on `NATS_URL` for the round trips, and
//! a server of the test's own, killed and restarted, for the outage. Every test uses a domain
//! (so a stream and subjects) of its own, so runs never collide.
//!
//! Under `CI=true` a missing server fails the test; elsewhere it is skipped with a loud message.

use std::collections::{HashMap, HashSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use archgen_runtime::events::{
    self, Envelope, EventBus, JetStreamBus, Relay, Retry, Subscription, write_pg, write_sqlite,
};
use archgen_runtime::sql::Db;
use archgen_runtime::testing;
use uuid::Uuid;

const NATS_SERVER: &str = "/usr/sbin/nats-server";
/// How long anything that should happen soon may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);
/// How long the test's own server stays down.
const OUTAGE: Duration = Duration::from_secs(6);

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Fail under CI, else say loudly why the test does nothing.
fn unavailable(label: &str, why: &str) {
    if under_ci() {
        panic!("{label}: {why}, and CI=true requires it");
    }
    eprintln!("\n!!! SKIPPING {label}: {why} !!!\n");
}

/// `RUST_LOG=archgen_runtime=debug` shows what the bus and relay did, for a failing run.
fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A bus on the shared server, or `None` when it is unreachable outside CI.
async fn shared_bus(label: &str) -> Option<JetStreamBus> {
    init_logs();
    let url = nats_url();
    match JetStreamBus::connect(&url).await {
        Ok(bus) => Some(bus),
        Err(e) => {
            unavailable(label, &format!("NATS at {url} is unreachable ({e})"));
            None
        }
    }
}

/// A domain no other test or run uses: lower-case letters and digits, like generated ones.
fn unique_domain() -> String {
    let random = Uuid::new_v4().simple().to_string();
    format!("t{}{}", std::process::id(), &random[..10])
}

async fn next_within(sub: &mut Subscription, wait: Duration) -> Option<events::Delivery> {
    tokio::time::timeout(wait, sub.next()).await.ok().flatten()
}

/// Poll `check` until it holds or `PATIENCE` runs out; returns whether it held.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn event_id(payload: &[u8]) -> Uuid {
    serde_json::from_slice::<Envelope>(payload)
        .expect("an envelope")
        .id
}

#[tokio::test]
async fn round_trip_and_duplicates_dropped() {
    let Some(bus) = shared_bus("nats round trip").await else {
        return;
    };
    let domain = unique_domain();
    bus.ensure_stream(&domain).await.expect("stream");
    bus.ensure_stream(&domain)
        .await
        .expect("an existing stream is kept");
    assert_eq!(bus.backend(), "nats");
    let mut sub = bus
        .subscribe(&format!("{domain}.author.*"), "round trip")
        .await
        .expect("subscribe");

    let subject = format!("{domain}.author.created");
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    bus.publish(&subject, first, b"one").await.expect("publish");
    bus.publish(&subject, first, b"one again")
        .await
        .expect("a duplicate is acknowledged");
    bus.publish(&subject, second, b"two")
        .await
        .expect("publish");
    // Outside the filter: must not arrive.
    bus.publish(&format!("{domain}.book.created"), Uuid::now_v7(), b"book")
        .await
        .expect("publish");

    let mut got = Vec::new();
    while let Some(delivery) = next_within(&mut sub, Duration::from_secs(2)).await {
        assert_eq!(delivery.subject, subject);
        got.push(delivery.payload.clone());
        delivery.ack().await;
    }
    assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
    assert_stored_once_and_acknowledged(&domain).await;
    drop_stream(&domain).await;
}

/// A plain client on the shared server, to look at what the bus did.
async fn shared_js() -> async_nats::jetstream::Context {
    let client = async_nats::connect(nats_url()).await.expect("connect");
    async_nats::jetstream::new(client)
}

/// The stream of `domain` is as `ensure_stream` made it, without the duplicate, and every
/// consumer on it has had all its messages acknowledged.
async fn assert_stored_once_and_acknowledged(domain: &str) {
    use futures_util::StreamExt;
    let mut stream = shared_js()
        .await
        .get_stream(events::stream_name(domain))
        .await
        .expect("the stream");
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.config.subjects, vec![format!("{domain}.>")]);
    assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
    assert_eq!(info.state.messages, 3, "the duplicate was not stored");
    let consumers: Vec<_> = stream.consumers().collect().await;
    assert!(!consumers.is_empty(), "the subscription made a consumer");
    for info in consumers {
        let info = info.expect("consumer info");
        assert_eq!(info.num_ack_pending, 0, "{} acknowledged all", info.name);
        assert_eq!(info.num_pending, 0, "{} has nothing left", info.name);
    }
}

/// The shared server keeps its store: leave nothing behind.
async fn drop_stream(domain: &str) {
    shared_js()
        .await
        .delete_stream(events::stream_name(domain))
        .await
        .expect("delete the test's stream");
}

#[tokio::test]
async fn publishing_creates_a_missing_stream() {
    let Some(bus) = shared_bus("nats missing stream").await else {
        return;
    };
    let domain = unique_domain();
    bus.publish(&format!("{domain}.author.created"), Uuid::now_v7(), b"{}")
        .await
        .expect("the stream is made on the way");
    let info = shared_js()
        .await
        .get_stream(events::stream_name(&domain))
        .await
        .expect("the stream")
        .info()
        .await
        .expect("stream info")
        .clone();
    assert_eq!(info.state.messages, 1);
    drop_stream(&domain).await;
}

#[tokio::test]
async fn handlers_are_retried_then_dead_lettered() {
    let Some(bus) = shared_bus("nats retries").await else {
        return;
    };
    let bus: Arc<dyn EventBus> = Arc::new(bus);
    let domain = unique_domain();
    let retry = Retry {
        attempts: 4,
        backoff: Duration::from_millis(10),
    };

    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let flaky = events::subscribe::<serde_json::Value, _, _>(
        bus.clone(),
        &format!("{domain}.author.created"),
        "flaky",
        retry,
        move |_| {
            let calls = counted.clone();
            async move {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err("not yet".to_string()),
                    _ => Ok(()),
                }
            }
        },
    )
    .await
    .expect("subscribe");

    let failing_subject = format!("{domain}.book.created");
    let failing = events::subscribe::<serde_json::Value, _, _>(
        bus.clone(),
        &failing_subject,
        "failing",
        retry,
        |_| async { Err("always".to_string()) },
    )
    .await
    .expect("subscribe");
    let mut dead = bus
        .subscribe(&format!("{failing_subject}.dead_letter"), "observer")
        .await
        .expect("subscribe to dead letters");

    let author = Envelope::new(
        &format!("{domain}.author.created"),
        serde_json::json!({"n": 1}),
    );
    let book = Envelope::new(&failing_subject, serde_json::json!({"n": 2}));
    for event in [&author, &book] {
        let payload = serde_json::to_vec(event).expect("json");
        bus.publish(&event.kind, event.id, &payload)
            .await
            .expect("publish");
    }

    assert!(
        eventually(|| async { calls.load(Ordering::SeqCst) >= 3 }).await,
        "the flaky handler was retried until it succeeded"
    );
    let letter = next_within(&mut dead, PATIENCE)
        .await
        .expect("a dead letter");
    let letter: serde_json::Value = serde_json::from_slice(&letter.payload).expect("json");
    assert_eq!(letter["subject"], failing_subject.as_str());
    assert_eq!(letter["error"], "always");
    assert_eq!(letter["event"]["id"], book.id.to_string());

    // Acknowledged after success: no redelivery, no more calls.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(
        next_within(&mut dead, Duration::from_millis(500))
            .await
            .is_none()
    );
    flaky.abort();
    failing.abort();
    drop_stream(&domain).await;
}

/// A scratch directory, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("archgen-nats-{}", unique_domain()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A nats-server of the test's own, with JetStream storing in `store`; killed when dropped.
struct OwnServer {
    child: Child,
    port: u16,
}

impl OwnServer {
    fn start(binary: &Path, port: u16, store: &Path) -> Self {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let server = Self { child, port };
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kill it outright, as a crash would.
    fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Debian's server, or one on `PATH` (CI images install it elsewhere).
fn nats_server(label: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    let found = Some(PathBuf::from(NATS_SERVER))
        .filter(|p| p.is_file())
        .or(on_path);
    if found.is_none() {
        unavailable(
            label,
            &format!("{NATS_SERVER} is not installed, nor nats-server on PATH"),
        );
    }
    found
}

/// Write `n` events on `<domain>.author.created`, one transaction each, as a repository would.
async fn write_events(db: &Db, domain: &str, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let event = Envelope::new(
            &format!("{domain}.author.created"),
            serde_json::json!({ "n": i }),
        );
        match db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                write_sqlite(&mut tx, &event)
                    .await
                    .expect("write while NATS may be down");
                tx.commit().await.expect("commit");
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                write_pg(&mut tx, &event)
                    .await
                    .expect("write while NATS may be down");
                tx.commit().await.expect("commit");
            }
        }
        ids.push(event.id);
    }
    events::wake();
    ids
}

async fn unpublished(db: &Db) -> i64 {
    let sql = "SELECT COUNT(*) FROM \"archgen_outbox\" WHERE \"published_at\" IS NULL";
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count the outbox")
}

async fn mark_all_unpublished(db: &Db) {
    let sql = "UPDATE \"archgen_outbox\" SET \"published_at\" = NULL";
    match db {
        Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .expect("reset the outbox");
}

/// Read the whole stream of `domain` with a fresh consumer: how often each event id arrived.
async fn read_everything(mut sub: Subscription, expected: usize) -> HashMap<Uuid, u32> {
    let mut seen = HashMap::new();
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < expected && Instant::now() < deadline {
        if let Some(delivery) = next_within(&mut sub, Duration::from_secs(1)).await {
            *seen.entry(event_id(&delivery.payload)).or_insert(0) += 1;
            delivery.ack().await;
        }
    }
    // Anything after the last expected one would be a duplicate.
    while let Some(delivery) = next_within(&mut sub, Duration::from_secs(1)).await {
        *seen.entry(event_id(&delivery.payload)).or_insert(0) += 1;
    }
    seen
}

/// Events written before, during and after a NATS outage all reach the stream, exactly once.
async fn survives_an_outage(label: &str, binary: &Path, db: Db) {
    init_logs();
    let started = Instant::now();
    let (port, store) = (free_port(), Scratch::new());
    let server = OwnServer::start(binary, port, &store.0);
    let url = server.url();
    let domain = unique_domain();
    let bus = Arc::new(JetStreamBus::connect(&url).await.expect("connect"));
    bus.ensure_stream(&domain).await.expect("stream");
    let relay = Relay::new(db.clone(), bus.clone()).spawn();
    // Opened before the outage: must resume by itself once the server is back.
    let mut live = bus
        .subscribe(&format!("{domain}.>"), "live")
        .await
        .expect("subscribe");

    let mut ids = write_events(&db, &domain, 20).await;
    assert!(
        eventually(|| async { unpublished(&db).await == 0 }).await,
        "{label}: events went out while NATS was up"
    );

    server.kill();
    ids.extend(write_events(&db, &domain, 20).await);
    let down = Instant::now();
    let refused = JetStreamBus::connect(&url).await;
    assert!(
        refused.is_err(),
        "{label}: connect fails while NATS is down"
    );
    assert!(
        down.elapsed() < Duration::from_secs(5),
        "{label}: and fails fast"
    );
    // A service started during the outage still comes up, and catches up later.
    let late = JetStreamBus::connect_in_background(&url)
        .await
        .expect("lazy connect");
    let audit = late
        .subscribe(&format!("{domain}.>"), "audit")
        .await
        .expect("subscribing during the outage succeeds");
    // Longer than the pull heartbeat (4 s), so the live subscription notices and must reopen.
    tokio::time::sleep(OUTAGE).await;
    assert_eq!(
        unpublished(&db).await,
        20,
        "{label}: rows wait while NATS is down"
    );

    let _server = OwnServer::start(binary, port, &store.0);
    let restarted = Instant::now();
    assert!(
        eventually(|| async { unpublished(&db).await == 0 }).await,
        "{label}: the waiting events went out once NATS was back"
    );
    eprintln!(
        "{label}: outbox drained {:?} after the restart",
        restarted.elapsed()
    );

    // As if a relay had crashed between publishing and marking: everything goes out again,
    // and the server, which kept its de-duplication state across the restart, drops it all.
    mark_all_unpublished(&db).await;
    events::wake();
    assert!(
        eventually(|| async { unpublished(&db).await == 0 }).await,
        "{label}: the republished events went out"
    );

    let mut live_ids = HashSet::new();
    let deadline = Instant::now() + PATIENCE;
    while live_ids.len() < ids.len() && Instant::now() < deadline {
        if let Some(delivery) = next_within(&mut live, Duration::from_secs(1)).await {
            live_ids.insert(event_id(&delivery.payload));
            delivery.ack().await;
        }
    }
    assert_eq!(
        live_ids.len(),
        ids.len(),
        "{label}: the subscription resumed after the outage"
    );

    let seen = read_everything(audit, ids.len()).await;
    let expected: HashSet<Uuid> = ids.iter().copied().collect();
    let arrived: HashSet<Uuid> = seen.keys().copied().collect();
    assert_eq!(arrived, expected, "{label}: every event arrived");
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "{label}: duplicates {repeated:?}");
    relay.abort();
    eprintln!("{label}: outage test took {:?}", started.elapsed());
}

#[tokio::test]
async fn sqlite_outbox_survives_a_nats_outage() {
    let Some(binary) = nats_server("nats outage (SQLite)") else {
        return;
    };
    let dir = Scratch::new();
    let db = Db::connect(&format!("sqlite://{}", dir.0.join("outbox.db").display()))
        .await
        .expect("SQLite file");
    if let Db::Sqlite(pool) = &db {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS \"archgen_outbox\" (\"id\" TEXT PRIMARY KEY, \"subject\" TEXT NOT NULL, \
             \"payload\" TEXT NOT NULL, \"created_at\" TEXT NOT NULL, \"published_at\" TEXT)",
        )
        .execute(pool)
        .await
        .expect("outbox table");
    }
    survives_an_outage("SQLite", &binary, db).await;
}

#[tokio::test]
async fn postgres_outbox_survives_a_nats_outage() {
    let Some(binary) = nats_server("nats outage (Postgres)") else {
        return;
    };
    let Some(test_db) = testing::postgres("nats_outage").await else {
        return;
    };
    if let Db::Postgres(pool) = &test_db.db {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS \"archgen_outbox\" (\"id\" UUID PRIMARY KEY, \"subject\" TEXT NOT NULL, \
             \"payload\" TEXT NOT NULL, \"created_at\" TIMESTAMPTZ NOT NULL, \"published_at\" TIMESTAMPTZ)",
        )
        .execute(pool)
        .await
        .expect("outbox table");
    }
    survives_an_outage("Postgres", &binary, test_db.db.clone()).await;
}
