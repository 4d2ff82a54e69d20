//! Replicas posting to one channel share its bucket through Redis: together they stay within
//! Discord's limit, where each counting alone would collect 429s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_cache::{RedisCache, SharedCache};
use kalcord_discord::egress::Egress;
use kalcord_discord::response::MessageData;
use kalcord_discord_emulator::{BucketLimit, RateLimitConfig, seed};

use super::support;

const MESSAGES_ROUTE: &str = "/channels/{channel_id}/messages";
/// The channel's bucket: Discord's 5 messages, over a shorter window to keep the test short.
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_posting_to_one_channel_stay_within_its_bucket() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = support::emulator(|mut config| {
        config.rate_limits =
            RateLimitConfig::default().with_route("POST", MESSAGES_ROUTE, BucketLimit::new(LIMIT as u32, WINDOW));
        config
    })
    .await;
    let prefix = support::unique_prefix("discord-buckets");
    let redis = kalcord_test_util::env::redis_url();
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let cache: SharedCache = Arc::new(
            RedisCache::connect(&redis, &prefix)
                .await
                .unwrap_or_else(|error| panic!("redis at {redis} ({error}): make services")),
        );
        replicas.push(Egress::new(support::egress_config(&emulator), cache));
    }
    let started = Instant::now();
    let posts: Vec<_> = (0..18)
        .map(|index| {
            let egress = replicas[index % 3].clone();
            tokio::spawn(async move {
                egress.create_message(seed::GENERAL_CHANNEL, &MessageData::text(&format!("post {index}"))).await
            })
        })
        .collect();
    for post in posts {
        post.await.expect("task").expect("posted");
    }
    let elapsed = started.elapsed();

    let requests: Vec<_> = emulator
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.route.as_deref() == Some(MESSAGES_ROUTE))
        .collect();
    let refused: Vec<_> = requests.iter().filter(|request| request.status == 429).collect();
    let log: Vec<(u64, u64, u16)> =
        requests.iter().map(|request| (request.seq, request.at_ms, request.status)).collect();
    assert!(refused.is_empty(), "no 429 from the channel's bucket: {log:?}");
    assert_eq!(requests.len(), 18, "every post once");
    // However the window is laid, it never holds more than the bucket allows.
    let times: Vec<u64> = requests.iter().map(|request| request.at_ms).collect();
    let window_ms = u64::try_from(WINDOW.as_millis()).unwrap();
    for (index, start) in times.iter().enumerate() {
        let within = times[index..].iter().take_while(|at| **at < start + window_ms).count();
        assert!(within <= LIMIT, "{within} posts within {WINDOW:?} from {start}: {times:?}");
    }
    assert!(elapsed >= WINDOW * 2, "18 posts at 5 per second take over 2 s: {elapsed:?}");
    emulator.stop().await;
}
