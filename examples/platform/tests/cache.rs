//! The artifact cache on the real Redis (a key prefix of this test's own): the key pattern and
//! TTL of the spec, invalidation by the write that changed the row, cached counts forgotten by
//! any write, and reads that still succeed when Redis is down.

use std::sync::Arc;

use archgen_platform::generated::storage::StorageRepositories;
use archgen_platform::generated::storage::repository::{ArtifactPatch, NewArtifact};
use archgen_runtime as rt;
use rt::cache::{Cache, Cached, RedisCache};
use rt::prelude::*;

const ORG: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);

fn artifact(text: &str) -> NewArtifact {
    NewArtifact {
        name: None,
        description: None,
        credits: 0,
        mime_type: "text/plain".into(),
        organization_id: ORG,
        producer_id: None,
        text: Some(text.into()),
        url: None,
        size_bytes: None,
        checksum: None,
    }
}

async fn migrated_sqlite() -> rt::sql::Db {
    let db = rt::testing::sqlite_memory().await;
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    db
}

async fn count(repos: &StorageRepositories) -> u64 {
    repos
        .artifacts
        .count_artifacts_by_organization(ORG)
        .await
        .unwrap()
}

#[tokio::test]
async fn reads_come_from_redis_under_the_spec_key_and_writes_forget_them() {
    let Some(prefix) = rt::testing::redis("artifact_cache").await else {
        return;
    };
    let db = migrated_sqlite().await;
    let redis = Arc::new(RedisCache::new(&rt::testing::redis_url()));
    let cache = Cached::new(redis.clone()).with_prefix(prefix.clone());
    let repos = StorageRepositories::new(&db).with_cache(&cache);
    let plain = StorageRepositories::new(&db);

    let made = repos.artifacts.create(artifact("first")).await.unwrap();
    let key = format!("{prefix}artifact:{}", made.id);
    assert_eq!(
        redis.get(&key).await.unwrap(),
        None,
        "creating caches nothing"
    );
    assert_eq!(
        repos.artifacts.get(made.id).await.unwrap().as_ref(),
        Some(&made)
    );
    assert!(
        redis.get(&key).await.unwrap().is_some(),
        "a read fills {key}"
    );
    let ttl = redis.ttl_millis(&key).await.unwrap();
    assert!(
        (290_000..=300_000).contains(&ttl),
        "ttl 300 s, got {ttl} ms"
    );

    // A change behind the cache's back is not seen until the entry goes: the read is cached.
    plain
        .artifacts
        .update(
            made.id,
            ArtifactPatch {
                text: Patch::Value("sneaky".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        repos
            .artifacts
            .get(made.id)
            .await
            .unwrap()
            .unwrap()
            .text
            .as_deref(),
        Some("first")
    );

    // A change through the cached repository forgets the key in the same call.
    let changed = repos
        .artifacts
        .update(
            made.id,
            ArtifactPatch {
                text: Patch::Value("second".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(redis.get(&key).await.unwrap(), None);
    assert_eq!(repos.artifacts.get(made.id).await.unwrap(), Some(changed));

    // Counts are cached until any artifact is written.
    assert_eq!(count(&repos).await, 1);
    plain.artifacts.create(artifact("behind")).await.unwrap();
    assert_eq!(count(&repos).await, 1, "cached");
    repos.artifacts.create(artifact("through")).await.unwrap();
    assert_eq!(count(&repos).await, 3);

    assert!(repos.artifacts.delete(made.id).await.unwrap());
    assert_eq!(redis.get(&key).await.unwrap(), None);
    assert_eq!(repos.artifacts.get(made.id).await.unwrap(), None);
}

#[tokio::test]
async fn reads_succeed_while_redis_is_down() {
    let db = migrated_sqlite().await;
    // Nothing listens on port 1: every cache call fails, and falls through.
    let cache = Cached::new(Arc::new(RedisCache::new("redis://127.0.0.1:1")));
    let repos = StorageRepositories::new(&db).with_cache(&cache);
    let (_, _, failures) = rt::cache::counters();
    let made = repos.artifacts.create(artifact("x")).await.unwrap();
    assert_eq!(
        repos.artifacts.get(made.id).await.unwrap(),
        Some(made.clone())
    );
    assert_eq!(count(&repos).await, 1);
    assert!(repos.artifacts.delete(made.id).await.unwrap());
    assert_eq!(repos.artifacts.get(made.id).await.unwrap(), None);
    assert!(
        rt::cache::counters().2 > failures,
        "each fall-through is counted"
    );
}
