#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

pub mod audit_command;
pub mod cli;
pub mod discord_command;
pub mod ks_command;
pub mod sandbox;
pub mod sandbox_command;

use std::time::Instant;

use kalcord_api_gateway::ApiGateway;
use kalcord_config::{ConfigArgs, Profile, Reader, Section};
use kalcord_gateway_shard::GatewayShard;
use kalcord_identity::Identity;
use kalcord_interactions::Interactions;
use kalcord_meetings::Meetings;
use kalcord_notifications::Notifications;
use kalcord_runtime::{Booted, CommonConfig, Deps, Endpoint, Host, Needs, Root, RuntimeError, Service, ServiceConfig};

/// The shared configuration sections as `kalcord`'s subcommands see them (file, environment,
/// `--set`; standalone defaults).
///
/// # Errors
///
/// An unreadable file, a malformed flag, or invalid values.
pub(crate) async fn load_common(args: &ConfigArgs) -> Result<CommonConfig, kalcord_config::ConfigError> {
    let env = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let sources = args.sources(env)?;
    kalcord_config::load(
        &sources,
        kalcord_config::LoadOptions { profile: Profile::Standalone, other_sections: kalcord_runtime::ALL_SECTIONS },
    )
    .await
}

/// One-line description shown by `kalcord --help`.
pub const ABOUT: &str = "Run Kaltura meetings from Discord: every kalcord service in one process.";

/// Everything the standalone binary reads: the shared sections and every service's own.
#[derive(Clone, Debug)]
pub struct StandaloneRoot {
    /// Shared sections.
    pub common: CommonConfig,
    /// `api_gateway.*`.
    pub api_gateway: kalcord_api_gateway::Config,
    /// `gateway_shard.*`.
    pub gateway_shard: kalcord_gateway_shard::Config,
    /// `identity.*`.
    pub identity: kalcord_identity::Config,
    /// `interactions.*`.
    pub interactions: kalcord_interactions::Config,
    /// `meetings.*`.
    pub meetings: kalcord_meetings::Config,
    /// `notifications.*`.
    pub notifications: kalcord_notifications::Config,
    /// `sandbox.*`.
    pub sandbox: sandbox::SandboxConfig,
}

fn section<C: ServiceConfig>(r: &mut Reader<'_>) -> C {
    r.section(C::SECTION)
}

impl Section for StandaloneRoot {
    fn read(r: &mut Reader<'_>) -> Self {
        Self {
            common: CommonConfig::read(r),
            api_gateway: section(r),
            gateway_shard: section(r),
            identity: section(r),
            interactions: section(r),
            meetings: section(r),
            notifications: section(r),
            sandbox: r.section("sandbox"),
        }
    }
}

impl Root for StandaloneRoot {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

/// What the services together need.
pub const NEEDS: Needs = ApiGateway::NEEDS
    .union(Interactions::NEEDS)
    .union(Identity::NEEDS)
    .union(Meetings::NEEDS)
    .union(Notifications::NEEDS)
    .union(GatewayShard::NEEDS);

/// Runs every service in this process until `stop` resolves.
///
/// # Errors
///
/// Bad configuration (exit code 64), an unreachable dependency, or a failing service.
pub async fn run(args: &ConfigArgs, stop: impl Future<Output = ()>) -> Result<(), RuntimeError> {
    let started = Instant::now();
    let Some(Booted { config, telemetry }) =
        kalcord_runtime::boot::<StandaloneRoot>("kalcord", Profile::Standalone, args).await?
    else {
        return Ok(());
    };
    let result = serve(config, started, stop).await;
    telemetry.shutdown();
    result
}

async fn serve(
    mut config: StandaloneRoot,
    started: Instant,
    stop: impl Future<Output = ()>,
) -> Result<(), RuntimeError> {
    let sandbox = if config.sandbox.enabled(&config.common) {
        let sandbox = sandbox::Sandbox::start(&config.sandbox, &mut config.common)
            .await
            .map_err(|err| RuntimeError::Service { service: "sandbox", source: Box::new(err) })?;
        Some(sandbox)
    } else {
        None
    };
    let deps = Deps::connect(&config.common, NEEDS, "kalcord").await?;
    let mut host = Host::new(config.common.clone(), deps);
    host.add::<ApiGateway>(config.api_gateway).await?;
    host.add::<Interactions>(config.interactions).await?;
    host.add::<Identity>(config.identity).await?;
    host.add::<Meetings>(config.meetings).await?;
    host.add::<Notifications>(config.notifications).await?;
    host.add::<GatewayShard>(config.gateway_shard).await?;
    let common = config.common;
    if let Some(sandbox) = &sandbox
        && let Some(api) = host.endpoints().iter().find(|endpoint| endpoint.name == "api")
    {
        sandbox.connect(&api.url, &common).await;
    }
    let sandbox_url = sandbox.as_ref().and_then(sandbox::Sandbox::discord_url);
    let kaltura_url = sandbox.as_ref().and_then(sandbox::Sandbox::kaltura_url);
    let result = host
        .run(stop, |endpoints: &[Endpoint]| {
            // NOTE: admin is announced last; tools read up to it.
            if let Some(url) = &sandbox_url {
                println!("listening discord-sandbox {url}");
            }
            if let Some(url) = &kaltura_url {
                println!("listening kaltura-sandbox {url}");
            }
            kalcord_runtime::announce(endpoints);
            println!(
                "kalcord {} ready in {} ms (bus: {}, store: {}, cache: {}, discord: {}, kaltura: {})",
                env!("CARGO_PKG_VERSION"),
                started.elapsed().as_millis(),
                common.bus.backend,
                common.store.url,
                common.cache.backend,
                if sandbox_url.is_some() { "sandbox emulator" } else { "discord.com" },
                if kaltura_url.is_some() { "sandbox emulator" } else { common.kaltura.service_url.as_str() },
            );
            if sandbox_url.is_some() {
                println!("{}", sandbox::TRY_IT);
            }
        })
        .await;
    if let Some(sandbox) = sandbox {
        sandbox.stop().await;
    }
    result
}
