//! Scale: 100k-member guilds, member batches, and dispatch bursts for benchmarks.

use std::time::{Duration, Instant};

use kalcord_discord_emulator::{GatewayAction, GuildSeed, MemberSeed, UserSeed, perms, seed};
use serde_json::{Value, json};

use super::common::{Harness, send};
use super::wsclient::Client;

const INTENTS: u64 = perms::INTENT_GUILDS | perms::INTENT_GUILD_MEMBERS;
/// User ids of generated members start here (below every generated snowflake, so the bot sorts last).
const FIRST_USER: u64 = 1_000_000;

fn members(range: std::ops::Range<u64>) -> Vec<MemberSeed> {
    range.map(|n| MemberSeed::new(UserSeed::new(FIRST_USER + n, &format!("member{n}")))).collect()
}

async fn connect(harness: &Harness, intents: u64) -> Client {
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, intents, None).await;
    client.until("GUILD_CREATE").await;
    client
}

fn user_ids(page: &Value) -> Vec<u64> {
    let page = page.as_array().expect("a page");
    page.iter().map(|member| member["user"]["id"].as_str().and_then(|id| id.parse().ok()).expect("id")).collect()
}

#[tokio::test]
async fn a_guild_of_100k_members_is_added_quickly_and_paged_by_user_id() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.application.privileged_intents |= perms::INTENT_GUILD_PRESENCES;
        config
    })
    .await;
    let mut client = connect(&harness, perms::INTENT_GUILDS | perms::INTENT_GUILD_PRESENCES).await;
    let big = 1_400_000_000_000_000_001;
    let mut guild = GuildSeed::new(big, "Big", UserSeed::new(FIRST_USER, "member0"));
    // NOTE: seeded in reverse with every tenth member twice, so the dedupe and the ordering both matter.
    guild.members = members(0..100_000).into_iter().rev().collect();
    guild.members.extend(members(0..100_000).into_iter().step_by(10));
    let started = Instant::now();
    harness.state().add_guild(&guild).expect("guild");
    let took = started.elapsed();
    tracing::info!(?took, "added a guild of 100k members");
    assert!(took < Duration::from_secs(3), "adding 100k members took {took:?}");

    let create = client.until("GUILD_CREATE").await;
    assert_eq!(create["d"]["member_count"], 100_001, "100k members and the bot");
    assert_eq!(create["d"]["members"].as_array().map(Vec::len), Some(1), "over 75k members: only the bot");

    let page = |after: u64| {
        let harness = &harness;
        async move { harness.bot("GET", &format!("/guilds/{big}/members?limit=1000&after={after}"), None).await.json() }
    };
    let started = Instant::now();
    let first = user_ids(&page(0).await);
    assert_eq!(first, (FIRST_USER..FIRST_USER + 1000).collect::<Vec<_>>());
    let middle = user_ids(&page(FIRST_USER + 49_999).await);
    assert_eq!(middle.first().copied(), Some(FIRST_USER + 50_000));
    assert_eq!(middle.len(), 1000);
    let last = user_ids(&page(FIRST_USER + 99_999).await);
    assert_eq!(last, [harness.app.bot_user_id.parse::<u64>().expect("bot id")]);
    tracing::info!(took = ?started.elapsed(), "three pages");
    harness.stop().await;
}

