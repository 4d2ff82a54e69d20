//! twilight's identify [`Queue`] shared by every replica through the cache (Redis in
//! distributed mode).
//!
//! Discord allows `max_concurrency` IDENTIFYs per 5 seconds, one per rate-limit key
//! `shard_id % max_concurrency` (discord-api.md §3.3). Each key is a cache entry taken with
//! `SET NX PX`: the shard that takes it may identify, and the entry expires after the identify
//! window, so the next shard of the same key, in this replica or another, waits until then.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kalcord_cache::SharedCache;
use tokio::sync::oneshot;
use twilight_gateway::queue::Queue;

/// How often a waiting shard asks again.
const POLL: Duration = Duration::from_millis(100);
/// Added to the window: Discord counts from when it receives an IDENTIFY, we from before sending.
const MARGIN: Duration = Duration::from_millis(250);

/// An identify queue over the shared cache.
#[derive(Clone, Debug)]
pub struct CacheQueue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cache: SharedCache,
    max_concurrency: u32,
    window: Duration,
}

impl CacheQueue {
    /// A queue for an application with `max_concurrency` (from `GET /gateway/bot`) and an identify
    /// window of `window` (Discord's is 5 s).
    #[must_use]
    pub fn new(cache: SharedCache, max_concurrency: u32, window: Duration) -> Self {
        Self { inner: Arc::new(Inner { cache, max_concurrency: max_concurrency.max(1), window }) }
    }

    /// The rate-limit key of a shard.
    #[must_use]
    pub fn key_of(&self, shard: u32) -> u32 {
        shard % self.inner.max_concurrency
    }

    /// Waits until `shard` may identify (its key was free and is now held for one window).
    pub async fn acquire(&self, shard: u32) {
        let key = format!("gateway:identify:{}", self.key_of(shard));
        let hold = self.inner.window + MARGIN;
        loop {
            match self.inner.cache.set_if_absent(&key, Bytes::from(shard.to_string()), hold).await {
                Ok(true) => {
                    metrics::counter!("kalcord_gateway_identify_permits_total").increment(1);
                    return;
                }
                Ok(false) => tokio::time::sleep(POLL + jitter()).await,
                Err(err) => {
                    // NOTE: never identify without the shared permit: a burst of IDENTIFYs past
                    // max_concurrency gets every one of them refused, and 1,000 a day reset the token.
                    tracing::warn!(error = %err, shard, "identify queue: cache unavailable; waiting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    Duration::from_millis(u64::from(nanos % 50))
}

impl Queue for CacheQueue {
    fn enqueue(&self, shard: u32) -> oneshot::Receiver<()> {
        let (mut tx, rx) = oneshot::channel();
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tx.closed() => {}
                () = queue.acquire(shard) => {
                    tracing::debug!(shard, "identify permitted");
                    let _ = tx.send(());
                }
            }
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_identify_per_key_and_window() {
        let cache: SharedCache = Arc::new(kalcord_cache::MemoryCache::new("t", 100));
        let window = Duration::from_millis(400);
        let queue = CacheQueue::new(cache, 2, window);
        let started = tokio::time::Instant::now();
        // Shards 0 and 2 share key 0; 1 has key 1.
        let (a, b, c) = tokio::join!(queue.enqueue(0), queue.enqueue(1), queue.enqueue(2));
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        assert!(started.elapsed() >= window, "shard 2 waited for shard 0's window");
        let quick = CacheQueue::new(Arc::new(kalcord_cache::MemoryCache::new("u", 100)), 2, window);
        let started = tokio::time::Instant::now();
        let (a, b) = tokio::join!(quick.enqueue(0), quick.enqueue(1));
        assert!(a.is_ok() && b.is_ok());
        assert!(started.elapsed() < window, "different keys identify together");
    }
}
