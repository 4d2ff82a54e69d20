//! The gateway with a raw websocket client: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats, RESUME, op 7/9, closes.

use std::time::Duration;

use kalcord_discord_emulator::{GatewayAction, GuildSeed, UserSeed, perms, seed};
use serde_json::{Value, json};

use super::common::Harness;
use super::wsclient::Client;

const INTENTS: u64 = perms::INTENT_GUILDS | perms::INTENT_GUILD_MEMBERS | perms::INTENT_GUILD_SCHEDULED_EVENTS;

#[tokio::test]
async fn hello_identify_ready_guild_create_heartbeats_and_dispatches() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let gateway = harness.emulator.gateway_url();
    let mut client = Client::connect(&gateway, "v=10&encoding=json").await;
    let hello = client.recv().await;
    assert_eq!((hello["op"].as_u64(), hello["d"]["heartbeat_interval"].as_u64()), (Some(10), Some(41_250)));
    assert!(hello["s"].is_null() && hello["t"].is_null());
    client.identify(&harness.app.bot_token, INTENTS, None).await;
    let ready = client.recv().await;
    assert_eq!((ready["op"].as_u64(), ready["t"].as_str(), ready["s"].as_u64()), (Some(0), Some("READY"), Some(1)));
    let d = &ready["d"];
    assert_eq!(d["v"], 10);
    assert_eq!(d["user"]["id"], harness.app.bot_user_id);
    assert_eq!(d["guilds"], json!([{"id": seed::GUILD_ID.to_string(), "unavailable": true}]));
    assert_eq!(d["resume_gateway_url"], gateway);
    assert_eq!(d["shard"], json!([0, 1]));
    assert_eq!(d["application"]["id"], harness.app.id);
    assert!(d["session_id"].as_str().is_some_and(|id| !id.is_empty()));
    let create = client.recv().await;
    assert_eq!((create["t"].as_str(), create["s"].as_u64()), (Some("GUILD_CREATE"), Some(2)));
    assert_eq!(create["d"]["members"].as_array().map(Vec::len), Some(1), "only the bot without GUILD_PRESENCES");
    assert_eq!(create["d"]["channels"].as_array().map(Vec::len), Some(4));
    assert_eq!(create["d"]["member_count"], 6);
    client.send(json!({"op": 1, "d": 2})).await;
    assert_eq!(client.recv().await["op"], 11);
    assert_eq!(harness.state().gateway_action(None, &GatewayAction::RequestHeartbeat), 1);
    assert_eq!(client.recv().await["op"], 1);
    client.send(json!({"op": 1, "d": 2})).await;
    assert_eq!(client.recv().await["op"], 11);
    assert_eq!(harness.state().gateway_sessions()[0].heartbeats, 2);
    harness.state().add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).expect("role");
    let update = client.until("GUILD_MEMBER_UPDATE").await;
    assert_eq!(update["s"], 3);
    assert_eq!(update["d"]["guild_id"], seed::GUILD_ID.to_string());
    assert!(update["d"]["roles"].as_array().expect("roles").contains(&json!(seed::STUDENT_ROLE.to_string())));
    harness.stop().await;
}

async fn close_code(harness: &Harness, query: &str, payloads: Vec<Value>) -> Option<u16> {
    let mut client = Client::connect(&harness.emulator.gateway_url(), query).await;
    if !query.contains("v=6") {
        assert_eq!(client.recv().await["op"], 10);
    }
    for payload in payloads {
        client.send(payload).await;
    }
    client.closed().await
}

#[tokio::test]
async fn identify_and_protocol_errors_close_with_discord_codes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.gateway.events_per_minute = 5;
        config
    })
    .await;
    let token = format!("Bot {}", harness.app.bot_token);
    let identify = |token: &str, intents: u64, shard: Value| json!({"op": 2, "d": {"token": token, "intents": intents, "shard": shard, "properties": {}}});
    let q = "v=10&encoding=json";
    assert_eq!(close_code(&harness, q, vec![identify("Bot nope", 1, Value::Null)]).await, Some(4004));
    assert_eq!(close_code(&harness, q, vec![identify(&token, 1 << 18, Value::Null)]).await, Some(4013));
    assert_eq!(
        close_code(&harness, q, vec![identify(&token, perms::INTENT_GUILD_PRESENCES, Value::Null)]).await,
        Some(4014)
    );
    assert_eq!(close_code(&harness, q, vec![identify(&token, 1, json!([2, 2]))]).await, Some(4010));
    assert_eq!(close_code(&harness, q, vec![json!({"op": 3, "d": {}})]).await, Some(4003));
    assert_eq!(close_code(&harness, q, vec![json!({"op": 99, "d": null})]).await, Some(4001));
    assert_eq!(close_code(&harness, q, vec![json!({"op": 1, "d": "x".repeat(5000)})]).await, Some(4002));
    let heartbeats = (0..6).map(|_| json!({"op": 1, "d": null})).collect();
    assert_eq!(close_code(&harness, q, heartbeats).await, Some(4008));
    let twice = vec![identify(&token, 1, Value::Null), identify(&token, 1, Value::Null)];
    assert_eq!(close_code(&harness, q, twice).await, Some(4005));
    assert_eq!(close_code(&harness, "v=6&encoding=json", Vec::new()).await, Some(4012));
    let mut raw = Client::connect(&harness.emulator.gateway_url(), q).await;
    raw.recv().await;
    raw.send_text("{not json").await;
    assert_eq!(raw.closed().await, Some(4002));
    harness.stop().await;
}

