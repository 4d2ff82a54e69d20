//! The sandbox: when no Discord application is configured, `kalcord` runs the built-in Discord
//! emulator (a demo server with roles, members and channels) and points itself at it, so the
//! whole system works on a laptop with no account anywhere.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use kalcord_config::{Reader, Section};
use kalcord_discord::command::{SyncPlan, all, plan};
use kalcord_discord::egress::{Egress, EgressConfig};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, EmulatorError, seed};
use kalcord_runtime::CommonConfig;

/// When to run the built-in emulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxMode {
    /// When the Discord application is not configured.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

impl FromStr for SandboxMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Self::Auto),
            "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            _ => Err("expected `auto`, `on` or `off`".to_owned()),
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::On => "on",
            Self::Off => "off",
        })
    }
}

/// The `sandbox.*` section.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// When to run the built-in Discord emulator.
    pub discord: SandboxMode,
    /// Address of the emulator's REST and admin API (the gateway listens on the next port).
    pub discord_listen: SocketAddr,
}

impl Section for SandboxConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let config = Self {
            discord: r.get(
                "discord",
                SandboxMode::Auto,
                "Run the built-in Discord emulator: `auto` (when no Discord application is configured), `on` or `off`.",
            ),
            discord_listen: r.get(
                "discord_listen",
                "127.0.0.1:7100".parse().expect("valid default"),
                "Address of the built-in Discord emulator's API and admin endpoints (loopback only); port 0 picks one.",
            ),
        };
        if !config.discord_listen.ip().is_loopback() {
            r.invalid("discord_listen", "the sandbox only listens on loopback");
        }
        config
    }
}

impl SandboxConfig {
    /// Whether the emulator runs for this configuration.
    #[must_use]
    pub fn discord_enabled(&self, common: &CommonConfig) -> bool {
        match self.discord {
            SandboxMode::On => true,
            SandboxMode::Off => false,
            SandboxMode::Auto => common.discord.bot_token.is_none() && common.discord.public_key.is_none(),
        }
    }
}

/// The running sandbox.
pub struct Sandbox {
    discord: DiscordEmulator,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("discord", &self.discord.api_base()).finish()
    }
}

impl Sandbox {
    /// Starts the Discord emulator with the demo server and points `common.discord` at it.
    ///
    /// # Errors
    ///
    /// When the emulator cannot listen.
    pub async fn start(config: &SandboxConfig, common: &mut CommonConfig) -> Result<Self, EmulatorError> {
        let gateway_port = if config.discord_listen.port() == 0 { 0 } else { config.discord_listen.port() + 1 };
        let emulator_config = EmulatorConfig {
            listen: config.discord_listen,
            gateway_listen: SocketAddr::new(config.discord_listen.ip(), gateway_port),
            ..EmulatorConfig::default()
        }
        .with_guild(seed::demo_guild());
        let discord = DiscordEmulator::start(emulator_config).await?;
        let application = discord.application();
        common.discord.api_base = Some(discord.api_authority());
        common.discord.application_id = application.id.parse().ok();
        common.discord.public_key = Some(application.public_key_hex.clone());
        common.discord.bot_token = Some(kalcord_config::Secret::new(application.bot_token.clone()));
        tracing::info!(api = %discord.api_base(), "running the built-in Discord emulator (sandbox)");
        Ok(Self { discord })
    }

    /// Sends interactions to `api` and registers the commands in the demo server.
    pub async fn connect(&self, api: &str, common: &CommonConfig) {
        match url::Url::parse(&format!("{api}/interactions")) {
            Ok(url) => self.discord.state().set_interactions_url(Some(url)),
            Err(err) => tracing::warn!(error = %err, "sandbox: bad interactions URL"),
        }
        let (Some(application_id), Some(token)) = (common.discord.application_id, common.discord.bot_token.clone())
        else {
            return;
        };
        let egress_config = EgressConfig {
            api_base: common.discord.api_base.clone(),
            application_id,
            bot_token: token,
            global_per_second: common.discord.global_per_second,
            invalid_limit: common.discord.invalid_limit,
            timeout: Duration::from_secs(5),
        };
        let egress = Egress::new(egress_config, Arc::new(kalcord_cache::MemoryCache::new("sandbox", 100)));
        let guild = Some(seed::GUILD_ID);
        let result = match egress.commands(guild).await {
            Ok(existing) => match plan(&existing, &all()) {
                SyncPlan::UpToDate => Ok(()),
                SyncPlan::Overwrite(body) => egress.overwrite_commands(guild, &body).await.map(drop),
            },
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            tracing::warn!(error = %kalcord_runtime::chain(&err), "sandbox: registering commands failed");
        }
    }

    /// Base URL of the emulator (REST under `/api/v10`, admin under `/_emulator/`).
    #[must_use]
    pub fn discord_url(&self) -> String {
        self.discord.api_base()
    }

    /// Stops the emulator.
    pub async fn stop(self) {
        self.discord.stop().await;
    }
}
