//! Memory: the standalone process on `make run`'s defaults, and every distributed service,
//! idle and after load.

use std::time::Duration;

use kalcord_discord_emulator::seed;
use kalcord_loadgen::Mode;
use kalcord_loadgen::interactions;
use kalcord_test_util::distributed::DistributedEnv;

use super::demo::{Emulators, FIRST_MEMBER};
use super::{Ctx, load, run_line};
use crate::procs::{self, Cores, Stats as _};
use crate::report::{Section, thousands};

const SERVICES: [&str; 6] = ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"];
const STANDALONE_TARGET_MIB: f64 = 60.0;
const SERVICE_TARGET_MIB: f64 = 30.0;
/// How long a process is left alone before its idle RSS is read.
const SETTLE: Duration = Duration::from_secs(5);

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `make run`: the standalone binary with nothing configured (SQLite, in-process bus, the
/// built-in Discord and Kaltura sandboxes).
async fn standalone(ctx: &Ctx, section: &mut Section) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let env = vec![
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    let kalcord = procs::start("kalcord", &[], &env, ctx.cores, "admin", Some(dir.path())).await?;
    tokio::time::sleep(SETTLE).await;
    let idle = mib(kalcord.rss_kib());
    section.runs.push(format!("standalone (`make run` defaults, sandboxes inside): {idle:.1} MiB RSS idle"));
    section.at_most(
        "Standalone process idle (`make run`: SQLite, in-process bus, built-in Discord and Kaltura sandboxes)"
            .to_owned(),
        format!("{idle:.1} MiB"),
        idle,
        STANDALONE_TARGET_MIB,
        " MiB",
        ctx.judge(),
    );
    procs::stop(kalcord).await;
    Ok(())
}

/// Every service its own process on PostgreSQL, NATS JetStream and Redis.
#[allow(clippy::too_many_lines)]
async fn distributed(ctx: &Ctx, section: &mut Section) -> anyhow::Result<()> {
    let members: u64 = ctx.pick(2_000, 200);
    let emulators = Emulators::start(members).await?;
    let env = DistributedEnv::new(true).await?;
    let data = tempfile::tempdir()?;
    let mut vars = env.vars();
    vars.extend(emulators.vars(data.path()));
    // NOTE: memory does not depend on placement; the services share every CPU here.
    let mut processes = Vec::new();
    for service in SERVICES {
        processes.push(procs::start(&format!("kalcord-{service}"), &[], &vars, Cores::SHARED, "admin", None).await?);
    }
    tokio::time::sleep(SETTLE).await;
    let idle: Vec<f64> = processes.iter().map(|process| mib(process.rss_kib())).collect();

    // Load: a live meeting, every member joining twice (new, then known), and a burst of
    // member updates through the gateway.
    let api = processes[0].url("api").to_owned();
    let meeting = emulators.live_meeting(&api, "Memory").await?;
    let rate: f64 = ctx.pick(400.0, 200.0);
    for label in ["new members", "known members"] {
        let requests = emulators.presses(&meeting, FIRST_MEMBER..FIRST_MEMBER + members)?;
        let duration = Duration::from_secs_f64(members as f64 / rate);
        let report = load(
            &format!("{api}/interactions"),
            Mode::Open { rate, connections: 256 },
            duration,
            requests,
            true,
            interactions::launch_link(),
        )
        .await?;
        section.runs.push(format!("distributed load, {}", run_line(label, &report)));
        section.check(report.failed() == 0, format!("distributed joins by {label}: {} failed", report.failed()));
    }
    let updates: usize = ctx.pick(20_000, 2_000);
    emulators.discord.state().emit_member_updates(seed::GUILD_ID, updates)?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    for ((service, process), idle) in SERVICES.iter().zip(&processes).zip(idle) {
        let (now, peak) = (mib(process.rss_kib()), mib(process.peak_kib()));
        section.runs.push(format!("{service}: {idle:.1} MiB idle, {now:.1} MiB after load, peak {peak:.1} MiB"));
        section.at_most(
            format!("{service} idle (distributed) → peak under load"),
            format!("{idle:.1} MiB → {peak:.1} MiB"),
            idle,
            SERVICE_TARGET_MIB,
            " MiB idle",
            ctx.judge(),
        );
    }
    for process in processes {
        procs::stop(process).await;
    }
    let _ = env.cleanup().await;
    emulators.stop().await;
    section.runs.push(format!(
        "distributed load: {} members joined twice over the api-gateway at {}/s, then {} GUILD_MEMBER_UPDATE dispatches",
        thousands(members as f64),
        thousands(rate),
        thousands(updates as f64)
    ));
    Ok(())
}

/// Runs the scenario.
///
/// # Errors
///
/// When a process does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let mut section = Section::new(
        "Memory",
        format!(
            "Resident set size (`VmRSS` of `/proc/PID/status`) of release binaries, read after {SETTLE:?} idle once \
             ready, and their peak (`VmHWM`) after load. Standalone: the `kalcord` binary with nothing configured, \
             as `make run` starts it (SQLite, in-process bus, the built-in Discord and Kaltura sandboxes inside the \
             process). Distributed: the six service binaries on PostgreSQL, NATS JetStream and Redis with the \
             emulators in the benchmark process; the load is every member of a guild pressing Join twice through \
             the api-gateway and a burst of member updates through the gateway shard."
        ),
    );
    standalone(ctx, &mut section).await?;
    distributed(ctx, &mut section).await?;
    Ok(section)
}
