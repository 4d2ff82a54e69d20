//! Which events post where, and that each posts once.

use std::time::Duration;

use kalcord_discord_emulator::{Fault, FaultAction, seed};
use kalcord_store::entity::notification_post::PostState;
use kalcord_store::repo::{guilds, notification_posts};

use super::common::{Harness, db, event, title};

const SETTLE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_kind_posts_once_to_the_guilds_channel() {
    let _trace = kalcord_test_util::trace_init();
    let mut h = Harness::new().await;
    h.start().await;
    let events = [
        event("scheduled", seed::GUILD_ID, 1, &[]),
        event("updated", seed::GUILD_ID, 1, &["scheduled_start_unix_ms", "scheduled_end_unix_ms"]),
        event("updated", seed::GUILD_ID, 1, &["description"]),
        event("started", seed::GUILD_ID, 1, &[]),
        event("ended", seed::GUILD_ID, 1, &[]),
        event("cancelled", seed::GUILD_ID, 2, &[]),
        event("reminder", seed::GUILD_ID, 3, &[]),
        recording_ready(seed::GUILD_ID, 3),
    ];
    for event in &events {
        h.publish(event, false).await;
    }
    h.settled(SETTLE).await;

    // NOTE: events are posted concurrently, so not necessarily in publishing order.
    let posts = h.posts();
    let mut titles: Vec<String> = posts.iter().map(title).collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Cancelled: Meeting 2",
            "Ended: Meeting 1",
            "Live now: Meeting 1",
            "Recording ready: Meeting 3",
            "Scheduled: Meeting 1",
            "Starting soon: Meeting 3",
            "Updated: Meeting 1"
        ],
        "a description change posts nothing"
    );
    assert!(posts.iter().all(|post| post.channel_id == seed::GENERAL_CHANNEL), "{posts:?}");
    let find = |wanted: &str| posts.iter().find(|post| title(post) == wanted).unwrap();
    let scheduled = find("Scheduled: Meeting 1");
    assert!(scheduled.embeds.to_string().contains("<t:1900000000:F>"), "{:?}", scheduled.embeds);
    let ended = find("Ended: Meeting 1").embeds.to_string();
    assert!(ended.contains("45 min") && ended.contains("Joined"), "{ended}");
    let recording = find("Recording ready: Meeting 3").embeds.to_string();
    assert!(
        recording.contains("https://kaltura.example/p/1/play/0_rec") && recording.contains("46 min"),
        "{recording}"
    );
    assert!(find("Starting soon: Meeting 3").embeds.to_string().contains("<t:1900000000:R>"));
    let conn = h.store.connection();
    let sent = notification_posts::get(conn, &events[0].event_id).await.unwrap().unwrap();
    assert_eq!((sent.state, sent.message_id), (PostState::Sent, Some(db(scheduled.message_id))));
    assert_eq!(sent.kind, "scheduled");
    assert!(notification_posts::get(conn, &events[2].event_id).await.unwrap().is_none(), "nothing claimed");
    h.stop().await;
}

