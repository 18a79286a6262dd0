//! Caches behind one trait: in memory (moka) by default, Redis when `REDIS_URL` is set. A cache
//! never fails a request: [`Cached`] turns every error into a miss, with a warning and a count,
//! so the caller falls through to the database.
//!
//! The trait and [`Cached`] are always compiled, since every generated `Repositories` takes one;
//! the stores are features: `cache` for [`MemoryCache`], `redis` for [`RedisCache`]. With
//! `cache`, [`CachedStore`] puts any [`crate::Store`] behind a cache, as an entity's
//! [`CachePolicy`] says.

#[cfg(feature = "cache")]
mod aside;
#[cfg(feature = "cache")]
mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[cfg(feature = "cache")]
pub use aside::{Arg, CachePolicy, CachedStore, Read};
#[cfg(feature = "cache")]
pub use memory::MemoryCache;
#[cfg(feature = "redis")]
pub use redis::RedisCache;

#[derive(Debug, thiserror::Error)]
#[error("cache: {0}")]
pub struct CacheError(pub String);

/// A store of bytes by key, each with its own time to live.
#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError>;
    /// For logs: `memory` or `redis`.
    fn backend(&self) -> &'static str;
}

static FAILURES: AtomicU64 = AtomicU64::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// Counters since start: (hits, misses, failures that fell through to the database).
pub fn counters() -> (u64, u64, u64) {
    (
        HITS.load(Ordering::Relaxed),
        MISSES.load(Ordering::Relaxed),
        FAILURES.load(Ordering::Relaxed),
    )
}

/// The cache as generated repositories use it: failures become misses.
#[derive(Clone)]
pub struct Cached {
    inner: Arc<dyn Cache>,
    /// Put before every key, so that services (or tests) sharing one Redis never collide.
    prefix: String,
}

