//! The in-process cache.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as Moka;

use crate::{Cache, CacheError};

#[derive(Clone)]
struct Entry {
    counter: bool,
    ttl: Duration,
    value: Bytes,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _created_at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        // NOTE: a counter keeps its first deadline; a `set` restarts the clock.
        if entry.counter { remaining.or(Some(entry.ttl)) } else { Some(entry.ttl) }
    }
}

/// Bounded in-process cache.
#[derive(Clone)]
pub struct MemoryCache {
    entries: Moka<String, Entry>,
    prefix: String,
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("prefix", &self.prefix)
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl MemoryCache {
    /// A cache holding at most `max_entries` entries.
    #[must_use]
    pub fn new(prefix: &str, max_entries: u64) -> Self {
        let entries = Moka::builder().max_capacity(max_entries).expire_after(PerEntryTtl).build();
        Self { entries, prefix: prefix.to_owned() }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        Ok(self.entries.get(&self.key(key)).await.map(|entry| entry.value))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        self.entries.insert(self.key(key), Entry { counter: false, ttl, value }).await;
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Duration) -> Result<bool, CacheError> {
        let entry = self.entries.entry(self.key(key)).or_insert(Entry { counter: false, ttl, value }).await;
        Ok(entry.is_fresh())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let entry = self
            .entries
            .entry(self.key(key))
            .and_upsert_with(|existing| {
                let (count, ttl) = existing.map_or((1, ttl), |entry| {
                    let previous: u64 =
                        std::str::from_utf8(&entry.value().value).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
                    (previous + 1, entry.value().ttl)
                });
                std::future::ready(Entry { counter: true, ttl, value: Bytes::from(count.to_string()) })
            })
            .await;
        Ok(std::str::from_utf8(&entry.value().value).ok().and_then(|t| t.parse().ok()).unwrap_or(1))
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.entries.remove(&self.key(key)).await.is_some())
    }

    async fn check(&self) -> Result<(), CacheError> {
        Ok(())
    }
}
