//! The cache contract, run against the in-memory cache and a real Redis.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kalcord_cache::{Cache, MemoryCache, RedisCache, SharedCache};
use kalcord_test_util::env::{redis_url, unique_suffix};

async fn shared_redis() -> SharedCache {
    Arc::new(redis().await)
}

fn shared_memory() -> SharedCache {
    Arc::new(memory())
}

async fn redis() -> RedisCache {
    RedisCache::connect(&redis_url(), &format!("test{}", unique_suffix()))
        .await
        .unwrap_or_else(|err| panic!("cannot reach Redis at {} (`make services`): {err}", redis_url()))
}

fn memory() -> MemoryCache {
    MemoryCache::new(&format!("test{}", unique_suffix()), 1000)
}

async fn set_get_delete(cache: &SharedCache) {
    assert_eq!(cache.get("k").await.unwrap(), None);
    cache.set("k", Bytes::from_static(b"v1"), Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    cache.set("k", Bytes::from_static(b"v2"), Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v2"[..]));
    assert!(cache.delete("k").await.unwrap());
    assert!(!cache.delete("k").await.unwrap());
    assert_eq!(cache.get("k").await.unwrap(), None);
    cache.check().await.unwrap();
}

async fn entries_expire(cache: &SharedCache) {
    cache.set("short", Bytes::from_static(b"x"), Duration::from_millis(150)).await.unwrap();
    cache.set("long", Bytes::from_static(b"y"), Duration::from_secs(60)).await.unwrap();
    assert!(cache.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get("short").await.unwrap(), None);
    assert!(cache.get("long").await.unwrap().is_some());
}

async fn first_writer_wins(cache: &SharedCache) {
    assert!(cache.set_if_absent("lock", Bytes::from_static(b"a"), Duration::from_secs(60)).await.unwrap());
    assert!(!cache.set_if_absent("lock", Bytes::from_static(b"b"), Duration::from_secs(60)).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"a"[..]));
}

async fn compare_and_set_replaces_only_the_expected_value(cache: &SharedCache) {
    let ttl = Duration::from_secs(60);
    assert!(!cache.compare_and_set("lock", b"a", Bytes::from_static(b"b"), ttl).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap(), None, "an absent key is not created");
    cache.set("lock", Bytes::from_static(b"a"), Duration::from_millis(300)).await.unwrap();
    assert!(!cache.compare_and_set("lock", b"other", Bytes::from_static(b"b"), ttl).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"a"[..]));
    // A renewal: the same value, a new ttl.
    assert!(cache.compare_and_set("lock", b"a", Bytes::from_static(b"a"), ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"a"[..]), "the ttl was renewed");
    assert!(cache.compare_and_set("lock", b"a", Bytes::from_static(b"c"), ttl).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"c"[..]));
    // A new ttl also applies when it is shorter.
    assert!(cache.compare_and_set("lock", b"c", Bytes::from_static(b"c"), Duration::from_millis(150)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get("lock").await.unwrap(), None);
}

async fn compare_and_delete_removes_only_the_expected_value(cache: &SharedCache) {
    assert!(!cache.compare_and_delete("lock", b"a").await.unwrap(), "nothing to remove");
    cache.set("lock", Bytes::from_static(b"b"), Duration::from_secs(60)).await.unwrap();
    assert!(!cache.compare_and_delete("lock", b"a").await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"b"[..]), "another owner's value stays");
    assert!(cache.compare_and_delete("lock", b"b").await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap(), None);
    assert!(!cache.compare_and_delete("lock", b"b").await.unwrap());
}

/// Writers all expecting the value they read, on several threads: with a separate read and
/// write several would win; atomically exactly one does.
async fn racing_compare_and_swaps_have_one_winner(cache: &SharedCache) {
    const WRITERS: u32 = 16;
    for round in 0..10 {
        let key = format!("race{round}");
        cache.set(&key, Bytes::from_static(b"v0"), Duration::from_secs(60)).await.unwrap();
        let start = Arc::new(tokio::sync::Barrier::new(WRITERS as usize));
        let attempts = (0..WRITERS).map(|n| {
            let (cache, key, start) = (Arc::clone(cache), key.clone(), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                if n.is_multiple_of(2) {
                    let value = Bytes::from(format!("v{}", n + 1));
                    cache.compare_and_set(&key, b"v0", value, Duration::from_secs(60)).await.unwrap()
                } else {
                    cache.compare_and_delete(&key, b"v0").await.unwrap()
                }
            })
        });
        let outcomes: Vec<bool> = futures::future::try_join_all(attempts).await.unwrap();
        let winners: Vec<usize> = outcomes.iter().enumerate().filter(|(_, won)| **won).map(|(n, _)| n).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let left = cache.get(&key).await.unwrap();
        if winners[0].is_multiple_of(2) {
            assert_eq!(left, Some(Bytes::from(format!("v{}", winners[0] + 1))), "round {round}");
        } else {
            assert_eq!(left, None, "round {round}");
        }
    }
}

async fn counters_count_within_their_window(cache: &SharedCache) {
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 1);
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.increment("hits", Duration::from_secs(60)).await.unwrap(), 3, "a later ttl does not extend it");
    assert_eq!(cache.get("hits").await.unwrap().as_deref(), Some(&b"3"[..]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 1, "a new window starts at 1");
}

// NOTE: on several threads, so that the racing writers really run at once.
macro_rules! contract {
    ($($name:ident),*) => {
        mod memory { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { let _t = kalcord_test_util::trace_init(); super::$name(&super::shared_memory()).await; } )* }
        mod redis { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { let _t = kalcord_test_util::trace_init(); super::$name(&super::shared_redis().await).await; } )* }
    };
}

contract!(
    set_get_delete,
    entries_expire,
    first_writer_wins,
    compare_and_set_replaces_only_the_expected_value,
    compare_and_delete_removes_only_the_expected_value,
    racing_compare_and_swaps_have_one_winner,
    counters_count_within_their_window
);

#[tokio::test]
async fn prefixes_isolate_deployments() {
    let _trace = kalcord_test_util::trace_init();
    let (a, b) = (redis().await, redis().await);
    a.set("shared", Bytes::from_static(b"a"), Duration::from_secs(60)).await.unwrap();
    assert_eq!(b.get("shared").await.unwrap(), None);
}

#[tokio::test]
async fn unreachable_redis_is_an_error_not_a_hang() {
    let _trace = kalcord_test_util::trace_init();
    let result = tokio::time::timeout(Duration::from_secs(10), RedisCache::connect("redis://127.0.0.1:1", "x")).await;
    assert!(matches!(result, Ok(Err(_))), "connecting to a closed port must fail promptly");
}
