//! The cache contract, run against the in-memory cache and a real Redis.

use std::time::Duration;

use bytes::Bytes;
use kalcord_cache::{Cache, MemoryCache, RedisCache};
use kalcord_test_util::env::{redis_url, unique_suffix};

async fn redis() -> RedisCache {
    RedisCache::connect(&redis_url(), &format!("test{}", unique_suffix()))
        .await
        .unwrap_or_else(|err| panic!("cannot reach Redis at {} (`make services`): {err}", redis_url()))
}

fn memory() -> MemoryCache {
    MemoryCache::new(&format!("test{}", unique_suffix()), 1000)
}

async fn set_get_delete(cache: &dyn Cache) {
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

async fn entries_expire(cache: &dyn Cache) {
    cache.set("short", Bytes::from_static(b"x"), Duration::from_millis(150)).await.unwrap();
    cache.set("long", Bytes::from_static(b"y"), Duration::from_secs(60)).await.unwrap();
    assert!(cache.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.get("short").await.unwrap(), None);
    assert!(cache.get("long").await.unwrap().is_some());
}

async fn first_writer_wins(cache: &dyn Cache) {
    assert!(cache.set_if_absent("lock", Bytes::from_static(b"a"), Duration::from_secs(60)).await.unwrap());
    assert!(!cache.set_if_absent("lock", Bytes::from_static(b"b"), Duration::from_secs(60)).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap().as_deref(), Some(&b"a"[..]));
}

async fn counters_count_within_their_window(cache: &dyn Cache) {
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 1);
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.increment("hits", Duration::from_secs(60)).await.unwrap(), 3, "a later ttl does not extend it");
    assert_eq!(cache.get("hits").await.unwrap().as_deref(), Some(&b"3"[..]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.increment("hits", Duration::from_millis(300)).await.unwrap(), 1, "a new window starts at 1");
}

macro_rules! contract {
    ($($name:ident),*) => {
        mod memory { $( #[tokio::test] async fn $name() { let _t = kalcord_test_util::trace_init(); super::$name(&super::memory()).await; } )* }
        mod redis { $( #[tokio::test] async fn $name() { let _t = kalcord_test_util::trace_init(); super::$name(&super::redis().await).await; } )* }
    };
}

contract!(set_get_delete, entries_expire, first_writer_wins, counters_count_within_their_window);

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
