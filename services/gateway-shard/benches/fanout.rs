//! Gateway fan-out benchmark (`make bench`): dispatches from the Discord emulator's gateway,
//! through the `kalcord-gateway-shard` binary (release build, its own process), into JetStream
//! (real NATS) and out to a durable consumer that acknowledges each one.
//!
//! The emulator emits bursts of `GUILD_MEMBER_UPDATE` on one shard; the clock runs from the
//! burst until the consumer has acknowledged its last event. Prints events per second end to
//! end and the shard process's peak RSS; fails under 20,000 events/s or when an event is lost
//! or delivered twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kalcord_bus::{BusBackend, BusConfig, ConsumerSpec};
use kalcord_discord::gateway::{HEADER_SEQUENCE, STREAM, subject};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, GuildSeed, MemberSeed, UserSeed};
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::process::Spawned;

const GUILD: u64 = 41_771_983_423_143_937;
const EVENTS: usize = 200_000;
const RATE_TARGET: f64 = 20_000.0;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn drain(consumer: &mut kalcord_bus::Consumer, want: usize) -> (usize, usize) {
    let mut seen = HashSet::with_capacity(want);
    let mut total = 0;
    loop {
        // NOTE: after the last expected event, a short quiet period catches late duplicates.
        let wait = if seen.len() < want { Duration::from_secs(30) } else { Duration::from_millis(500) };
        let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, consumer.next()).await else {
            break;
        };
        total += 1;
        if let Some(sequence) = delivery.message.headers.get(HEADER_SEQUENCE) {
            seen.insert(sequence.clone());
        }
        delivery.ack().await.expect("ack");
    }
    (seen.len(), total)
}

#[tokio::main]
async fn main() {
    kalcord_test_util::install_crypto();
    let mut config = EmulatorConfig::default();
    let mut guild = GuildSeed::new(GUILD, "Fan-out", UserSeed::new(100, "owner"));
    for index in 0..1_000 {
        guild = guild.with_member(MemberSeed::new(UserSeed::new(10_000 + index, &format!("m{index}"))));
    }
    config.guilds.push(guild);
    config.gateway.replay_capacity = EVENTS + 10_000;
    let emulator = DiscordEmulator::start(config).await.expect("emulator");
    let state = emulator.state();
    let env = DistributedEnv::new(false).await.expect("environment");
    let app = emulator.application();
    let mut vars = env.vars();
    vars.extend([
        ("KALCORD_DISCORD_API_BASE".to_owned(), emulator.api_authority()),
        ("KALCORD_DISCORD_BOT_TOKEN".to_owned(), app.bot_token),
        ("KALCORD_DISCORD_APPLICATION_ID".to_owned(), app.id),
        ("KALCORD_TELEMETRY_LOG_FILTER".to_owned(), "warn".to_owned()),
    ]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-gateway-shard"));
    let shard = Spawned::start(binary, &[], &vars).await.expect("gateway-shard starts");
    shard.wait_ready(Duration::from_secs(30)).await.expect("shard active");

    let bus_config = BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: env.prefix().to_owned(),
        request_timeout: Duration::from_secs(5),
        stream_replicas: 1,
        token: None,
        url: kalcord_test_util::env::nats_url().parse().expect("NATS URL"),
    };
    let bus = kalcord_bus::connect(&bus_config, "fanout-bench").await.expect("bus");
    let mut spec = ConsumerSpec::new(STREAM, "fanout", subject("GUILD_MEMBER_UPDATE"));
    spec.max_in_flight = 4_096;
    let mut consumer = bus.consume(&spec).await.expect("consumer");

    state.emit_member_updates(GUILD, 2_000).expect("warm-up burst");
    let (warm, _) = drain(&mut consumer, 2_000).await;
    assert_eq!(warm, 2_000, "warm-up events all arrive");

    let started = Instant::now();
    state.emit_member_updates(GUILD, EVENTS).expect("burst");
    let (unique, total, elapsed) = {
        let (unique, total) = drain(&mut consumer, EVENTS).await;
        // NOTE: the quiet period is not part of the measured time.
        (unique, total, started.elapsed().saturating_sub(Duration::from_millis(500)))
    };
    let rate = unique as f64 / elapsed.as_secs_f64();
    let rss = shard.pid().map_or(0, peak_rss_kib);

    println!("gateway fan-out: {unique} events in {:.2} s -> {rate:.0} events/s end to end", elapsed.as_secs_f64());
    println!("gateway-shard peak RSS: {} MiB", rss / 1024);
    assert_eq!(unique, EVENTS, "every dispatch reached the consumer");
    assert_eq!(total, EVENTS, "no dispatch delivered twice");
    assert!(rate >= RATE_TARGET, "fan-out {rate:.0}/s is under the {RATE_TARGET:.0}/s target");
    drop(shard);
    let _ = bus.close().await;
    let _ = env.cleanup().await;
}
