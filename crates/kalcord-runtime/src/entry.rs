//! Process entry points: flags, configuration, telemetry, then the host.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};
use kalcord_config::{ConfigArgs, LoadOptions, Profile, Section};
use kalcord_telemetry::Telemetry;

use crate::config::{ALL_SECTIONS, CommonConfig, ServiceRoot};
use crate::deps::Deps;
use crate::error::{RuntimeError, chain};
use crate::host::{Host, shutdown_signal};
use crate::service::{Endpoint, Service};

/// Command-line interface of every kalcord binary.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration flags.
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl Cli {
    /// Parses the process arguments, naming the program `name` in help and errors.
    #[must_use]
    pub fn parse_named(name: &'static str, about: &'static str) -> Self {
        let matches = Self::command().name(name).about(about).get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

/// A configuration root that contains the shared sections.
pub trait Root: Section {
    /// The shared sections.
    fn common(&self) -> &CommonConfig;
}

impl<C: crate::config::ServiceConfig> Root for ServiceRoot<C> {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

/// Loaded configuration and running telemetry of a process.
#[derive(Debug)]
pub struct Booted<R> {
    /// The configuration.
    pub config: R,
    /// Telemetry; shut it down last.
    pub telemetry: Telemetry,
}

/// Loads the configuration (every bad key reported at once) and starts telemetry.
///
/// Returns `None` when `--help-config` asked only for the list of keys.
///
/// # Errors
///
/// [`RuntimeError::Config`] (exit code 64) or [`RuntimeError::Telemetry`].
pub async fn boot<R: Root>(
    name: &'static str,
    profile: Profile,
    args: &ConfigArgs,
) -> Result<Option<Booted<R>>, RuntimeError> {
    if args.help_config {
        print!("{}", kalcord_config::render_text(&kalcord_config::describe::<R>()));
        return Ok(None);
    }
    // NOTE: vars_os, not vars: a non-UTF-8 variable elsewhere in the environment must not
    // crash the process; ours are all UTF-8 and others are ignored.
    let env = std::env::vars_os().filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
    let sources = args.sources(env)?;
    let config: R = kalcord_config::load(&sources, LoadOptions { profile, other_sections: ALL_SECTIONS }).await?;
    let telemetry = kalcord_telemetry::init(&config.common().telemetry, name)?;
    Ok(Some(Booted { config, telemetry }))
}

/// Prints each listener on standard output, one `listening <name> <url>` line each.
pub fn announce(endpoints: &[Endpoint]) {
    for endpoint in endpoints {
        println!("listening {} {}", endpoint.name, endpoint.url);
    }
}

/// Runs `future` on a multi-threaded runtime and turns its result into an exit code,
/// printing the error and its causes.
#[must_use]
pub fn block_on_main(name: &'static str, future: impl Future<Output = Result<(), RuntimeError>>) -> ExitCode {
    // NOTE: the one crypto provider of the process, installed before anything opens TLS.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{name}: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %chain(&err), "exiting");
            eprintln!("{name}: {}", chain(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

/// The whole `main` of a single-service binary.
#[must_use]
pub fn main<S: Service>(binary: &'static str, about: &'static str) -> ExitCode {
    let cli = Cli::parse_named(binary, about);
    block_on_main(binary, run_service::<S>(binary, cli))
}

async fn run_service<S: Service>(binary: &'static str, cli: Cli) -> Result<(), RuntimeError> {
    let Some(booted) = boot::<ServiceRoot<S::Config>>(binary, Profile::Distributed, &cli.config).await? else {
        return Ok(());
    };
    let Booted { config, telemetry } = booted;
    let result = async {
        let deps = Deps::connect(&config.common, S::NEEDS, binary).await?;
        let mut host = Host::new(config.common, deps);
        host.add::<S>(config.service).await?;
        host.run(shutdown_signal(), announce).await
    }
    .await;
    telemetry.shutdown();
    result
}
