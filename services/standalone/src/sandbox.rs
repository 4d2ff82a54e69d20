//! The sandbox: when no Discord application is configured, `kalcord` runs the built-in Discord
//! emulator (a demo server with roles, members and channels) and points itself at it; when no
//! Kaltura partner is configured, it runs the built-in Kaltura emulator (a demo partner and a fake
//! KAF host) as the default partner. So the whole system works on a laptop with no account
//! anywhere.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use kalcord_config::{Reader, Section};
use kalcord_discord::command::{SyncPlan, all, plan};
use kalcord_discord::egress::Egress;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, EmulatorError, seed};
use kalcord_kaltura_emulator::{Emulator as KalturaEmulator, PartnerConfig, WebhookSubscription};
use kalcord_runtime::CommonConfig;

/// Printed at start-up when the Discord emulator runs: how to act as a member of the demo server.
pub const TRY_IT: &str = "\
sandbox: no Discord application is configured, so kalcord runs a built-in Discord (demo server \"Kalcord Demo School\",
sandbox: members owner, ada (Teacher), bob and cy (Student), dee). In another terminal, try:
sandbox:   kalcord sandbox command \"/meeting start kind:meeting_room title:Maths 101\" --as owner
sandbox:   kalcord sandbox click Join --as bob
sandbox:   kalcord sandbox command \"/meeting list\" --as ada
sandbox: and open the link it prints: the built-in Kaltura shows which room and role you got.
sandbox: (in a checkout, `kalcord` is `cargo run -q -p kalcord-standalone --bin kalcord --`; see docs/usage.md)";

/// Partner id of the sandbox's demo Kaltura account.
pub const SANDBOX_PARTNER_ID: i64 = 5_000_001;

/// The sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The Discord emulator could not start.
    #[error("the built-in Discord emulator cannot start")]
    Discord(#[from] EmulatorError),
    /// The Kaltura emulator could not start.
    #[error("the built-in Kaltura emulator cannot start")]
    Kaltura(#[from] kalcord_kaltura_emulator::EmulatorError),
}

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
    /// When to run the built-in Kaltura emulator.
    pub kaltura: SandboxMode,
    /// Address of the Kaltura emulator (`api_v3`, the fake KAF host and its admin API).
    pub kaltura_listen: SocketAddr,
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
            kaltura: r.get(
                "kaltura",
                SandboxMode::Auto,
                "Run the built-in Kaltura emulator as the default partner: `auto` (when kaltura.partner_id is unset), `on` or `off`.",
            ),
            kaltura_listen: r.get(
                "kaltura_listen",
                "127.0.0.1:7200".parse().expect("valid default"),
                "Address of the built-in Kaltura emulator (api_v3, KAF launch pages, admin API; loopback only); port 0 picks one.",
            ),
        };
        if !config.discord_listen.ip().is_loopback() {
            r.invalid("discord_listen", "the sandbox only listens on loopback");
        }
        if !config.kaltura_listen.ip().is_loopback() {
            r.invalid("kaltura_listen", "the sandbox only listens on loopback");
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

    /// Whether the Kaltura emulator runs for this configuration.
    #[must_use]
    pub fn kaltura_enabled(&self, common: &CommonConfig) -> bool {
        match self.kaltura {
            SandboxMode::On => true,
            SandboxMode::Off => false,
            SandboxMode::Auto => common.kaltura.partner_id.is_none(),
        }
    }

    /// Whether any part of the sandbox runs.
    #[must_use]
    pub fn enabled(&self, common: &CommonConfig) -> bool {
        self.discord_enabled(common) || self.kaltura_enabled(common)
    }
}

/// The running sandbox.
pub struct Sandbox {
    discord: Option<DiscordEmulator>,
    kaltura: Option<KalturaEmulator>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("discord", &self.discord.as_ref().map(DiscordEmulator::api_base))
            .field("kaltura", &self.kaltura.as_ref().map(KalturaEmulator::base_url))
            .finish()
    }
}

