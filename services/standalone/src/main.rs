//! `kalcord`: every service in one process, plus operator tools.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;
use kalcord_standalone::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        None | Some(Command::Run) => kalcord_runtime::block_on_main(
            "kalcord",
            kalcord_standalone::run(&cli.config, kalcord_runtime::shutdown_signal()),
        ),
        Some(Command::Discord(command)) => discord(command, &cli.config),
        Some(Command::Sandbox(command)) => sandbox(command),
        Some(Command::Audit(command)) => audit(command, &cli.config),
        Some(Command::Ks(command)) => match kalcord_standalone::ks_command::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("kalcord ks: {err}");
                ExitCode::from(2)
            }
        },
    }
}

fn discord(
    command: &kalcord_standalone::discord_command::DiscordCommand,
    args: &kalcord_config::ConfigArgs,
) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(kalcord_standalone::discord_command::run(command, args, &mut std::io::stdout())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kalcord discord: {}", kalcord_runtime::chain(&err));
            ExitCode::from(2)
        }
    }
}

fn sandbox(command: &kalcord_standalone::sandbox_command::SandboxCommand) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(kalcord_standalone::sandbox_command::run(command, &mut std::io::stdout())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kalcord sandbox: {}", kalcord_runtime::chain(&err));
            ExitCode::from(2)
        }
    }
}

fn audit(command: &kalcord_standalone::audit_command::AuditCommand, args: &kalcord_config::ConfigArgs) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(kalcord_standalone::audit_command::run(command, args, &mut std::io::stdout())) {
        Ok(kalcord_standalone::audit_command::Verdict::Intact) => ExitCode::SUCCESS,
        Ok(kalcord_standalone::audit_command::Verdict::Broken { .. }) => ExitCode::from(1),
        Err(err) => {
            eprintln!("kalcord audit: {}", kalcord_runtime::chain(&err));
            ExitCode::from(2)
        }
    }
}
