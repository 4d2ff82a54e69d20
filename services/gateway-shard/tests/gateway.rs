//! The gateway-shard binary against the Discord emulator, real NATS JetStream and Redis:
//! resume after a crash without loss or duplicates, shards split between replicas within the
//! identify limits, a fresh identify after an invalid session, and readiness that tells why a
//! shard is down.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kalcord_bus::{BusBackend, BusConfig, ConsumerSpec, SharedBus};
use kalcord_discord::gateway::{HEADER_EVENT, HEADER_SEQUENCE, HEADER_SESSION, HEADER_SHARD, STREAM};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, GatewayAction, GuildSeed, MemberSeed, UserSeed};
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::eventually;
use kalcord_test_util::process::Spawned;

const GUILD: u64 = 41_771_983_423_143_937;
const MEMBERS: u64 = 20;

/// One received gateway event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    session: String,
    sequence: u64,
    shard: u32,
    event: String,
}

struct Harness {
    env: DistributedEnv,
    emulator: DiscordEmulator,
    bus: SharedBus,
}

impl Harness {
    async fn new(configure: impl FnOnce(&mut EmulatorConfig)) -> Self {
        kalcord_test_util::install_crypto();
        let mut config = EmulatorConfig::default();
        let owner = UserSeed::new(100, "owner");
        let mut guild = GuildSeed::new(GUILD, "Gateway Guild", owner);
        for index in 0..MEMBERS {
            guild = guild.with_member(MemberSeed::new(UserSeed::new(1000 + index, &format!("member{index}"))));
        }
        config.guilds.push(guild);
        config.gateway.identify_window = Duration::from_secs(1);
        configure(&mut config);
        let emulator = DiscordEmulator::start(config).await.expect("emulator starts");
        let env = DistributedEnv::new(false).await.expect("environment");
        let bus_config = BusConfig {
            backend: BusBackend::Nats,
            connect_timeout: Duration::from_secs(5),
            prefix: env.prefix().to_owned(),
            request_timeout: Duration::from_secs(5),
            stream_replicas: 1,
            token: None,
            url: kalcord_test_util::env::nats_url().parse().expect("NATS URL"),
        };
        let bus = kalcord_bus::connect(&bus_config, "gateway-test").await.expect("bus");
        Self { env, emulator, bus }
    }

    fn vars(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let app = self.emulator.application();
        let mut vars = self.env.vars();
        vars.extend([
            ("KALCORD_DISCORD_API_BASE".to_owned(), self.emulator.api_authority()),
            ("KALCORD_DISCORD_BOT_TOKEN".to_owned(), app.bot_token),
            ("KALCORD_DISCORD_APPLICATION_ID".to_owned(), app.id),
            ("KALCORD_GATEWAY_SHARD_IDENTIFY_DELAY".to_owned(), "1s".to_owned()),
        ]);
        vars.extend(extra.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())));
        vars
    }

    async fn spawn(&self, extra: &[(&str, &str)]) -> Spawned {
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-gateway-shard"));
        let process = Spawned::start(binary, &[], &self.vars(extra)).await.expect("gateway-shard starts");
        process.wait_ready(Duration::from_secs(30)).await.expect("every shard turns active");
        process
    }

    async fn consumer(&self, durable: &str, event: &str) -> kalcord_bus::Consumer {
        let spec = ConsumerSpec::new(STREAM, durable, kalcord_discord::gateway::subject(event));
        self.bus.consume(&spec).await.expect("consumer")
    }

    async fn cleanup(self) {
        let _ = self.bus.close().await;
        let _ = self.env.cleanup().await;
    }
}

/// Reads deliveries until `want` arrived, then `quiet` more time (to catch late duplicates).
async fn collect(consumer: &mut kalcord_bus::Consumer, want: usize, quiet: Duration) -> Vec<Seen> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let wait =
            if seen.len() >= want { quiet } else { deadline.saturating_duration_since(tokio::time::Instant::now()) };
        let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, consumer.next()).await else { break };
        let header = |name: &str| delivery.message.headers.get(name).cloned().unwrap_or_default();
        seen.push(Seen {
            session: header(HEADER_SESSION),
            sequence: header(HEADER_SEQUENCE).parse().expect("numeric sequence"),
            shard: header(HEADER_SHARD).parse().expect("numeric shard"),
            event: header(HEADER_EVENT),
        });
        delivery.ack().await.expect("ack");
    }
    seen
}