/// A `recording_ready` event as the meetings service publishes it.
fn recording_ready(guild: u64, n: u32) -> kalcord_proto::v1::MeetingEvent {
    let mut ready = event("recording_ready", guild, n, &[]);
    ready.recording = Some(kalcord_proto::v1::Recording {
        entry_id: "0_rec".to_owned(),
        title: "Meeting 3 - Recording 1".to_owned(),
        duration_seconds: 45 * 60 + 30,
        url: "https://kaltura.example/p/1/play/0_rec".to_owned(),
        ..kalcord_proto::v1::Recording::default()
    });
    ready
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_event_delivered_twice_posts_once() {
    let _trace = kalcord_test_util::trace_init();
    let mut h = Harness::new().await;
    h.start().await;
    let started = event("started", seed::GUILD_ID, 1, &[]);
    h.publish(&started, false).await;
    h.publish(&started, true).await;
    h.settled(SETTLE).await;
    assert_eq!(h.posts().len(), 1, "{:?}", h.posts());

    // A crash after Discord created the message but before it was marked: the claimed row is
    // still pending; the redelivery sends the same nonce and Discord hands back the first
    // message.
    let conn = h.store.connection();
    let row = notification_posts::get(conn, &started.event_id).await.unwrap().unwrap();
    let ended = event("ended", seed::GUILD_ID, 1, &[]);
    h.publish(&ended, false).await;
    h.settled(SETTLE).await;
    let first = h.posts().last().unwrap().message_id;
    sea_orm::ConnectionTrait::execute_unprepared(
        conn,
        &format!(
            "UPDATE notification_post SET state = 'pending', message_id = NULL WHERE idempotency_key = '{}'",
            ended.event_id
        ),
    )
    .await
    .unwrap();
    h.publish(&ended, true).await;
    h.settled(SETTLE).await;
    assert_eq!(h.posts().len(), 2, "{:?}", h.posts());
    let again = notification_posts::get(conn, &ended.event_id).await.unwrap().unwrap();
    assert_eq!((again.state, again.message_id), (PostState::Sent, Some(db(first))));
    let ended_sent = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/messages"))
        .filter(|request| request.body.as_ref().is_some_and(|body| body["embeds"][0]["title"] == "Ended: Meeting 1"))
        .count();
    assert_eq!(ended_sent, 2, "the pending post was sent again (and deduplicated by its nonce)");
    assert_eq!(row.state, PostState::Sent);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_channel_or_an_inactive_guild_posts_nothing() {
    let _trace = kalcord_test_util::trace_init();
    let mut h = Harness::new().await;
    const QUIET: u64 = 1_310_000_000_000_000_001;
    const GONE: u64 = 1_310_000_000_000_000_002;
    h.guild(QUIET, None).await;
    h.guild(GONE, Some(seed::ANNOUNCEMENTS_CHANNEL)).await;
    assert!(guilds::bot_left(h.store.connection(), db(GONE)).await.unwrap());
    h.start().await;
    h.publish(&event("started", QUIET, 1, &[]), false).await;
    h.publish(&event("started", GONE, 2, &[]), false).await;
    // An unknown guild has no channel either.
    h.publish(&event("started", 1_310_000_000_000_000_003, 3, &[]), false).await;
    h.settled(SETTLE).await;
    assert!(h.posts().is_empty(), "{:?}", h.posts());
    assert!(h.discord.state().requests().iter().all(|request| request.method != "POST"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_503_delays_the_post_and_a_missing_channel_fails_it() {
    let _trace = kalcord_test_util::trace_init();
    let mut h = Harness::new().await;
    const LOST: u64 = 1_310_000_000_000_000_004;
    // A channel that no longer exists on Discord: 404 Unknown Channel.
    h.guild(LOST, Some(1_310_000_000_000_000_404)).await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    h.discord.state().add_fault(Fault::next(FaultAction::Status { status: 503 }).on("POST", &path).times(2));
    h.start().await;
    let started = event("started", seed::GUILD_ID, 1, &[]);
    let lost = event("started", LOST, 2, &[]);
    h.publish(&started, false).await;
    h.publish(&lost, false).await;
    h.settled(SETTLE).await;

    let posts = h.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!((posts[0].channel_id, title(&posts[0])), (seed::GENERAL_CHANNEL, "Live now: Meeting 1".to_owned()));
    let attempts = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with(&path))
        .map(|request| request.status)
        .collect::<Vec<_>>();
    assert_eq!(attempts, [503, 503, 200]);
    let conn = h.store.connection();
    assert_eq!(notification_posts::get(conn, &started.event_id).await.unwrap().unwrap().state, PostState::Sent);
    let failed = notification_posts::get(conn, &lost.event_id).await.unwrap().unwrap();
    assert_eq!((failed.state, failed.message_id), (PostState::Failed, None));
    h.stop().await;
}

/// Discord answers 429 (with `Retry-After`) and then 503 for a while, under a channel limit
/// shaped like Discord's (5 posts per window): two replicas deliver every post once, and the
/// channel never sees more than its limit in any window (the only 429s are the scripted ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limited_then_failing_discord_delays_posts_and_loses_none() {
    let _trace = kalcord_test_util::trace_init();
    const LIMIT: usize = 5;
    const WINDOW: Duration = Duration::from_secs(2);
    const POSTS: u32 = 15;
    let mut h = Harness::with_message_limit(kalcord_discord_emulator::BucketLimit::new(LIMIT as u32, WINDOW)).await;
    let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL);
    let state = h.discord.state();
    state.add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 1.0, global: false }).on("POST", &path).times(2),
    );
    state.add_fault(Fault::next(FaultAction::Status { status: 503 }).on("POST", &path).times(3));
    h.start().await;
    h.start().await;
    for n in 0..POSTS {
        h.publish(&event("started", seed::GUILD_ID, n, &[]), false).await;
    }
    h.settled(Duration::from_secs(90)).await;

    let mut titles: Vec<String> = h.posts().iter().map(title).collect();
    titles.sort();
    let mut expected: Vec<String> = (0..POSTS).map(|n| format!("Live now: Meeting {n}")).collect();
    expected.sort();
    assert_eq!(titles, expected, "every post once");
    let requests: Vec<_> = state
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with(&path))
        .collect();
    let statuses: Vec<u16> = requests.iter().map(|request| request.status).collect();
    assert_eq!(statuses.iter().filter(|status| **status == 429).count(), 2, "only the scripted 429s: {statuses:?}");
    assert_eq!(statuses.iter().filter(|status| **status == 503).count(), 3, "{statuses:?}");
    // NOTE: the posts the bucket counted (the emulator, like Discord, counts what it served: a
    // 429 is a refusal, and the scripted 503s never reached the bucket).
    let times: Vec<u64> =
        requests.iter().filter(|request| request.status == 200).map(|request| request.at_ms).collect();
    let window_ms = u64::try_from(WINDOW.as_millis()).unwrap();
    for (index, start) in times.iter().enumerate() {
        let within = times[index..].iter().take_while(|at| **at < start + window_ms).count();
        assert!(within <= LIMIT, "{within} posts within {WINDOW:?}: {times:?}");
    }
    h.stop().await;
}
