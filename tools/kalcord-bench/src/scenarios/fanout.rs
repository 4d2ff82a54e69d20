//! Gateway fan-out: dispatches from the Discord emulator's gateway through the
//! `kalcord-gateway-shard` binary into JetStream and out to a durable consumer.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kalcord_bus::ConsumerSpec;
use kalcord_discord::gateway::{HEADER_SEQUENCE, STREAM, subject};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, GuildSeed, MemberSeed, UserSeed};
use kalcord_test_util::distributed::DistributedEnv;

use super::{Ctx, nats_bus};
use crate::procs::{self, Stats as _};
use crate::report::{Section, median, thousands};

const GUILD: u64 = 41_771_983_423_143_937;
const RATE_TARGET: f64 = 20_000.0;
/// After the last expected event, a quiet period catches late duplicates (not timed).
const QUIET: Duration = Duration::from_millis(500);

async fn drain(consumer: &mut kalcord_bus::Consumer, want: usize) -> (usize, usize, Instant) {
    let mut seen = HashSet::with_capacity(want);
    let mut total = 0;
    let mut last = Instant::now();
    loop {
        let wait = if seen.len() < want { Duration::from_secs(30) } else { QUIET };
        let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, consumer.next()).await else {
            break;
        };
        total += 1;
        if let Some(sequence) = delivery.message.headers.get(HEADER_SEQUENCE) {
            seen.insert(sequence.clone());
        }
        let _ = delivery.ack().await;
        last = Instant::now();
    }
    (seen.len(), total, last)
}

/// Runs the scenario.
///
/// # Errors
///
/// When the shard or NATS does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let events: usize = ctx.pick(200_000, 20_000);
    let mut config = EmulatorConfig::default();
    let mut guild = GuildSeed::new(GUILD, "Fan-out", UserSeed::new(100, "owner"));
    for index in 0..1_000 {
        guild = guild.with_member(MemberSeed::new(UserSeed::new(10_000 + index, &format!("m{index}"))));
    }
    config.guilds.push(guild);
    config.gateway.replay_capacity = events + 10_000;
    let emulator = DiscordEmulator::start(config).await?;
    let state = emulator.state();
    let env = DistributedEnv::new(false).await?;
    let app = emulator.application();
    let mut vars = env.vars();
    vars.extend([
        ("KALCORD_DISCORD_API_BASE".to_owned(), emulator.api_authority()),
        ("KALCORD_DISCORD_BOT_TOKEN".to_owned(), app.bot_token),
        ("KALCORD_DISCORD_APPLICATION_ID".to_owned(), app.id),
        ("KALCORD_TELEMETRY_LOG_FILTER".to_owned(), "warn".to_owned()),
    ]);
    let shard = procs::start("kalcord-gateway-shard", &[], &vars, ctx.cores, "admin", None).await?;
    let bus = nats_bus(env.prefix(), "fanout-bench").await?;
    let mut spec = ConsumerSpec::new(STREAM, "fanout", subject("GUILD_MEMBER_UPDATE"));
    spec.max_in_flight = 4_096;
    let mut consumer = bus.consume(&spec).await?;
    let mut section = Section::new(
        "Gateway fan-out",
        format!(
            "{} `GUILD_MEMBER_UPDATE` dispatches per run, {} run(s), from the Discord emulator's gateway (benchmark \
             process) → the `kalcord-gateway-shard` binary (server core; one shard, zlib transport compression) → \
             JetStream on the machine's NATS (each dispatch stored with its dedup id) → a durable consumer in the \
             benchmark process acknowledging each one. The clock runs from the burst until the last \
             acknowledgement; every sequence number is checked to arrive exactly once.",
            thousands(events as f64),
            ctx.runs
        ),
    );
    state.emit_member_updates(GUILD, 2_000)?;
    let (warm, _, _) = drain(&mut consumer, 2_000).await;
    section.check(warm == 2_000, format!("warm-up: {warm} of 2,000 events arrived"));
    let mut rates = Vec::new();
    let mut cpu_us = Vec::new();
    for run in 0..ctx.runs {
        let cpu = shard.cpu_seconds();
        let started = Instant::now();
        state.emit_member_updates(GUILD, events)?;
        let (unique, total, last) = drain(&mut consumer, events).await;
        let elapsed = last.duration_since(started);
        let rate = unique as f64 / elapsed.as_secs_f64();
        let per_event = (shard.cpu_seconds() - cpu) / unique.max(1) as f64 * 1e6;
        section.runs.push(format!(
            "run {}: {unique} events in {:.2} s = {}/s end to end; {} deliveries; shard CPU {per_event:.1} µs/event",
            run + 1,
            elapsed.as_secs_f64(),
            thousands(rate),
            total
        ));
        section
            .check(unique == events, format!("run {}: {unique} of {events} dispatches reached the consumer", run + 1));
        section.check(
            total == unique,
            format!("run {}: {} dispatches delivered twice", run + 1, total.saturating_sub(unique)),
        );
        rates.push(rate);
        cpu_us.push(per_event);
    }
    let rate = median(&rates);
    section.at_least(
        "Gateway fan-out, emulator → gateway-shard → JetStream → consumer".to_owned(),
        format!(
            "{}/s; shard {:.1} µs CPU/event, peak RSS {:.1} MiB",
            thousands(rate),
            median(&cpu_us),
            shard.peak_kib() as f64 / 1024.0
        ),
        rate,
        RATE_TARGET,
        "/s",
        ctx.judge(),
    );
    procs::stop(shard).await;
    let _ = bus.close().await;
    let _ = env.cleanup().await;
    emulator.stop().await;
    Ok(section)
}
