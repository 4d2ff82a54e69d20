//! `kalcord-kaltura-emulator`: the Kaltura emulator as a process (sandbox mode, manual tests).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kalcord_kaltura_emulator::{Emulator, EmulatorConfig, PartnerConfig};

/// Emulates Kaltura's `api_v3` server and a KAF host, in memory.
#[derive(Debug, Parser)]
#[command(name = "kalcord-kaltura-emulator", version)]
struct Args {
    /// Address to listen on (loopback unless you really mean it).
    #[arg(long, default_value = "127.0.0.1:7000")]
    listen: SocketAddr,
    /// A partner as `ID:ADMIN_SECRET[:USER_SECRET]`; repeatable. Prefer the environment variable
    /// KALCORD_EMULATOR_PARTNERS ("id:secret,id2:secret2") so secrets stay out of `ps`.
    #[arg(long = "partner", value_name = "ID:ADMIN_SECRET[:USER_SECRET]")]
    partners: Vec<String>,
    /// First delay between webhook delivery attempts, in milliseconds (doubles each time).
    #[arg(long, default_value_t = 1000)]
    webhook_retry_ms: u64,
    /// Webhook delivery attempts per notification.
    #[arg(long, default_value_t = 5)]
    webhook_attempts: u32,
    /// Delay between the status steps of a simulated recording, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    recording_step_ms: u64,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
    let from_env = std::env::var("KALCORD_EMULATOR_PARTNERS").unwrap_or_default();
    let specs = from_env.split(',').map(str::trim).filter(|spec| !spec.is_empty()).map(str::to_owned);
    let partners: Result<Vec<PartnerConfig>, String> =
        args.partners.iter().cloned().chain(specs).map(|spec| parse_partner(&spec)).collect();
    let partners = match partners {
        Ok(partners) => partners,
        Err(message) => {
            eprintln!("kalcord-kaltura-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    if !args.listen.ip().is_loopback() {
        tracing::warn!(listen = %args.listen, "listening beyond loopback: anyone who can reach it can mint sessions");
    }
    let config = EmulatorConfig {
        listen: args.listen,
        partners,
        webhook_retry_delay: Duration::from_millis(args.webhook_retry_ms),
        webhook_max_attempts: args.webhook_attempts,
        recording_step_delay: Duration::from_millis(args.recording_step_ms),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kalcord-kaltura-emulator: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(config));
    // NOTE: do not wait long for stragglers (an in-flight webhook, a hung request).
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

/// `ID:ADMIN_SECRET[:USER_SECRET]`.
fn parse_partner(spec: &str) -> Result<PartnerConfig, String> {
    let mut parts = spec.splitn(3, ':');
    let id = parts.next().unwrap_or_default().trim();
    let id: i64 =
        id.parse().ok().filter(|id| *id > 0).ok_or_else(|| format!("partner id {id:?} is not a positive integer"))?;
    let admin_secret =
        parts.next().filter(|secret| !secret.is_empty()).ok_or_else(|| format!("partner {id} has no admin secret"))?;
    let partner = PartnerConfig::new(id, admin_secret);
    Ok(match parts.next().filter(|secret| !secret.is_empty()) {
        Some(user_secret) => partner.with_user_secret(user_secret),
        None => partner,
    })
}

async fn run(config: EmulatorConfig) -> ExitCode {
    let partner_ids: Vec<i64> = config.partners.iter().map(|partner| partner.id).collect();
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("kalcord-kaltura-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening api {}", emulator.base_url());
    let _ = std::io::stdout().flush();
    tracing::info!(partners = ?partner_ids, base_url = %emulator.base_url(), "ready");
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

#[cfg(test)]
mod tests {
    use super::parse_partner;

    #[test]
    fn partner_specs() {
        let partner = parse_partner("1234567:admin:user").expect("valid");
        assert_eq!(
            (partner.id, partner.admin_secrets.clone(), partner.user_secret.as_str()),
            (1234567, vec!["admin".to_owned()], "user")
        );
        assert_eq!(parse_partner("7:with:colons:kept").expect("valid").user_secret, "colons:kept");
        assert!(parse_partner("x:secret").is_err());
        assert!(parse_partner("5").is_err());
        assert!(parse_partner("5:").is_err());
    }
}
