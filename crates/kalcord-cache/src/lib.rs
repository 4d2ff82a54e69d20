#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod config;
mod memory;
mod redis_cache;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

pub use config::{CacheBackend, CacheConfig, DEFAULT_REDIS_URL, connect};
pub use memory::MemoryCache;
pub use redis_cache::RedisCache;

/// A cache shared by every task of a process.
pub type SharedCache = Arc<dyn Cache>;

/// A cache operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Redis could not be reached or refused the command.
    #[error("redis {operation} failed")]
    Redis {
        /// Command attempted.
        operation: &'static str,
        /// Driver error (never contains the URL's password).
        #[source]
        source: redis::RedisError,
    },
}

/// Key-value cache with per-entry time to live.
#[async_trait]
pub trait Cache: Send + Sync + std::fmt::Debug + 'static {
    /// The value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError>;

    /// Stores `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError>;

    /// Stores `value` only if `key` is absent; returns whether it was stored.
    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Duration) -> Result<bool, CacheError>;

    /// Adds one to the counter at `key` and returns the new value; a new counter lives for
    /// `ttl` (later increments do not extend it). Counters read back with [`Cache::get`] as
    /// decimal text.
    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError>;

    /// Removes `key`; returns whether it was present.
    async fn delete(&self, key: &str) -> Result<bool, CacheError>;

    /// Stores `value` under `key` for `ttl` only if `key` holds `expected` now; returns whether
    /// it was stored. Atomic: no other write of `key` lands between the check and the store (a
    /// lock's owner renews it this way without overwriting a successor's lock).
    async fn compare_and_set(
        &self,
        key: &str,
        expected: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<bool, CacheError>;

    /// Removes `key` only if it holds `expected` now; returns whether it was removed. Atomic like
    /// [`Cache::compare_and_set`] (a lock's owner releases it this way, never a successor's).
    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, CacheError>;

    /// Checks the cache answers (readiness).
    async fn check(&self) -> Result<(), CacheError>;
}
