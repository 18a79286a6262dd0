//! Events of the storage domain: one per change, written in the change's transaction, carrying
//! the request id and leaving sensitive fields out; relayed to subscribers in order; and the same
//! on the mock, SQLite and Postgres behind NATS JetStream.

use std::sync::Arc;
use std::time::Duration;

use archgen_platform::generated::storage::StorageRepositories;
use archgen_platform::generated::storage::repository::{
    ArtifactEvent, ArtifactPatch, LabelPatch, NewArtifact, NewLabel,
};
use archgen_runtime as rt;
use rt::deps::sqlx;
use rt::events::{Envelope, EventBus, InProcessBus, Relay};
use rt::prelude::*;

const ORG: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);

fn artifact() -> NewArtifact {
    NewArtifact {
        name: None,
        description: None,
        credits: 0,
        mime_type: "text/plain".into(),
        organization_id: ORG,
        producer_id: None,
        text: Some("body".into()),
        url: None,
        size_bytes: None,
        checksum: Some(format!("sha256:{}", "0".repeat(64))),
    }
}

/// A label and an artifact through their life; the subjects in order.
async fn changes(repos: &StorageRepositories) -> Vec<&'static str> {
    let label = repos
        .labels
        .create(
            ORG,
            NewLabel {
                name: "l".into(),
                description: None,
                color: "#000000".into(),
            },
        )
        .await
        .unwrap();
    repos
        .labels
        .update(
            ORG,
            label.id,
            LabelPatch {
                name: Patch::Value("m".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(repos.labels.delete(ORG, label.id, None).await.unwrap());
    let a = repos.artifacts.create(artifact()).await.unwrap();
    repos
        .artifacts
        .update(
            a.id,
            ArtifactPatch {
                credits: Patch::Value(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    repos
        .artifacts
        .emit(ArtifactEvent::Downloaded(a.clone()))
        .await
        .unwrap();
    assert!(repos.artifacts.delete(a.id).await.unwrap());
    vec![
        "storage.label.created",
        "storage.label.updated",
        "storage.label.deleted",
        "storage.artifact.created",
        "storage.artifact.updated",
        "storage.artifact.downloaded",
        "storage.artifact.deleted",
    ]
}

fn check(events: &[Envelope], expected: &[&str]) {
    let subjects: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(subjects, expected);
    for e in events {
        assert_eq!(e.request_id.as_deref(), Some("req-1"), "{e:?}");
        assert!(e.data.get("id").is_some(), "{e:?}");
        assert!(
            e.data.get("checksum").is_none(),
            "x-sensitive fields stay out: {e:?}"
        );
    }
}

#[tokio::test]
async fn the_mock_records_an_event_per_change() {
    let db = rt::memory::MemoryDb::default();
    let repos = StorageRepositories::in_memory_in(&db);
    let expected = rt::events::with_request_id(Some("req-1".into()), changes(&repos)).await;
    check(&db.events(), &expected);

    // A rolled-back transaction takes its events with it.
    let tx = rt::sql::Tx::memory();
    repos
        .in_tx(&tx)
        .unwrap()
        .artifacts
        .create(artifact())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(db.events().len(), expected.len());
}

async fn outbox(db: &rt::sql::Db) -> Vec<Envelope> {
    let payloads: Vec<String> = match db {
        rt::sql::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT payload FROM archgen_outbox ORDER BY created_at, id")
                .fetch_all(pool)
                .await
                .unwrap()
        }
        rt::sql::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT payload FROM archgen_outbox ORDER BY created_at, id")
                .fetch_all(pool)
                .await
                .unwrap()
        }
    };
    payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

#[tokio::test]
async fn sqlite_writes_events_with_their_changes_and_the_relay_delivers_them_in_order() {
    let db = rt::testing::sqlite_memory().await;
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    let repos = StorageRepositories::new(&db);
    let expected = rt::events::with_request_id(Some("req-1".into()), changes(&repos)).await;
    let written = outbox(&db).await;
    check(&written, &expected);

    // Rolled back: neither the row nor its event.
    let tx = db.begin().await.unwrap();
    repos
        .in_tx(&tx)
        .unwrap()
        .artifacts
        .create(artifact())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(outbox(&db).await.len(), expected.len());

    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let mut sub = bus.subscribe("storage.>", "test").await.unwrap();
    let relay = Relay::new(db.clone(), bus.clone());
    assert_eq!(relay.run_once().await.unwrap(), expected.len());
    for event in &written {
        let delivery = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap();
        let got: Envelope = serde_json::from_slice(&delivery.payload).unwrap();
        assert_eq!(got.id, event.id);
    }
    assert_eq!(
        relay.run_once().await.unwrap(),
        0,
        "published rows are marked"
    );
}

#[tokio::test]
async fn requests_stamp_their_events_with_their_id() {
    let db = rt::testing::sqlite_memory().await;
    // A caller placed by the application, as an authentication gateway would.
    let caller = rt::Principal {
        subject: "tester".into(),
        organization: Some(ORG),
        roles: Vec::new(),
    };
    let router = archgen_platform::router(&db)
        .await
        .unwrap()
        .layer(rt::deps::axum::Extension(caller));
    use rt::deps::axum::body::Body;
    use rt::deps::axum::http::Request;
    use tower::ServiceExt;
    let response = router
        .oneshot(
            Request::post("/artifacts")
                .header("content-type", "application/json")
                .header("x-request-id", "req-1")
                .body(Body::from(format!(
                    r#"{{"organizationID":"{ORG}","text":"t"}}"#
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "req-1");
    let events = outbox(&db).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].request_id.as_deref(), Some("req-1"));
    assert_eq!(events[0].kind, "storage.artifact.created");
}

#[tokio::test]
async fn postgres_events_reach_nats_jetstream() {
    let Some(pg) = rt::testing::postgres("events_nats").await else {
        return;
    };
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let bus = match rt::events::JetStreamBus::connect(&url).await {
        Ok(bus) => Arc::new(bus),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("NATS at {url} is required under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("\n!!! SKIPPING postgres_events_reach_nats_jetstream: {e} !!!\n");
            return;
        }
    };
    pg.db
        .migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    bus.ensure_stream("storage").await.unwrap();
    let group = format!("t{}", Uuid::now_v7().simple());
    let mut sub = bus.subscribe("storage.>", &group).await.unwrap();
    let repos = StorageRepositories::new(&pg.db);
    let expected = rt::events::with_request_id(Some("req-1".into()), changes(&repos)).await;
    let written = outbox(&pg.db).await;
    check(&written, &expected);
    let relay = Relay::new(pg.db.clone(), bus.clone());
    assert_eq!(relay.run_once().await.unwrap(), expected.len());

    // The stream is shared with other runs: wait for this run's ids, in order.
    let mut ours = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ours.len() < written.len() && tokio::time::Instant::now() < deadline {
        let Ok(Some(delivery)) = tokio::time::timeout(Duration::from_secs(5), sub.next()).await
        else {
            continue;
        };
        let got: Envelope = serde_json::from_slice(&delivery.payload).unwrap();
        if written.iter().any(|w| w.id == got.id) {
            ours.push(got.id);
        }
        delivery.ack().await;
    }
    let ids: Vec<Uuid> = written.iter().map(|w| w.id).collect();
    assert_eq!(ours, ids);
}