#[tokio::test]
async fn add_members_adds_a_batch_with_one_guild_member_add_each() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let mut client = connect(&harness, INTENTS).await;
    let batch = members(0..1000);
    state.add_members(seed::GUILD_ID, &batch).expect("batch");
    for (n, seed) in batch.iter().enumerate() {
        let add = client.recv().await;
        assert_eq!(add["t"], "GUILD_MEMBER_ADD");
        assert_eq!(add["s"].as_u64(), Some(3 + n as u64), "in order, numbered");
        assert_eq!(add["d"]["user"]["id"], seed.user.id.to_string());
        assert_eq!(add["d"]["guild_id"], seed::GUILD_ID.to_string());
    }
    let count = |guild: Value| guild["approximate_member_count"].as_u64();
    let path = format!("/guilds/{}?with_counts=true", seed::GUILD_ID);
    assert_eq!(count(harness.bot("GET", &path, None).await.json()), Some(1006));

    let request =
        json!({"op": 8, "d": {"guild_id": seed::GUILD_ID.to_string(), "query": "", "limit": 0, "nonce": "n1"}});
    client.send(request).await;
    for (index, size) in [(0, 1000), (1, 6)] {
        let chunk = client.until("GUILD_MEMBERS_CHUNK").await;
        assert_eq!((chunk["d"]["chunk_index"].as_u64(), chunk["d"]["chunk_count"].as_u64()), (Some(index), Some(2)));
        assert_eq!(chunk["d"]["members"].as_array().map(Vec::len), Some(size), "chunks of 1000");
        assert_eq!(chunk["d"]["nonce"], "n1");
    }

    let mut refused = members(1000..1010);
    refused[5] = refused[5].clone().with_role(999);
    assert!(state.add_members(seed::GUILD_ID, &refused).is_err(), "unknown role");
    assert_eq!(count(harness.bot("GET", &path, None).await.json()), Some(1006), "all or nothing");

    let url = format!("{}/_emulator/guilds/{}/members", harness.base, seed::GUILD_ID);
    let body = serde_json::to_value(members(2000..2003)).expect("json");
    assert_eq!(send(harness.http.post(url).json(&body)).await.status, 204, "the admin route takes a list");
    assert_eq!(count(harness.bot("GET", &path, None).await.json()), Some(1009));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_member_updates_reaches_50k_frames_per_second_and_stays_resumable() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let mut client = connect(&harness, INTENTS).await;
    let session_id = state.gateway_sessions()[0].session_id.clone();
    let count = 100_000;
    let started = Instant::now();
    state.emit_member_updates(seed::GUILD_ID, count).expect("burst");
    let queued = started.elapsed();
    let (first, frames) = client.count_text_frames(count, 7).await;
    // NOTE: the rate of the connection, from its first frame to its last (the burst is queued concurrently).
    let took = first.elapsed();
    let rate = (count - 1) as f64 / took.as_secs_f64();
    tracing::info!(?queued, ?took, rate, "burst delivered");
    assert!(rate >= 50_000.0, "{rate:.0} frames/s ({count} in {took:?})");

    let frames: Vec<Value> = frames.iter().map(|text| serde_json::from_str(text).expect("json")).collect();
    let mut sorted: Vec<String> = state.snapshot()["guilds"][0]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user"]["id"].as_str().expect("id").to_owned())
        .collect();
    sorted.sort_by_key(|id| id.parse::<u64>().expect("id"));
    for (n, frame) in frames.iter().take(7).enumerate() {
        assert_eq!((frame["t"].as_str(), frame["s"].as_u64()), (Some("GUILD_MEMBER_UPDATE"), Some(3 + n as u64)));
        assert_eq!(frame["d"]["user"]["id"].as_str(), Some(sorted[n % sorted.len()].as_str()), "cycles by user id");
        assert_eq!(frame["d"]["guild_id"], seed::GUILD_ID.to_string());
    }
    let last = frames[7]["s"].as_u64().expect("seq");
    assert_eq!(last, 2 + count as u64);
    assert_eq!(state.snapshot()["guilds"][0]["member_count"], 6, "no world change");

    state.gateway_action(Some(&session_id), &GatewayAction::Drop);
    assert_eq!(client.closed().await, None);
    let mut again = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    again.recv().await;
    let token = format!("Bot {}", harness.app.bot_token);
    again.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": last - 3}})).await;
    for seq in last - 2..=last {
        assert_eq!(again.recv().await["s"].as_u64(), Some(seq), "replayed from the buffer");
    }
    assert_eq!(again.recv().await["t"], "RESUMED");
    harness.stop().await;
}

#[tokio::test]
async fn bursts_over_the_admin_api() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let mut client = connect(&harness, INTENTS).await;
    let url = format!("{}/_emulator/guilds/{}/burst", harness.base, seed::GUILD_ID);
    assert_eq!(send(harness.http.post(&url).json(&json!({"count": 3}))).await.status, 204);
    for _ in 0..3 {
        assert_eq!(client.recv().await["t"], "GUILD_MEMBER_UPDATE");
    }
    assert_eq!(send(harness.http.post(&url).json(&json!({"count": 2_000_000}))).await.status, 400, "over the cap");
    let unknown = format!("{}/_emulator/guilds/999/burst", harness.base);
    assert_eq!(send(harness.http.post(unknown).json(&json!({"count": 1}))).await.status, 400);
    harness.stop().await;
}
