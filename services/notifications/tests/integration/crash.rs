//! `kill -9` of the `kalcord-notifications` process in the middle of a burst of 500 events,
//! then a restart: every post appears exactly once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kalcord_discord_emulator::seed;
use kalcord_store::entity::notification_post::{self, PostState};
use kalcord_test_util::process::Spawned;
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

use super::common::{Harness, event, title};

const EVENTS: u32 = 500;
const KINDS: [(&str, &str); 5] = [
    ("scheduled", "Scheduled"),
    ("updated", "Updated"),
    ("started", "Live now"),
    ("ended", "Ended"),
    ("cancelled", "Cancelled"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_process_neither_loses_nor_duplicates_posts() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-notifications"));
    let first = Spawned::start(binary, &[], &h.vars()).await.expect("starts");
    first.wait_ready(Duration::from_secs(30)).await.expect("ready");

    let mut expected = BTreeMap::new();
    for n in 0..EVENTS {
        let (kind, label) = KINDS[(n % 5) as usize];
        let meeting = n / 5;
        let fields: &[&str] = if kind == "updated" { &["title"] } else { &[] };
        h.publish(&event(kind, seed::GUILD_ID, meeting, fields), false).await;
        *expected.entry(format!("{label}: Meeting {meeting}")).or_insert(0) += 1;
    }
    // Mid-burst: some posts made, most not.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.posts().len() < 100 {
        assert!(Instant::now() < deadline, "no progress: {} posts; stderr:\n{}", h.posts().len(), first.stderr().await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = first.pid();
    drop(first); // SIGKILL: no graceful shutdown, deliveries and requests in flight are cut.
    let at_kill = h.posts().len();
    assert!(at_kill < EVENTS as usize, "killed before the burst was over ({at_kill} posts)");
    tracing::info!(?pid, at_kill, "killed");

    let second = Spawned::start(binary, &[], &h.vars()).await.expect("restarts");
    second.wait_ready(Duration::from_secs(30)).await.expect("ready");
    h.settled(Duration::from_secs(120)).await;

    let mut seen = BTreeMap::new();
    for post in h.posts() {
        assert_eq!(post.channel_id, seed::GENERAL_CHANNEL);
        *seen.entry(title(&post)).or_insert(0) += 1;
    }
    let duplicated: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
    assert!(duplicated.is_empty(), "posted more than once: {duplicated:?}");
    assert_eq!(seen, expected, "every event posted exactly once");
    let sent = notification_post::Entity::find()
        .filter(notification_post::Column::State.eq(PostState::Sent))
        .count(h.store.connection())
        .await
        .unwrap();
    assert_eq!(sent, u64::from(EVENTS));
    let accepted =
        h.discord.state().requests().into_iter().filter(|request| request.method == "POST" && request.status == 200);
    let accepted = accepted.count();
    tracing::info!(at_kill, accepted, "posts Discord accepted (each one beyond 500 was answered by its nonce)");
    second.terminate(Duration::from_secs(15)).await.expect("stops on SIGTERM");
    h.stop().await;
}