impl Cached {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self {
            inner: cache,
            prefix: String::new(),
        }
    }

    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// `ARCHGEN_CACHE` (`memory`, `redis` or `off`) picks the cache; without it, Redis when
    /// `REDIS_URL` is set, else memory. `None` for `off`, and when unset in a build without the
    /// `cache` feature (its spec caches nothing: generated code for cached entities needs the
    /// feature). Asking for a store this build lacks is an error. `ARCHGEN_CACHE_PREFIX`
    /// prefixes keys.
    pub fn from_env() -> Result<Option<Self>, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Cached::from_env`] over any source of settings (tests cannot safely set variables).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let redis_url = var("REDIS_URL").filter(|u| !u.is_empty());
        let choice = var("ARCHGEN_CACHE").unwrap_or_default();
        let cache: Arc<dyn Cache> = match (choice.as_str(), redis_url) {
            ("off", _) => return Ok(None),
            ("redis" | "", Some(url)) => redis_cache(&url)?,
            ("redis", None) => return Err("ARCHGEN_CACHE=redis needs REDIS_URL".into()),
            ("memory" | "", _) => match memory_cache() {
                Some(cache) => cache,
                None if choice.is_empty() => return Ok(None),
                None => return Err(crate::features::missing("ARCHGEN_CACHE=memory", "cache")),
            },
            (other, _) => {
                return Err(format!(
                    "ARCHGEN_CACHE must be memory, redis or off, not `{other}`"
                ));
            }
        };
        let prefix = var("ARCHGEN_CACHE_PREFIX").unwrap_or_default();
        Ok(Some(Self::new(cache).with_prefix(prefix)))
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    /// Whether the cache answers, with its error when not (for readiness checks; reads never
    /// see the error).
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.inner
            .get(&self.full("archgen:ready"))
            .await
            .map(|_| ())
    }

    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let key = &self.full(key);
        match self.inner.get(key).await {
            Ok(Some(v)) => {
                HITS.fetch_add(1, Ordering::Relaxed);
                Some(v)
            }
            Ok(None) => {
                MISSES.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(e) => {
                failed("get", key, &e);
                None
            }
        }
    }

    pub async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let key = &self.full(key);
        if let Err(e) = self.inner.set(key, value, ttl).await {
            failed("set", key, &e);
        }
    }

    /// Forget `keys` now, and once more a moment later: a reader that missed before the write
    /// and stores what it read after this delete would otherwise leave the old row for a whole
    /// TTL.
    pub async fn forget(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        self.delete(&keys).await;
        let again = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(REFORGET_AFTER).await;
            again.delete(&keys).await;
        });
    }

    /// Forget `keys`. A failure is logged: the entries then live until their TTL runs out.
    pub async fn delete(&self, keys: &[String]) {
        let keys: Vec<String> = keys.iter().map(|k| self.full(k)).collect();
        if let Err(e) = self.inner.delete(&keys).await {
            failed("delete", &keys.join(" "), &e);
        }
    }
}

/// When [`Cached::forget`] deletes again: longer than a database read takes.
const REFORGET_AFTER: Duration = Duration::from_millis(500);

/// How long generation stamps live: longer than any entry they key.
const STAMP_TTL: Duration = Duration::from_secs(24 * 3600);

impl Cached {
    /// The current stamp of `scope`: cached query results include it in their keys, and a
    /// write replaces it, so every result cached before the write is never read again. Queries
    /// whose rows cannot be named by key (lists, counts) are invalidated this way.
    pub async fn stamp(&self, scope: &str) -> String {
        let key = format!("{scope}:stamp");
        if let Some(Ok(stamp)) = self.get(&key).await.map(String::from_utf8) {
            return stamp;
        }
        let stamp = uuid::Uuid::now_v7().simple().to_string();
        self.set(&key, stamp.clone().into_bytes(), STAMP_TTL).await;
        stamp
    }

    /// After a write: results cached under the old stamp of `scope` are dead.
    pub async fn restamp(&self, scope: &str) {
        self.delete(&[format!("{scope}:stamp")]).await;
    }
}

/// Entries the in-memory cache holds before it evicts the least used.
#[cfg(feature = "cache")]
const MEMORY_CAPACITY: u64 = 100_000;

#[cfg(feature = "cache")]
fn memory_cache() -> Option<Arc<dyn Cache>> {
    Some(Arc::new(MemoryCache::new(MEMORY_CAPACITY)))
}

#[cfg(not(feature = "cache"))]
fn memory_cache() -> Option<Arc<dyn Cache>> {
    None
}

#[cfg(feature = "redis")]
fn redis_cache(url: &str) -> Result<Arc<dyn Cache>, String> {
    Ok(Arc::new(RedisCache::new(url)))
}

#[cfg(not(feature = "redis"))]
fn redis_cache(_url: &str) -> Result<Arc<dyn Cache>, String> {
    Err(crate::features::missing("REDIS_URL", "redis"))
}

fn failed(op: &str, key: &str, e: &CacheError) {
    FAILURES.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(op, key, error = %e, "cache unavailable; falling through to the database");
}

/// `author:{id}` with `{id}` replaced: each placeholder names a field of the entity, looked up in
/// `values` (its wire value). `None` when a placeholder has no value.
pub fn key(pattern: &str, values: &[(&str, String)]) -> Option<String> {
    fill(pattern, |name| {
        let (_, value) = values.iter().find(|(n, _)| *n == name)?;
        Some(value.clone())
    })
}

/// `pattern` with each `{name}` replaced by `value(name)`; `None` when one has no value.
fn fill(pattern: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 36);
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        out.push_str(&value(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A value as a key shows it: its JSON text, unquoted for strings (UUIDs, enums, text).
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_patterns_fill_every_placeholder() {
        let id = ("id", "0195".to_string());
        assert_eq!(
            key("author:{id}", std::slice::from_ref(&id)).as_deref(),
            Some("author:0195")
        );
        assert_eq!(
            key("s:{token}:{id}", &[id.clone(), ("token", "t".into())]).as_deref(),
            Some("s:t:0195")
        );
        assert_eq!(key("plain", &[]).as_deref(), Some("plain"));
        assert_eq!(key("a:{missing}", &[id]), None);
        assert_eq!(key("a:{unclosed", &[]), None);
    }

    fn settings(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn backend(pairs: &[(&str, &str)]) -> Result<Option<&'static str>, String> {
        Cached::from_vars(settings(pairs)).map(|c| c.map(|c| c.backend()))
    }

    /// A store this build lacks is refused at start-up, never replaced by another in silence.
    #[test]
    fn stores_follow_the_features_built_in() {
        let redis = backend(&[("REDIS_URL", "redis://127.0.0.1:1")]);
        if cfg!(feature = "redis") {
            assert_eq!(redis, Ok(Some("redis")));
        } else {
            let error = redis.unwrap_err();
            assert!(
                error.contains("REDIS_URL") && error.contains("`redis` feature"),
                "{error}"
            );
        }
        let memory = backend(&[("ARCHGEN_CACHE", "memory")]);
        let default = backend(&[]);
        if cfg!(feature = "cache") {
            assert_eq!(memory, Ok(Some("memory")));
            assert_eq!(default, Ok(Some("memory")));
        } else {
            assert!(memory.unwrap_err().contains("`cache` feature"));
            // Nothing asked for a cache, and the spec caches nothing (its code would need `cache`).
            assert_eq!(default, Ok(None));
        }
        assert_eq!(
            backend(&[("ARCHGEN_CACHE", "off"), ("REDIS_URL", "x")]),
            Ok(None)
        );
    }
}
