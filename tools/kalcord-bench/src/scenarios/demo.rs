//! What the Join scenarios share: the Discord emulator (the demo guild plus numbered members,
//! signing with a known key) and the Kaltura emulator (one partner), the variables pointing
//! kalcord at them, and a live meeting whose Join button members press.

use std::sync::Arc;
use std::time::Duration;

use kalcord_discord::egress::{Egress, EgressConfig};
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, InteractionSpec, MemberSeed, UserSeed, seed};
use kalcord_kaltura_emulator::{Emulator as KalturaEmulator, PartnerConfig};
use kalcord_loadgen::Prepared;
use kalcord_loadgen::interactions::Signer;
use serde_json::{Value, json};

/// The first numbered member; the rest follow.
pub const FIRST_MEMBER: u64 = 1_284_000_000_001_000_000;
const PARTNER: i64 = 4_200_001;
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const KEY: [u8; 32] = [7; 32];

/// The meeting's post and its Join button.
pub struct Meeting {
    /// The Join button's `custom_id`.
    pub custom_id: String,
    /// The post carrying it.
    pub message_id: u64,
}

/// Both emulators.
pub struct Emulators {
    /// Discord.
    pub discord: DiscordEmulator,
    /// Kaltura.
    pub kaltura: KalturaEmulator,
    /// Signs interactions with the application's key.
    pub signer: Signer,
}

/// A `/meeting <sub>` command by `user_id` in the general channel.
pub fn meeting_command(user_id: u64, sub: Value) -> InteractionSpec {
    InteractionSpec::command(seed::GUILD_ID, user_id, "meeting", vec![sub]).in_channel(seed::GENERAL_CHANNEL)
}

/// `user_id` pressing the meeting's Join button.
pub fn click(meeting: &Meeting, user_id: u64) -> InteractionSpec {
    InteractionSpec::button(seed::GUILD_ID, user_id, &meeting.custom_id, meeting.message_id)
        .in_channel(seed::GENERAL_CHANNEL)
}

impl Emulators {
    /// Starts both, the demo guild holding `members` numbered members from [`FIRST_MEMBER`].
    ///
    /// # Errors
    ///
    /// When an emulator cannot start.
    pub async fn start(members: u64) -> anyhow::Result<Self> {
        let kaltura = KalturaEmulator::start(
            kalcord_kaltura_emulator::EmulatorConfig::default().with_partner(PartnerConfig::new(PARTNER, SECRET)),
        )
        .await?;
        let mut guild = seed::demo_guild();
        guild.members.reserve(usize::try_from(members)?);
        for n in 0..members {
            guild = guild.with_member(MemberSeed::new(UserSeed::new(FIRST_MEMBER + n, &format!("member{n}"))));
        }
        let mut config = EmulatorConfig::default().with_guild(guild);
        config.application.signing_key_hex = Some(hex::encode(KEY));
        config.gateway.replay_capacity = 50_000;
        let discord = DiscordEmulator::start(config).await?;
        Ok(Self { discord, kaltura, signer: Signer::new(KEY) })
    }

    /// `KALCORD_*` variables pointing kalcord at the emulators (quiet logs, tenant secrets in `data`).
    #[must_use]
    pub fn vars(&self, data: &std::path::Path) -> Vec<(String, String)> {
        let app = self.discord.application();
        [
            ("KALCORD_DISCORD_API_BASE", self.discord.api_authority()),
            ("KALCORD_DISCORD_APPLICATION_ID", app.id),
            ("KALCORD_DISCORD_PUBLIC_KEY", app.public_key_hex),
            ("KALCORD_DISCORD_BOT_TOKEN", app.bot_token),
            ("KALCORD_KALTURA_PARTNER_ID", PARTNER.to_string()),
            ("KALCORD_KALTURA_ADMIN_SECRET", SECRET.to_owned()),
            ("KALCORD_KALTURA_SERVICE_URL", self.kaltura.base_url()),
            ("KALCORD_KALTURA_KAF_URL", self.kaltura.base_url()),
            ("KALCORD_TELEMETRY_LOG_FILTER", "warn".to_owned()),
            ("KALCORD_SECRETS_TENANT_FILE", format!("{}/tenants.toml", data.display())),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// Points Discord's interactions at `api`, registers the commands and has the owner start a
    /// meeting.
    ///
    /// # Errors
    ///
    /// When a step fails or the answer carries no Join button.
    pub async fn live_meeting(&self, api: &str, title: &str) -> anyhow::Result<Meeting> {
        let app = self.discord.application();
        self.discord.state().set_interactions_url(Some(format!("{api}/interactions").parse()?));
        let egress = Egress::new(
            EgressConfig {
                api_base: Some(self.discord.api_authority()),
                application_id: app.id.parse()?,
                bot_token: kalcord_config::Secret::new(app.bot_token),
                global_per_second: 50,
                invalid_limit: 100,
                timeout: Duration::from_secs(5),
            },
            Arc::new(kalcord_cache::MemoryCache::new("bench", 100)),
        );
        egress
            .overwrite_commands(Some(seed::GUILD_ID), &serde_json::to_value(kalcord_discord::command::all())?)
            .await?;
        let start = meeting_command(
            seed::OWNER_ID,
            json!({"type": 1, "name": "start", "options": [
                {"type": 3, "name": "title", "value": title},
                {"type": 3, "name": "kind", "value": "meeting_room"}
            ]}),
        );
        let outcome = self.discord.state().send_interaction(&start).await?;
        let answer = outcome.json.unwrap_or_default();
        let custom_id = answer["data"]["components"][0]["components"]
            .as_array()
            .and_then(|buttons| {
                buttons.iter().find_map(|b| b["custom_id"].as_str().filter(|id| id.contains("join")).map(str::to_owned))
            })
            .ok_or_else(|| anyhow::anyhow!("/meeting start answered without a Join button: {answer}"))?;
        let message_id = self
            .discord
            .state()
            .messages()
            .into_iter()
            .rev()
            .find(|m| m.components.to_string().contains(&custom_id))
            .map(|m| m.message_id)
            .ok_or_else(|| anyhow::anyhow!("the meeting post is missing"))?;
        Ok(Meeting { custom_id, message_id })
    }

    /// `spec`, as Discord would send it, signed.
    ///
    /// # Errors
    ///
    /// When the spec names something the emulator does not know.
    pub fn signed(&self, spec: &InteractionSpec) -> anyhow::Result<Prepared> {
        Ok(self.signer.sign(&self.discord.state().build_interaction(spec)?))
    }

    /// A Join press of each of `users`, each its own interaction, signed.
    ///
    /// # Errors
    ///
    /// When a user is not a member.
    pub fn presses(&self, meeting: &Meeting, users: impl Iterator<Item = u64>) -> anyhow::Result<Vec<Prepared>> {
        users.map(|user| self.signed(&click(meeting, user))).collect()
    }

    /// Stops both.
    pub async fn stop(self) {
        self.discord.stop().await;
        self.kaltura.stop().await;
    }
}
