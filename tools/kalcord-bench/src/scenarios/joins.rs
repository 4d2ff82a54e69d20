//! The join storm and a realistic mix, against the standalone process.
//!
//! The `kalcord` binary runs on the server core on its embedded defaults (SQLite, in-process
//! bus, memory cache), talking to the Discord and Kaltura emulators in this process. The owner
//! starts a live meeting; then, each round, a fresh set of members presses Join once each at
//! an even offered rate (open loop) — first as members kalcord has never seen, then the same
//! members again, now known.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kalcord_discord_emulator::{InteractionKind, InteractionSpec};
use kalcord_kaltura_emulator::Emulator as KalturaEmulator;
use kalcord_loadgen::interactions;
use kalcord_loadgen::{Mode, Prepared};
use kalcord_test_util::process::Spawned;
use serde_json::{Value, json};

use super::demo::{Emulators, FIRST_MEMBER, Meeting, click, meeting_command};
use super::{Ctx, load, run_line};
use crate::procs::{self, Stats as _};
use crate::report::{Section, median, ms, thousands};

const STORM: Duration = Duration::from_secs(10);
const P99_TARGET: f64 = 100.0;

/// Kaltura requests since the last clear, by `service.action`, and the user ids of `user.add`.
fn kaltura_calls(kaltura: &KalturaEmulator) -> (BTreeMap<String, u64>, BTreeSet<String>) {
    let mut calls = BTreeMap::new();
    let mut added = BTreeSet::new();
    for request in kaltura.state().requests() {
        let name =
            format!("{}.{}", request.service.as_deref().unwrap_or("?"), request.action.as_deref().unwrap_or("?"));
        if name == "user.add" {
            let id = request.params.pointer("/user/id").and_then(Value::as_str).unwrap_or_default().to_owned();
            added.insert(id);
        }
        *calls.entry(name).or_insert(0) += 1;
    }
    (calls, added)
}

fn calls_text(calls: &BTreeMap<String, u64>) -> String {
    if calls.is_empty() {
        return "no Kaltura request".to_owned();
    }
    calls.iter().map(|(name, count)| format!("{count} × {name}")).collect::<Vec<_>>().join(", ")
}

struct System {
    emulators: Emulators,
    kalcord: Spawned,
    api: String,
    meeting: Meeting,
    _data: tempfile::TempDir,
}