impl Sandbox {
    /// Starts the emulators `config` calls for with `common`, and points `common` at them.
    ///
    /// # Errors
    ///
    /// When an emulator cannot listen.
    pub async fn start(config: &SandboxConfig, common: &mut CommonConfig) -> Result<Self, SandboxError> {
        let discord = if config.discord_enabled(common) { Some(start_discord(config, common).await?) } else { None };
        let kaltura = if config.kaltura_enabled(common) {
            match start_kaltura(config, common).await {
                Ok(kaltura) => Some(kaltura),
                Err(err) => {
                    if let Some(discord) = discord {
                        discord.stop().await;
                    }
                    return Err(err);
                }
            }
        } else {
            None
        };
        Ok(Self { discord, kaltura })
    }

    /// Sends interactions to `api` and registers the commands in the demo server; the demo
    /// Kaltura partner notifies `api` of its entries (signed, as a notification template would).
    pub async fn connect(&self, api: &str, common: &CommonConfig) {
        if let Some(kaltura) = &self.kaltura {
            let url = format!("{api}/webhooks/kaltura/default");
            if let Err(err) = kaltura.state().subscribe_webhook(WebhookSubscription::new(SANDBOX_PARTNER_ID, &url)) {
                tracing::warn!(error = %err, "sandbox: the demo partner cannot notify kalcord");
            }
        }
        let Some(discord) = &self.discord else { return };
        match url::Url::parse(&format!("{api}/interactions")) {
            Ok(url) => discord.state().set_interactions_url(Some(url)),
            Err(err) => tracing::warn!(error = %err, "sandbox: bad interactions URL"),
        }
        let Some(egress_config) = common.discord.egress(Duration::from_secs(5)) else { return };
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

    /// Base URL of the Discord emulator (REST under `/api/v10`, admin under `/_emulator/`).
    #[must_use]
    pub fn discord_url(&self) -> Option<String> {
        self.discord.as_ref().map(DiscordEmulator::api_base)
    }

    /// Base URL of the Kaltura emulator (`/api_v3`, `/virtualEvent/launch`, admin under `/_emulator/`).
    #[must_use]
    pub fn kaltura_url(&self) -> Option<String> {
        self.kaltura.as_ref().map(KalturaEmulator::base_url)
    }

    /// Stops the emulators.
    pub async fn stop(self) {
        if let Some(discord) = self.discord {
            discord.stop().await;
        }
        if let Some(kaltura) = self.kaltura {
            kaltura.stop().await;
        }
    }
}

/// Starts the Discord emulator with the demo server and points `common.discord` at it.
async fn start_discord(config: &SandboxConfig, common: &mut CommonConfig) -> Result<DiscordEmulator, SandboxError> {
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
    Ok(discord)
}

/// Starts the Kaltura emulator with a demo partner (a fresh secret at each start) and makes it the
/// default partner.
async fn start_kaltura(config: &SandboxConfig, common: &mut CommonConfig) -> Result<KalturaEmulator, SandboxError> {
    let secret = hex::encode(rand::random::<[u8; 16]>());
    let emulator_config = kalcord_kaltura_emulator::EmulatorConfig {
        listen: config.kaltura_listen,
        ..kalcord_kaltura_emulator::EmulatorConfig::default()
    }
    .with_partner(PartnerConfig::new(SANDBOX_PARTNER_ID, &secret));
    let kaltura = KalturaEmulator::start(emulator_config).await?;
    if let Ok(base) = url::Url::parse(&kaltura.base_url()) {
        common.kaltura.service_url = base.clone();
        common.kaltura.kaf_url = Some(base);
    }
    common.kaltura.partner_id = Some(SANDBOX_PARTNER_ID);
    common.kaltura.admin_secret = Some(kalcord_config::Secret::new(secret));
    tracing::info!(api = %kaltura.base_url(), partner = SANDBOX_PARTNER_ID, "running the built-in Kaltura emulator (sandbox)");
    Ok(kaltura)
}
