//! The Redis cache.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use crate::{Cache, CacheError};

/// Cache on Redis, shared by every replica.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// `SET key ARGV[2] PX ARGV[3]` when `key` holds `ARGV[1]`; 1 when stored.
///
/// NOTE: a script runs atomically in Redis; sent with `EVAL` (lock renewals and releases are
/// rare, so the script cache's round trip saving is not worth a second code path).
const COMPARE_AND_SET: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";

/// `DEL key` when `key` holds `ARGV[1]`; 1 when removed.
const COMPARE_AND_DELETE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisCache {
    /// Connects to Redis at `url`.
    ///
    /// # Errors
    ///
    /// When the URL is invalid or Redis does not answer.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let redis_error = |operation| move |source| CacheError::Redis { operation, source };
        let client = redis::Client::open(url).map_err(redis_error("open"))?;
        let connection = ConnectionManager::new(client).await.map_err(redis_error("connect"))?;
        Ok(Self { connection, prefix: prefix.to_owned() })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        let value: Option<Vec<u8>> = self
            .connection
            .clone()
            .get(self.key(key))
            .await
            .map_err(|source| CacheError::Redis { operation: "GET", source })?;
        Ok(value.map(Bytes::from))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        self.connection
            .clone()
            .pset_ex::<_, _, ()>(self.key(key), value.as_ref(), millis(ttl))
            .await
            .map_err(|source| CacheError::Redis { operation: "SET", source })
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Duration) -> Result<bool, CacheError> {
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value.as_ref())
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|source| CacheError::Redis { operation: "SET NX", source })?;
        Ok(stored.is_some())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let key = self.key(key);
        // NOTE: PEXPIRE ... NX sets the deadline only on the first increment (Redis 7).
        let (count, _): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(ttl))
            .arg("NX")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|source| CacheError::Redis { operation: "INCR", source })?;
        Ok(count)
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let removed: u64 = self
            .connection
            .clone()
            .del(self.key(key))
            .await
            .map_err(|source| CacheError::Redis { operation: "DEL", source })?;
        Ok(removed > 0)
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let stored: i64 = redis::cmd("EVAL")
            .arg(COMPARE_AND_SET)
            .arg(1)
            .arg(self.key(key))
            .arg(expected)
            .arg(value.as_ref())
            .arg(millis(ttl))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|source| CacheError::Redis { operation: "EVAL compare-and-set", source })?;
        Ok(stored == 1)
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, CacheError> {
        let removed: i64 = redis::cmd("EVAL")
            .arg(COMPARE_AND_DELETE)
            .arg(1)
            .arg(self.key(key))
            .arg(expected)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|source| CacheError::Redis { operation: "EVAL compare-and-delete", source })?;
        Ok(removed == 1)
    }

    async fn check(&self) -> Result<(), CacheError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.connection.clone())
            .await
            .map(drop)
            .map_err(|source| CacheError::Redis { operation: "PING", source })
    }
}