#[tokio::test]
async fn resume_replays_missed_dispatches_then_resumed() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, INTENTS, None).await;
    let ready = client.until("READY").await;
    let session_id = ready["d"]["session_id"].as_str().expect("session").to_owned();
    let resume_url = ready["d"]["resume_gateway_url"].as_str().expect("url").to_owned();
    let last = client.until("GUILD_CREATE").await["s"].as_u64().expect("seq");
    assert_eq!(state.gateway_action(Some(&session_id), &GatewayAction::Drop), 1);
    assert_eq!(client.closed().await, None, "a TCP drop has no close frame");
    state.add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).expect("role");
    state.remove_member(seed::GUILD_ID, seed::STUDENT2_ID).expect("remove");
    assert!(state.gateway_sessions().iter().any(|session| session.session_id == session_id && !session.connected));
    let mut again = Client::connect(&resume_url, "v=10&encoding=json").await;
    assert_eq!(again.recv().await["op"], 10);
    let token = format!("Bot {}", harness.app.bot_token);
    again.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": last}})).await;
    let first = again.recv().await;
    assert_eq!((first["t"].as_str(), first["s"].as_u64()), (Some("GUILD_MEMBER_UPDATE"), Some(last + 1)));
    let second = again.recv().await;
    assert_eq!((second["t"].as_str(), second["s"].as_u64()), (Some("GUILD_MEMBER_REMOVE"), Some(last + 2)));
    let resumed = again.recv().await;
    assert_eq!((resumed["t"].as_str(), resumed["s"].as_u64()), (Some("RESUMED"), Some(last + 3)));
    again.close(1000).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(state.gateway_sessions().is_empty(), "1000 ends the session");
    let mut third = Client::connect(&resume_url, "v=10&encoding=json").await;
    third.recv().await;
    third.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": last + 3}})).await;
    assert_eq!(third.recv().await, json!({"t": null, "s": null, "op": 9, "d": false}));
    harness.stop().await;
}

#[tokio::test]
async fn scripted_reconnect_invalid_session_and_close_codes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.gateway.identify_window = Duration::ZERO;
        config
    })
    .await;
    let state = harness.state();
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, INTENTS, None).await;
    client.until("GUILD_CREATE").await;
    state.gateway_action(None, &GatewayAction::Reconnect);
    assert_eq!(client.recv().await, json!({"t": null, "s": null, "op": 7, "d": null}));
    state.gateway_action(None, &GatewayAction::InvalidSession { resumable: true });
    assert_eq!(client.recv().await["d"], true);
    state.gateway_action(None, &GatewayAction::Close { code: 4000 });
    assert_eq!(client.closed().await, Some(4000));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(state.gateway_sessions().iter().all(|session| !session.connected), "4000 keeps the session resumable");
    assert_eq!(state.gateway_sessions().len(), 1);
    let mut other = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    other.recv().await;
    other.identify(&harness.app.bot_token, INTENTS, None).await;
    other.until("GUILD_CREATE").await;
    state.gateway_action(None, &GatewayAction::InvalidSession { resumable: false });
    assert_eq!(other.recv().await["d"], false);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(state.gateway_sessions().len(), 1, "op 9 false forgets the session");
    harness.stop().await;
}

