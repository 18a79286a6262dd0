//! Both caches keep entries for their TTL and forget them on delete; Redis is the real server on
//! `REDIS_URL`, under a key prefix of each test's own, and an unreachable one is a miss, never an
//! error.

use std::sync::Arc;
use std::time::Duration;

use archgen_runtime::cache::{self, Cache, Cached, MemoryCache, RedisCache};
use archgen_runtime::testing;

async fn keeps_and_forgets(cache: Cached) {
    assert_eq!(cache.get("a").await, None);
    cache
        .set("a", b"one".to_vec(), Duration::from_secs(60))
        .await;
    cache
        .set("b", b"two".to_vec(), Duration::from_millis(150))
        .await;
    assert_eq!(cache.get("a").await.as_deref(), Some(&b"one"[..]));
    assert_eq!(cache.get("b").await.as_deref(), Some(&b"two"[..]));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get("b").await, None, "the TTL ran out");
    cache.delete(&["a".to_string()]).await;
    assert_eq!(cache.get("a").await, None);

    // A write replaces the stamp, so results keyed by the old one are never read again.
    let before = cache.stamp("scope").await;
    assert_eq!(cache.stamp("scope").await, before);
    cache.restamp("scope").await;
    assert_ne!(cache.stamp("scope").await, before);
}

#[tokio::test]
async fn memory_cache_keeps_entries_for_their_ttl() {
    keeps_and_forgets(Cached::new(Arc::new(MemoryCache::new(100)))).await;
}

#[tokio::test]
async fn redis_cache_keeps_entries_for_their_ttl() {
    let Some(prefix) = testing::redis("cache_ttl").await else {
        return;
    };
    let redis = Arc::new(RedisCache::new(&testing::redis_url()));
    keeps_and_forgets(Cached::new(redis.clone()).with_prefix(prefix.clone())).await;
    // The prefix is really on the server's keys, and the TTL is Redis's own.
    let cached = Cached::new(redis.clone()).with_prefix(prefix.clone());
    cached
        .set("k", b"v".to_vec(), Duration::from_secs(30))
        .await;
    assert_eq!(
        redis.get(&format!("{prefix}k")).await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
    cached.delete(&["k".to_string()]).await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_miss_and_is_counted() {
    // Nothing listens on port 1.
    let cached = Cached::new(Arc::new(RedisCache::new("redis://127.0.0.1:1")));
    let (_, _, failures_before) = cache::counters();
    cached.set("x", b"y".to_vec(), Duration::from_secs(1)).await;
    assert_eq!(cached.get("x").await, None);
    cached.delete(&["x".to_string()]).await;
    let (_, _, failures_after) = cache::counters();
    assert!(failures_after >= failures_before + 3);
    // The raw adapter reports the error that the wrapper swallowed.
    assert!(
        RedisCache::new("redis://127.0.0.1:1")
            .get("x")
            .await
            .is_err()
    );
}
