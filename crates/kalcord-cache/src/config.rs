//! The `cache.*` section.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use kalcord_config::{Reader, Section};
use url::Url;

use crate::{CacheError, MemoryCache, RedisCache, SharedCache};

/// Default Redis URL.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Which cache implementation a process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheBackend {
    /// In process (standalone mode).
    Memory,
    /// Redis (distributed mode).
    Redis,
}

impl FromStr for CacheBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "memory" => Ok(Self::Memory),
            "redis" => Ok(Self::Redis),
            _ => Err("expected `memory` or `redis`".to_owned()),
        }
    }
}

impl fmt::Display for CacheBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
        })
    }
}

/// How to reach the cache.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Implementation.
    pub backend: CacheBackend,
    /// Most entries the in-memory cache holds.
    pub max_entries: u64,
    /// Prefix of every key.
    pub prefix: String,
    /// Redis URL (`redis://` or `rediss://`; a password in it is never logged).
    pub url: Url,
}

impl Section for CacheConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let config = Self {
            backend: r.get_for(
                "backend",
                CacheBackend::Memory,
                CacheBackend::Redis,
                "Cache implementation: `memory` (in process) or `redis`.",
            ),
            max_entries: r.get("max_entries", 100_000, "Most entries the in-memory cache holds."),
            prefix: r.get(
                "prefix",
                "kalcord".to_owned(),
                "Prefix of every cache key, to share one Redis between deployments.",
            ),
            url: r.get("url", Url::parse(DEFAULT_REDIS_URL).expect("valid default"), "Redis URL."),
        };
        if config.url.scheme() != "redis" && config.url.scheme() != "rediss" {
            r.invalid("url", "scheme must be redis:// or rediss://");
        }
        config
    }
}

/// Connects to the configured cache.
///
/// # Errors
///
/// When Redis cannot be reached.
pub async fn connect(config: &CacheConfig) -> Result<SharedCache, CacheError> {
    Ok(match config.backend {
        CacheBackend::Memory => Arc::new(MemoryCache::new(&config.prefix, config.max_entries)),
        CacheBackend::Redis => Arc::new(RedisCache::connect(config.url.as_str(), &config.prefix).await?),
    })
}
