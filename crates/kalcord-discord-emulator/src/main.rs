//! `kalcord-discord-emulator`: the Discord emulator as a process (sandbox mode, manual tests).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, ValidatorConfig, seed};
use url::Url;

/// Emulates Discord (REST v10, gateway, interactions, OAuth2) in memory.
#[derive(Debug, Parser)]
#[command(name = "kalcord-discord-emulator", version)]
struct Args {
    /// REST/OAuth2/admin address (loopback only).
    #[arg(long, default_value = "127.0.0.1:7100")]
    listen: SocketAddr,
    /// Gateway websocket address (default: the REST port + 1).
    #[arg(long)]
    gateway_listen: Option<SocketAddr>,
    /// Interactions Endpoint URL the sender POSTs to.
    #[arg(long)]
    interactions_url: Option<Url>,
    /// World to start with: `empty` or `demo`.
    #[arg(long, default_value = "empty")]
    seed: String,
    /// Shards answered by /gateway/bot.
    #[arg(long, default_value_t = 1)]
    shards: u32,
    /// Validate request bodies with this validator script (`tests/fidelity/discord/validator.mjs`).
    #[arg(long)]
    validator: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
    let config = match config(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("kalcord-discord-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kalcord-discord-emulator: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(config));
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

fn config(args: &Args) -> Result<EmulatorConfig, String> {
    if !args.listen.ip().is_loopback() {
        return Err(format!("--listen {} is not a loopback address", args.listen));
    }
    let gateway_listen = match args.gateway_listen {
        Some(addr) => addr,
        None if args.listen.port() == 0 => SocketAddr::new(args.listen.ip(), 0),
        None => SocketAddr::new(args.listen.ip(), args.listen.port().saturating_add(1)),
    };
    if !gateway_listen.ip().is_loopback() {
        return Err(format!("--gateway-listen {gateway_listen} is not a loopback address"));
    }
    let guilds = match args.seed.as_str() {
        "empty" => Vec::new(),
        "demo" => vec![seed::demo_guild()],
        other => return Err(format!("unknown seed {other:?} (empty, demo)")),
    };
    Ok(EmulatorConfig {
        listen: args.listen,
        gateway_listen,
        guilds,
        shards: args.shards.max(1),
        interactions_url: args.interactions_url.clone(),
        validator: args.validator.clone().map(ValidatorConfig::new),
        ..EmulatorConfig::default()
    })
}

async fn run(config: EmulatorConfig) -> ExitCode {
    let emulator = match DiscordEmulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("kalcord-discord-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let app = emulator.application();
    println!("listening api {}", emulator.api_base());
    println!("listening gateway {}", emulator.gateway_url());
    println!("application id {}", app.id);
    println!("public key {}", app.public_key_hex);
    println!("bot token {}", app.bot_token);
    println!("client secret {}", app.client_secret);
    let _ = std::io::stdout().flush();
    wait_for_signal().await;
    tracing::info!("stopping");
    emulator.stop().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