#[tokio::test]
async fn shards_route_guilds_and_intents_filter_events() {
    let _trace = kalcord_test_util::trace_init();
    let second_guild: u64 = seed::GUILD_ID + (1 << 22);
    let harness = Harness::with(|mut config| {
        config.shards = 2;
        config.max_concurrency = 2;
        config.application.privileged_intents |= perms::INTENT_GUILD_PRESENCES;
        config.guilds.push(GuildSeed::new(second_guild, "Other", UserSeed::new(77, "other-owner")));
        config
    })
    .await;
    let first_shard = u32::try_from((seed::GUILD_ID >> 22) % 2).expect("shard");
    let gateway = harness.emulator.gateway_url();
    let mut mine = Client::connect(&gateway, "v=10&encoding=json").await;
    mine.recv().await;
    mine.identify(&harness.app.bot_token, perms::INTENT_GUILDS | perms::INTENT_GUILD_PRESENCES, Some([first_shard, 2]))
        .await;
    let ready = mine.until("READY").await;
    assert_eq!(ready["d"]["guilds"], json!([{"id": seed::GUILD_ID.to_string(), "unavailable": true}]));
    let create = mine.until("GUILD_CREATE").await;
    assert_eq!(create["d"]["members"].as_array().map(Vec::len), Some(6), "GUILD_PRESENCES: every member");
    let mut other = Client::connect(&gateway, "v=10&encoding=json").await;
    other.recv().await;
    other.identify(&harness.app.bot_token, perms::INTENT_GUILDS, Some([1 - first_shard, 2])).await;
    assert_eq!(other.until("GUILD_CREATE").await["d"]["id"], second_guild.to_string());
    let state = harness.state();
    state.add_member_role(seed::GUILD_ID, seed::MEMBER_ID, seed::STUDENT_ROLE).expect("role");
    state
        .add_role(seed::GUILD_ID, &kalcord_discord_emulator::RoleSeed::new(1_284_000_000_000_000_777, "Tutor", 0))
        .expect("role");
    let role = mine.recv().await;
    assert_eq!(role["t"], "GUILD_ROLE_CREATE", "no GUILD_MEMBER_UPDATE without GUILD_MEMBERS");
    assert_eq!(role["d"]["role"]["name"], "Tutor");
    state
        .add_role(second_guild, &kalcord_discord_emulator::RoleSeed::new(1_284_000_000_000_000_778, "Elsewhere", 0))
        .expect("role");
    assert_eq!(other.recv().await["d"]["role"]["name"], "Elsewhere", "the other shard sees only its guild");
    let keys: Vec<(u32, bool)> =
        state.identifies().iter().map(|record| (record.rate_limit_key, record.accepted)).collect();
    assert_eq!(keys, [(first_shard, true), (1 - first_shard, true)], "max_concurrency 2: one bucket per shard");
    harness.stop().await;
}

#[tokio::test]
async fn zlib_stream_compression() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json&compress=zlib-stream").await;
    assert_eq!(client.recv().await["op"], 10);
    client.identify(&harness.app.bot_token, INTENTS, None).await;
    assert_eq!(client.recv().await["t"], "READY");
    assert_eq!(client.recv().await["t"], "GUILD_CREATE");
    harness.stop().await;
}

#[tokio::test]
async fn identify_concurrency_limit_answers_op_9_false_and_is_recorded() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    let gateway = harness.emulator.gateway_url();
    let mut first = Client::connect(&gateway, "v=10&encoding=json").await;
    first.recv().await;
    first.identify(&harness.app.bot_token, INTENTS, None).await;
    first.until("READY").await;
    let mut second = Client::connect(&gateway, "v=10&encoding=json").await;
    second.recv().await;
    second.identify(&harness.app.bot_token, INTENTS, Some([0, 1])).await;
    assert_eq!(second.recv().await, json!({"t": null, "s": null, "op": 9, "d": false}), "within Discord's 5 s");
    assert_eq!(state.gateway_sessions().len(), 1, "no session started");
    let records = state.identifies();
    let seen: Vec<([u32; 2], u32, bool)> =
        records.iter().map(|record| (record.shard, record.rate_limit_key, record.accepted)).collect();
    assert_eq!(seen, [([0, 1], 0, true), ([0, 1], 0, false)]);
    assert!(records[1].at_unix_ms >= records[0].at_unix_ms);
    let limit = |bot: Value| bot["session_start_limit"]["remaining"].as_u64();
    assert_eq!(limit(harness.bot("GET", "/gateway/bot", None).await.json()), Some(999), "only accepted ones count");

    state.advance_clock(Duration::from_secs(5));
    second.identify(&harness.app.bot_token, INTENTS, Some([0, 1])).await;
    assert_eq!(second.until("READY").await["s"], 1, "the window passed: a session starts on the same socket");
    assert_eq!(state.gateway_sessions().len(), 2);
    assert_eq!(limit(harness.bot("GET", "/gateway/bot", None).await.json()), Some(998));
    let url = format!("{}/_emulator/gateway/identifies", harness.base);
    let listed = super::common::send(harness.http.get(url)).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    assert_eq!(listed[2]["accepted"], true);
    assert_eq!((listed[1]["shard"].clone(), listed[1]["rate_limit_key"].as_u64()), (json!([0, 1]), Some(0)));
    assert!(listed[1]["at_unix_ms"].is_u64());
    harness.stop().await;
}
