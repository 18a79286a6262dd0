//! The embedded cache: moka, with a time to live per entry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache as Moka;

use super::{Cache, CacheError};

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

struct PerEntry;

impl Expiry<String, Entry> for PerEntry {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// An in-process cache of at most `capacity` entries, for one instance of a service.
pub struct MemoryCache {
    entries: Moka<String, Entry>,
}

impl MemoryCache {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(capacity)
                .expire_after(PerEntry)
                .build(),
        }
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.get(key).map(|e| e.bytes.to_vec()))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.entries.insert(
            key.to_string(),
            Entry {
                bytes: value.into(),
                ttl,
            },
        );
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        for key in keys {
            self.entries.invalidate(key);
        }
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