async fn start(ctx: &Ctx, members: u64) -> anyhow::Result<System> {
    let emulators = Emulators::start(members).await?;
    let data = tempfile::tempdir()?;
    let mut env = emulators.vars(data.path());
    env.extend(
        [
            ("KALCORD_STORE_URL", format!("sqlite://{}/bench.db", data.path().display())),
            ("KALCORD_API_GATEWAY_LISTEN", "127.0.0.1:0".to_owned()),
            ("KALCORD_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("KALCORD_SANDBOX_DISCORD", "off".to_owned()),
            ("KALCORD_SANDBOX_KALTURA", "off".to_owned()),
        ]
        .map(|(key, value)| (key.to_owned(), value)),
    );
    let kalcord = procs::start("kalcord", &[], &env, ctx.cores, "admin", None).await?;
    let api = kalcord.url("api").to_owned();
    let meeting = emulators.live_meeting(&api, "Join storm").await?;
    Ok(System { emulators, kalcord, api, meeting, _data: data })
}

/// The mix: Join presses, `/meeting join`, `/meeting list`, autocomplete of a meeting, PINGs.
fn mix(system: &System, users: std::ops::Range<u64>) -> anyhow::Result<Vec<Prepared>> {
    let mut prepared = Vec::new();
    for (index, user) in users.enumerate() {
        let spec = match index % 20 {
            0..=11 => click(&system.meeting, user),
            12..=14 => meeting_command(user, json!({"type": 1, "name": "join", "options": []})),
            15..=17 => meeting_command(user, json!({"type": 1, "name": "list", "options": []})),
            18 => InteractionSpec {
                kind: InteractionKind::Autocomplete {
                    name: "meeting".to_owned(),
                    options: vec![json!({"type": 1, "name": "join", "options": [
                        {"type": 3, "name": "meeting", "value": "Jo", "focused": true}
                    ]})],
                },
                ..meeting_command(user, json!({}))
            },
            _ => InteractionSpec::ping(),
        };
        prepared.push(system.emulators.signed(&spec)?);
    }
    Ok(prepared)
}

/// Runs the join storm, the mix, and reports the standalone process's memory.
///
/// # Errors
///
/// When the system does not start.
#[allow(clippy::too_many_lines)]
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let members: u64 = ctx.pick(10_000, 500);
    let storm = ctx.pick(STORM, Duration::from_secs(1));
    let rate = members as f64 / storm.as_secs_f64();
    let rounds = ctx.runs as u64;
    let mix_rate: f64 = ctx.pick(1_000.0, 300.0);
    let mix_duration = ctx.pick(Duration::from_secs(10), Duration::from_secs(1));
    let mut section = Section::new(
        "Join storm and mix (standalone)",
        format!(
            "The `kalcord` binary (standalone: SQLite, in-process bus, memory cache) on the server core, the Discord \
             and Kaltura emulators in the benchmark process. The owner starts a live meeting; each of {rounds} \
             round(s), {} members kalcord has never seen press its Join button once each, offered at an even {}/s \
             (open loop: latency counts from when each press was due), then the same members press again, now \
             known. Each press is the emulator's payload (member with roles, channel, the meeting message with its \
             components, locale, entitlements), signed before the round. An answer counts when it is a 200 with \
             the member's personal launch link. Kaltura requests are read from the emulator's log. Then a mix \
             offered at {}/s for {mix_duration:?}: 60% Join presses, 15% `/meeting join`, 15% `/meeting list`, \
             5% autocomplete of `/meeting join meeting:`, 5% PING, by known members.",
            thousands(members as f64),
            thousands(rate),
            thousands(mix_rate),
        ),
    );
    let system = start(ctx, members * rounds).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_kib = system.kalcord.rss_kib();
    let (mut new_p99, mut known_p99, mut new_p50, mut known_p50, mut new_rate, mut known_rate) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let url = format!("{}/interactions", system.api);
    for round in 0..rounds {
        let users = FIRST_MEMBER + round * members..FIRST_MEMBER + (round + 1) * members;
        for known in [false, true] {
            let requests = system.emulators.presses(&system.meeting, users.clone())?;
            system.emulators.kaltura.state().clear_requests();
            let mode = Mode::Open { rate, connections: 512 };
            let report = load(&url, mode, storm, requests, true, interactions::launch_link()).await?;
            let (calls, added) = kaltura_calls(&system.emulators.kaltura);
            let label = if known { "known members" } else { "new members" };
            section.runs.push(format!(
                "round {} {}; Kaltura: {}",
                round + 1,
                run_line(label, &report),
                calls_text(&calls)
            ));
            section.check(
                report.failed() == 0 && report.ok == members,
                format!("round {}, {label}: every join answered with a link ({} of {members})", round + 1, report.ok),
            );
            if known {
                let total: u64 = calls.values().sum();
                section.check(
                    total == 0,
                    format!("round {}: known members' joins made {total} Kaltura requests", round + 1),
                );
                known_p99.push(report.latency.p99_ms);
                known_p50.push(report.latency.p50_ms);
                known_rate.push(report.throughput);
            } else {
                let adds = calls.get("user.add").copied().unwrap_or(0);
                let others: u64 = calls.iter().filter(|(name, _)| *name != "user.add").map(|(_, count)| count).sum();
                section.check(
                    adds == members && added.len() as u64 == members && others == 0,
                    format!("round {}: new members made {adds} user.add for {} distinct users and {others} other Kaltura requests (expected exactly one user.add per member)", round + 1, added.len()),
                );
                new_p99.push(report.latency.p99_ms);
                new_p50.push(report.latency.p50_ms);
                new_rate.push(report.throughput);
            }
        }
    }
    for (label, p50, p99, rates) in
        [("new", &new_p50, &new_p99, &new_rate), ("known", &known_p50, &known_p99, &known_rate)]
    {
        let p99 = median(p99);
        section.at_most(
            format!("Join storm, {} {label} members in {storm:?} — p99", thousands(members as f64)),
            format!("p99 {} (p50 {}); {}/s answered", ms(p99), ms(median(p50)), thousands(median(rates))),
            p99,
            P99_TARGET,
            " ms",
            ctx.judge(),
        );
    }

    // The most the process answers: known members pressing Join over 64 connections, closed loop.
    let mut pushed = Vec::new();
    for run in 0..ctx.runs {
        // NOTE: every press a new interaction (its own id), as Discord sends them; enough for the run.
        let presses: u64 = ctx.pick(50_000, 2_000);
        let requests = system.emulators.presses(&system.meeting, (0..presses).map(|n| FIRST_MEMBER + n % members))?;
        let report =
            load(&url, Mode::Closed { connections: 64 }, mix_duration / 2, requests, true, interactions::launch_link())
                .await?;
        section.runs.push(format!(
            "run {} {}",
            run + 1,
            run_line("known members, closed loop, 64 connections", &report)
        ));
        section.check(report.failed() == 0, format!("closed-loop joins: {} failed", report.failed()));
        pushed.push((report.throughput, report.latency.p99_ms));
    }
    let rates: Vec<f64> = pushed.iter().map(|(rate, _)| *rate).collect();
    let p99s: Vec<f64> = pushed.iter().map(|(_, p99)| *p99).collect();
    section.info(
        "Joins by known members, 64 connections, closed loop (the most one core answers)".to_owned(),
        format!("{}/s; p99 {}", thousands(median(&rates)), ms(median(&p99s))),
    );

    let requests = mix(&system, FIRST_MEMBER..FIRST_MEMBER + members.min(2_000))?;
    let mode = Mode::Open { rate: mix_rate, connections: 512 };
    let report = load(&url, mode, mix_duration, requests, false, interactions::any_response()).await?;
    section.runs.push(run_line("mix", &report));
    section.check(report.failed() == 0, format!("mix: every interaction answered ({} failed)", report.failed()));
    section.info(
        format!("Mix at {}/s offered", thousands(mix_rate)),
        format!(
            "p50 {}, p99 {}, max {}",
            ms(report.latency.p50_ms),
            ms(report.latency.p99_ms),
            ms(report.latency.max_ms)
        ),
    );

    let peak_kib = system.kalcord.peak_kib();
    section.info(
        "Standalone RSS: idle after start → peak under load (emulators outside the process)".to_owned(),
        format!("{:.1} MiB → {:.1} MiB", idle_kib as f64 / 1024.0, peak_kib as f64 / 1024.0),
    );
    procs::stop(system.kalcord).await;
    system.emulators.stop().await;
    Ok(section)
}
