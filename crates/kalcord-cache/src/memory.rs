//! The in-process cache.

use std::fmt;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as Moka;
use tokio::sync::{Mutex, MutexGuard};

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

/// Write locks per cache; a key's writes share one.
const STRIPES: u64 = 64;

/// Bounded in-process cache.
#[derive(Clone)]
pub struct MemoryCache {
    entries: Moka<String, Entry>,
    prefix: String,
    /// NOTE: moka runs its own compute calls on one key one at a time, but not a compute
    /// against a plain insert or remove. Every write holds its key's stripe, so a
    /// compare-and-set or compare-and-delete sees no other write between its read and its own.
    stripes: Arc<[Mutex<()>]>,
    hasher: RandomState,
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("prefix", &self.prefix)
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

impl MemoryCache {
    /// A cache holding at most `max_entries` entries.
    #[must_use]
    pub fn new(prefix: &str, max_entries: u64) -> Self {
        let entries = Moka::builder().max_capacity(max_entries).expire_after(PerEntryTtl).build();
        let stripes = (0..STRIPES).map(|_| Mutex::new(())).collect();
        Self { entries, prefix: prefix.to_owned(), stripes, hasher: RandomState::new() }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// The write lock of `key` (a full key, prefix included).
    async fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        let stripe = usize::try_from(self.hasher.hash_one(key) % STRIPES).unwrap_or(0);
        self.stripes[stripe].lock().await
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        Ok(self.entries.get(&self.key(key)).await.map(|entry| entry.value))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        let key = self.key(key);
        let _write = self.lock(&key).await;
        self.entries.insert(key, Entry { counter: false, ttl, value }).await;
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Duration) -> Result<bool, CacheError> {
        let key = self.key(key);
        let _write = self.lock(&key).await;
        let entry = self.entries.entry(key).or_insert(Entry { counter: false, ttl, value }).await;
        Ok(entry.is_fresh())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let key = self.key(key);
        let _write = self.lock(&key).await;
        let entry = self
            .entries
            .entry(key)
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
        let key = self.key(key);
        let _write = self.lock(&key).await;
        Ok(self.entries.remove(&key).await.is_some())
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let key = self.key(key);
        let _write = self.lock(&key).await;
        if self.entries.get(&key).await.is_none_or(|entry| entry.value != expected) {
            return Ok(false);
        }
        self.entries.insert(key, Entry { counter: false, ttl, value }).await;
        Ok(true)
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, CacheError> {
        let key = self.key(key);
        let _write = self.lock(&key).await;
        if self.entries.get(&key).await.is_none_or(|entry| entry.value != expected) {
            return Ok(false);
        }
        Ok(self.entries.remove(&key).await.is_some())
    }

    async fn check(&self) -> Result<(), CacheError> {
        Ok(())
    }
}
