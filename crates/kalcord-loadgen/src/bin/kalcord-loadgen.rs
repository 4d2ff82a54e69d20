//! `kalcord-loadgen`: sends pre-signed interactions or Kaltura notifications to a URL at a fixed
//! concurrency (closed loop) or a fixed offered rate (open loop) and reports throughput, latency
//! percentiles and failures (as text, or JSON with `--json`).
//!
//! ```text
//! kalcord-loadgen ping    --url http://127.0.0.1:8080/interactions --key-hex SEED --connections 64 --duration 10s
//! kalcord-loadgen replay  --url http://127.0.0.1:8080/interactions --key-hex SEED --payloads clicks.jsonl --rate 1000 --once
//! kalcord-loadgen webhook --url http://127.0.0.1:8080/webhooks/kaltura/default --secret ADMIN_SECRET --partner-id 4200001 --rate 2000
//! ```

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, InteractionSpec};
use kalcord_loadgen::interactions::{self, Signer};
use kalcord_loadgen::{Check, Mode, Plan, Prepared, run, status_is, webhooks};
use url::Url;

#[derive(Debug, Parser)]
#[command(name = "kalcord-loadgen", about = "Load generator for kalcord's interaction and webhook endpoints")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Signed PINGs (every field Discord sends), expecting PONG.
    Ping {
        #[command(flatten)]
        load: Load,
        /// The application's private key seed, 64 hex digits.
        #[arg(long, env = "KALCORD_LOADGEN_KEY_HEX", hide_env_values = true)]
        key_hex: String,
    },
    /// Interaction payloads from a file (one JSON object per line, as Discord sent them), each
    /// signed ahead of the run.
    Replay {
        #[command(flatten)]
        load: Load,
        /// The application's private key seed, 64 hex digits.
        #[arg(long, env = "KALCORD_LOADGEN_KEY_HEX", hide_env_values = true)]
        key_hex: String,
        /// JSON Lines file of interaction payloads.
        #[arg(long)]
        payloads: PathBuf,
        /// Which answers count.
        #[arg(long, value_enum, default_value_t = Expect::Response)]
        expect: Expect,
    },
    /// Kaltura "entry ready" HTTP notifications, each with its own job id, signed with SHA-256.
    Webhook {
        #[command(flatten)]
        load: Load,
        /// The partner's admin secret (signs the notification).
        #[arg(long, env = "KALCORD_LOADGEN_KALTURA_SECRET", hide_env_values = true)]
        secret: String,
        /// The partner id in the notifications.
        #[arg(long)]
        partner_id: i64,
        /// How many distinct notifications to prepare.
        #[arg(long, default_value_t = 100_000)]
        count: i64,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Expect {
    /// A 200 interaction response of any type.
    Response,
    /// A response with a link button (a Join's personal launch link).
    Link,
    /// PONG.
    Pong,
}

#[derive(Debug, Args)]
struct Load {
    /// Target, `http://127.0.0.1:PORT/PATH`.
    #[arg(long)]
    url: Url,
    /// Open loop: requests per second offered, whatever the target does.
    #[arg(long, conflicts_with = "connections")]
    rate: Option<f64>,
    /// Closed loop: concurrent connections (also the most in flight in an open loop).
    #[arg(long)]
    connections: Option<usize>,
    /// How long the run lasts.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Send each prepared request at most once (the run ends when they are used up).
    #[arg(long)]
    once: bool,
    /// Longest wait for one answer.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl Load {
    fn mode(&self) -> Mode {
        match self.rate {
            Some(rate) => Mode::Open { rate, connections: self.connections.unwrap_or(256) },
            None => Mode::Closed { connections: self.connections.unwrap_or(64) },
        }
    }
}

async fn ping_payload() -> anyhow::Result<serde_json::Value> {
    let emulator = DiscordEmulator::start(EmulatorConfig::default()).await?;
    let payload = emulator.state().build_interaction(&InteractionSpec::ping())?;
    emulator.stop().await;
    Ok(payload)
}

fn read_payloads(path: &PathBuf, signer: &Signer) -> anyhow::Result<Vec<Prepared>> {
    let file = std::fs::File::open(path).map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    let mut prepared = Vec::new();
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let payload: serde_json::Value = serde_json::from_str(&line)
            .map_err(|error| anyhow::anyhow!("{} line {}: not JSON: {error}", path.display(), number + 1))?;
        prepared.push(signer.sign(&payload));
    }
    Ok(prepared)
}

async fn main_async(cli: Cli) -> anyhow::Result<bool> {
    let (load, requests, check): (Load, Vec<Prepared>, Check) = match cli.scenario {
        Scenario::Ping { load, key_hex } => {
            let signer = Signer::from_hex(&key_hex)?;
            (load, vec![signer.sign(&ping_payload().await?)], interactions::pong())
        }
        Scenario::Replay { load, key_hex, payloads, expect } => {
            let signer = Signer::from_hex(&key_hex)?;
            let check = match expect {
                Expect::Response => interactions::any_response(),
                Expect::Link => interactions::launch_link(),
                Expect::Pong => interactions::pong(),
            };
            (load, read_payloads(&payloads, &signer)?, check)
        }
        Scenario::Webhook { load, secret, partner_id, count } => {
            let requests = (1..=count.max(1)).map(|job| webhooks::entry_ready(partner_id, job, &secret)).collect();
            (load, requests, status_is(200))
        }
    };
    let plan = Plan {
        url: load.url.clone(),
        mode: load.mode(),
        duration: load.duration,
        requests: Arc::from(requests),
        once: load.once,
        check,
        timeout: load.timeout,
    };
    let report = run(plan).await?;
    if load.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(report.failed() == 0)
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kalcord-loadgen: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main_async(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("kalcord-loadgen: {error}");
            ExitCode::from(2)
        }
    }
}
