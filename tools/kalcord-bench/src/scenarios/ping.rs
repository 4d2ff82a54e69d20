//! PING at the edge, side by side with the bare actix-web + ed25519-dalek handler.

use std::time::Duration;

use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, InteractionSpec};
use kalcord_loadgen::interactions::{self, Signer};
use kalcord_loadgen::{Mode, Prepared};
use kalcord_test_util::distributed::DistributedEnv;

use super::{Ctx, load, run_line};
use kalcord_test_util::process::Spawned;

use crate::procs::{self, Stats as _};
use crate::report::{Section, median, ms, thousands};

const CONNECTIONS: usize = 64;
const KEY: [u8; 32] = [9; 32];
/// kalcord's edge must serve at least this share of the bare handler's PINGs.
const RATIO_TARGET: f64 = 90.0;

/// 64 arbitrary bytes in hex, different for each `n`: a signature that never verifies.
fn random_signature(n: u64) -> String {
    let mut bytes = [0u8; 64];
    for (index, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index as u64).to_le_bytes());
    }
    hex::encode(bytes)
}

/// A server measured, and what each run measured of it.
struct Subject {
    label: &'static str,
    proc: Spawned,
    url: String,
    rates: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    cpu_us: Vec<f64>,
}

impl Subject {
    fn new(label: &'static str, proc: Spawned) -> Self {
        let url = format!("{}/interactions", proc.url("api"));
        Self { label, proc, url, rates: vec![], p50: vec![], p99: vec![], cpu_us: vec![] }
    }
}

/// Runs the scenario.
///
/// # Errors
///
/// When a server does not start.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Section> {
    let duration = ctx.pick(Duration::from_secs(5), Duration::from_secs(1));
    let signer = Signer::new(KEY);
    let emulator = DiscordEmulator::start(EmulatorConfig::default()).await?;
    let payload = emulator.state().build_interaction(&InteractionSpec::ping())?;
    emulator.stop().await;

    let public_key = signer.public_key_hex();
    let args = ["--listen", "127.0.0.1:0", "--public-key", &public_key, "--workers", "1"];
    let bare = procs::start("kalcord-bare-pong", &args, &[], ctx.cores, "api", None).await?;
    let env = DistributedEnv::new(true).await?;
    let mut vars = env.vars();
    vars.extend([
        ("KALCORD_DISCORD_PUBLIC_KEY".to_owned(), signer.public_key_hex()),
        ("KALCORD_API_GATEWAY_WORKERS".to_owned(), "1".to_owned()),
        ("KALCORD_TELEMETRY_LOG_FILTER".to_owned(), "warn".to_owned()),
    ]);
    let edge = procs::start("kalcord-api-gateway", &[], &vars, ctx.cores, "admin", None).await?;
    let mut section = Section::new(
        "PING at the edge",
        format!(
            "Signed PINGs (the Discord emulator's payload, every field Discord sends; Ed25519 over timestamp + body) \
             posted by `kalcord-loadgen` in a closed loop over {CONNECTIONS} keep-alive connections for {duration:?}, \
             against the bare handler (`kalcord-bare-pong`: actix-web, one worker, `verify_strict`, PONG) and \
             against kalcord's edge (the `kalcord-api-gateway` binary, one worker, distributed mode on NATS and \
             Redis), alternately, {} run(s) each; both on the server core. CPU is the server process's user + \
             system time per answered request.",
            ctx.runs
        ),
    );
    let mut subjects = [Subject::new("bare handler", bare), Subject::new("kalcord api-gateway", edge)];
    // Warm-up: connections open, caches warm, before anything is measured.
    for subject in &subjects {
        let mode = Mode::Closed { connections: CONNECTIONS };
        let _ = load(
            &subject.url,
            mode,
            Duration::from_millis(500),
            vec![signer.sign(&payload)],
            false,
            interactions::pong(),
        )
        .await?;
    }
    for run in 0..ctx.runs {
        for subject in &mut subjects {
            let cpu = subject.proc.cpu_seconds();
            let mode = Mode::Closed { connections: CONNECTIONS };
            let report =
                load(&subject.url, mode, duration, vec![signer.sign(&payload)], false, interactions::pong()).await?;
            let cpu = subject.proc.cpu_seconds() - cpu;
            section.check(
                report.failed() == 0,
                format!("{}: every PING answered PONG ({} failed)", subject.label, report.failed()),
            );
            let per_request = if report.ok > 0 { cpu / report.ok as f64 * 1e6 } else { 0.0 };
            section.runs.push(format!(
                "run {} {}; server CPU {per_request:.1} µs/request",
                run + 1,
                run_line(subject.label, &report)
            ));
            subject.rates.push(report.throughput);
            subject.p50.push(report.latency.p50_ms);
            subject.p99.push(report.latency.p99_ms);
            subject.cpu_us.push(per_request);
        }
    }
    for subject in &subjects {
        section.info(
            format!("PING, {CONNECTIONS} connections — {}", subject.label),
            format!(
                "{}/s; p50 {}, p99 {}; {:.1} µs CPU/request",
                thousands(median(&subject.rates)),
                ms(median(&subject.p50)),
                ms(median(&subject.p99)),
                median(&subject.cpu_us)
            ),
        );
    }
    let ratio = median(&subjects[1].rates) / median(&subjects[0].rates).max(1.0) * 100.0;
    section.at_least(
        "PING throughput, kalcord ÷ bare handler".to_owned(),
        format!("{ratio:.1}%"),
        ratio,
        RATIO_TARGET,
        "%",
        ctx.judge(),
    );

    // Forged signatures: each costs one verification and no memory.
    let [bare, edge] = subjects;
    procs::stop(bare.proc).await;
    let forged: Vec<Prepared> = (0..ctx.pick(20_000u64, 2_000))
        .map(|n| {
            let mut prepared = signer.sign(&payload);
            prepared.headers[0].1 = random_signature(n).parse().expect("hex is a header value");
            prepared
        })
        .collect();
    let count = forged.len();
    let before = edge.proc.rss_kib();
    let report = load(
        &edge.url,
        Mode::Closed { connections: CONNECTIONS },
        Duration::from_secs(60),
        forged,
        true,
        kalcord_loadgen::status_is(401),
    )
    .await?;
    let grown = edge.proc.rss_kib().saturating_sub(before);
    section.runs.push(format!(
        "forged signatures: {}; edge RSS {} KiB before, grew {grown} KiB",
        run_line("kalcord api-gateway", &report),
        before
    ));
    section.check(
        report.ok == count as u64,
        format!("every forged signature refused with 401 ({} of {count})", report.ok),
    );
    section.at_most(
        format!("RSS growth over {} forged signatures (kalcord api-gateway)", thousands(count as f64)),
        format!("{grown} KiB"),
        grown as f64,
        2_048.0,
        " KiB",
        ctx.judge(),
    );
    procs::stop(edge.proc).await;
    let _ = env.cleanup().await;
    Ok(section)
}