#[tokio::test]
async fn a_killed_shard_resumes_and_every_dispatch_arrives_once() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::new(|_| {}).await;
    let state = harness.emulator.state();
    let mut consumer = harness.consumer("resume-check", "GUILD_MEMBER_UPDATE").await;
    // NOTE: a long save interval: after the crash the shard resumes from the sequence saved right
    // after READY, so Discord replays everything published since; only the dedup ids keep those
    // replays from reaching the consumer a second time.
    let extra = [("KALCORD_GATEWAY_SHARD_PERSIST_INTERVAL", "10m")];
    let first = harness.spawn(&extra).await;

    state.emit_member_updates(GUILD, 300).expect("burst");
    let before = collect(&mut consumer, 300, Duration::ZERO).await;
    assert_eq!(before.len(), 300);

    // Mid-stream: a burst in flight, then SIGKILL, then more while nothing is connected.
    state.emit_member_updates(GUILD, 300).expect("burst");
    drop(first);
    eventually("the emulator to see the connection drop", || {
        std::future::ready(state.gateway_sessions().iter().all(|s| !s.connected))
    })
    .await;
    state.emit_member_updates(GUILD, 300).expect("burst");

    let second = harness.spawn(&extra).await;
    let after = collect(&mut consumer, 600, Duration::from_secs(2)).await;
    let all: Vec<Seen> = before.into_iter().chain(after).collect();
    let unique: BTreeSet<(String, u64)> = all.iter().map(|seen| (seen.session.clone(), seen.sequence)).collect();
    assert_eq!(unique.len(), all.len(), "no dispatch delivered twice");
    assert_eq!(all.len(), 900, "every dispatch delivered");
    let sessions: BTreeSet<&str> = all.iter().map(|seen| seen.session.as_str()).collect();
    assert_eq!(sessions.len(), 1, "the restarted shard resumed the same session");
    let accepted = state.identifies().iter().filter(|record| record.accepted).count();
    assert_eq!(accepted, 1, "no second IDENTIFY");

    // A graceful stop saves the session too: the next start resumes again.
    second.terminate(Duration::from_secs(15)).await.expect("clean exit");
    state.emit_member_updates(GUILD, 10).expect("burst");
    let third = harness.spawn(&extra).await;
    let last = collect(&mut consumer, 10, Duration::from_secs(1)).await;
    assert_eq!(last.len(), 10);
    assert!(last.iter().all(|seen| sessions.contains(seen.session.as_str())));
    assert_eq!(state.identifies().iter().filter(|record| record.accepted).count(), 1);
    drop(third);
    harness.cleanup().await;
}

#[tokio::test]
async fn two_replicas_split_four_shards_within_max_concurrency() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::new(|config| {
        config.shards = 4;
        config.max_concurrency = 2;
    })
    .await;
    let state = harness.emulator.state();
    let replicas = |index: &'static str| {
        [
            ("KALCORD_GATEWAY_SHARD_SHARDS", "4"),
            ("KALCORD_GATEWAY_SHARD_REPLICAS", "2"),
            ("KALCORD_GATEWAY_SHARD_REPLICA", index),
        ]
    };
    let (zero, one) = (replicas("0"), replicas("1"));
    let (a, b) = tokio::join!(harness.spawn(&zero), harness.spawn(&one));

    let sessions = state.gateway_sessions();
    let shards: Vec<[u32; 2]> = {
        let mut shards: Vec<_> = sessions.iter().filter(|s| s.connected).map(|s| s.shard).collect();
        shards.sort_unstable();
        shards
    };
    assert_eq!(shards, vec![[0, 4], [1, 4], [2, 4], [3, 4]], "each shard runs exactly once");

    let identifies = state.identifies();
    assert!(identifies.iter().all(|record| record.accepted), "no IDENTIFY refused: {identifies:?}");
    let mut by_key: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for record in &identifies {
        by_key.entry(record.rate_limit_key).or_default().push(record.at_unix_ms);
    }
    for times in by_key.values() {
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= 1000, "same-key identifies 1 s apart: {times:?}");
        }
    }

    // Each guild's events come from its own shard only.
    let mut consumer = harness.consumer("split-check", "GUILD_MEMBER_UPDATE").await;
    state.emit_member_updates(GUILD, 5).expect("burst");
    let seen = collect(&mut consumer, 5, Duration::from_millis(500)).await;
    let expected_shard = u32::try_from((GUILD >> 22) % 4).expect("small");
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|seen| seen.shard == expected_shard));
    drop((a, b));
    harness.cleanup().await;
}

#[tokio::test]
async fn an_invalid_session_leads_to_a_fresh_identify() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::new(|_| {}).await;
    let state = harness.emulator.state();
    let process = harness.spawn(&[]).await;
    let old = state.gateway_sessions().first().map(|session| session.session_id.clone()).expect("a session");

    assert_eq!(state.gateway_action(None, &GatewayAction::InvalidSession { resumable: false }), 1);
    eventually("a new session", || {
        std::future::ready(
            state.gateway_sessions().iter().any(|session| session.connected && session.session_id != old),
        )
    })
    .await;
    assert_eq!(state.identifies().iter().filter(|record| record.accepted).count(), 2);

    let mut consumer = harness.consumer("fresh-check", "GUILD_MEMBER_UPDATE").await;
    state.emit_member_updates(GUILD, 3).expect("burst");
    let seen = collect(&mut consumer, 3, Duration::from_millis(300)).await;
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|seen| seen.session != old), "events flow on the new session");
    drop(process);
    harness.cleanup().await;
}

#[tokio::test]
async fn readiness_says_why_a_shard_cannot_connect() {
    let _trace = kalcord_test_util::trace_init();
    // The application has not enabled the privileged Server Members Intent: close 4014.
    let harness = Harness::new(|config| config.application.privileged_intents = 0).await;
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-gateway-shard"));
    let process = Spawned::start(binary, &[], &harness.vars(&[])).await.expect("starts");
    let readyz = format!("{}/readyz", process.url("admin"));
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let body = loop {
        let response = http.get(&readyz).send().await.expect("admin answers");
        let status = response.status();
        let body = response.text().await.expect("body");
        if body.contains("Server Members Intent") {
            assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "no reason in /readyz: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(body.contains("shard 0"), "{body}");

    // Without the members intent the same application connects.
    let ok = harness.spawn(&[("KALCORD_GATEWAY_SHARD_MEMBERS_INTENT", "false")]).await;
    drop((process, ok));
    harness.cleanup().await;
}
