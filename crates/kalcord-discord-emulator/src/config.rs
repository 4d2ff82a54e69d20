//! Start-up configuration: the application, the seeded world, shards, rate limits, the validator.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::perms;

/// Everything [`crate::DiscordEmulator::start`] needs.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// REST, OAuth2 and admin listener (`127.0.0.1:0` picks a port).
    pub listen: SocketAddr,
    /// Gateway websocket listener (`127.0.0.1:0` picks a port).
    pub gateway_listen: SocketAddr,
    /// The one application (and its bot user) the emulator serves.
    pub application: ApplicationConfig,
    /// Guilds present at start; the bot is a member of each.
    pub guilds: Vec<GuildSeed>,
    /// Users that exist without being in a guild (OAuth2 tests).
    pub users: Vec<UserSeed>,
    /// Shard count answered by `GET /gateway/bot` (and the routing of guilds).
    pub shards: u32,
    /// `session_start_limit.max_concurrency` of `GET /gateway/bot`.
    pub max_concurrency: u32,
    /// The Interactions Endpoint URL the sender POSTs to.
    pub interactions_url: Option<Url>,
    /// Schema validation of request bodies by the Node validator (off when `None`).
    pub validator: Option<ValidatorConfig>,
    /// Rate limits.
    pub rate_limits: RateLimitConfig,
    /// Gateway behaviour.
    pub gateway: GatewayConfig,
    /// Time an interaction endpoint has to answer (Discord: 3 s).
    pub interaction_deadline: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self {
            listen: loopback,
            gateway_listen: loopback,
            application: ApplicationConfig::default(),
            guilds: Vec::new(),
            users: Vec::new(),
            shards: 1,
            max_concurrency: 1,
            interactions_url: None,
            validator: None,
            rate_limits: RateLimitConfig::default(),
            gateway: GatewayConfig::default(),
            interaction_deadline: Duration::from_secs(3),
        }
    }
}

impl EmulatorConfig {
    /// Adds a guild.
    #[must_use]
    pub fn with_guild(mut self, guild: GuildSeed) -> Self {
        self.guilds.push(guild);
        self
    }

    /// Sets the interactions endpoint URL.
    #[must_use]
    pub fn with_interactions_url(mut self, url: Url) -> Self {
        self.interactions_url = Some(url);
        self
    }

    /// Turns on schema validation.
    #[must_use]
    pub fn with_validator(mut self, validator: ValidatorConfig) -> Self {
        self.validator = Some(validator);
        self
    }
}

/// The application, its bot user and its credentials. Unset secrets are generated.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct ApplicationConfig {
    /// Application id (also the OAuth2 client id); generated when `None`.
    pub id: Option<u64>,
    /// Application name.
    pub name: String,
    /// Bot user id; generated when `None`.
    pub bot_user_id: Option<u64>,
    /// Bot username.
    pub bot_username: String,
    /// Bot token; generated when `None`.
    pub bot_token: Option<String>,
    /// OAuth2 client secret; generated when `None`.
    pub client_secret: Option<String>,
    /// Ed25519 signing key seed (32 bytes, hex); generated when `None`.
    pub signing_key_hex: Option<String>,
    /// Application flags (`EMBEDDED = 1 << 17` turns on the Activity entry point command).
    pub flags: u64,
    /// Privileged intents enabled in the portal (`GUILD_MEMBERS`, `GUILD_PRESENCES`, `MESSAGE_CONTENT` bits).
    pub privileged_intents: u64,
    /// Registered OAuth2 redirect URIs (empty: any `redirect_uri` is accepted).
    pub redirect_uris: Vec<String>,
    /// Permissions of the bot's managed role in every guild (decimal bits).
    pub bot_permissions: u64,
}

impl Default for ApplicationConfig {
    fn default() -> Self {
        Self {
            id: None,
            name: "kalcord".to_owned(),
            bot_user_id: None,
            bot_username: "kalcord".to_owned(),
            bot_token: None,
            client_secret: None,
            signing_key_hex: None,
            flags: 0,
            privileged_intents: perms::INTENT_GUILD_MEMBERS,
            redirect_uris: Vec::new(),
            bot_permissions: perms::DEFAULT_BOT,
        }
    }
}

/// A guild to create.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct GuildSeed {
    /// Guild id (a snowflake: shard routing uses `(id >> 22) % shards`).
    #[serde(with = "crate::ids::string")]
    pub id: u64,
    /// Name.
    pub name: String,
    /// Owner (must be one of `members`, or is added as a member).
    #[serde(with = "crate::ids::string")]
    pub owner_id: u64,
    /// Permissions of `@everyone` (role id = guild id); Discord's defaults when `None`.
    #[serde(default)]
    pub everyone_permissions: Option<u64>,
    /// Roles besides `@everyone`.
    #[serde(default)]
    pub roles: Vec<RoleSeed>,
    /// Channels.
    #[serde(default)]
    pub channels: Vec<ChannelSeed>,
    /// Members (the bot is added on its own).
    #[serde(default)]
    pub members: Vec<MemberSeed>,
    /// Preferred locale.
    #[serde(default = "default_locale")]
    pub preferred_locale: String,
    /// Channel where Discord posts system messages (welcome messages, boosts); one of `channels`.
    #[serde(default, with = "crate::ids::option_string")]
    pub system_channel_id: Option<u64>,
}

fn default_locale() -> String {
    "en-US".to_owned()
}

impl GuildSeed {
    /// A guild with no roles, channels or members yet (the owner is added as a member).
    #[must_use]
    pub fn new(id: u64, name: &str, owner: UserSeed) -> Self {
        Self {
            id,
            name: name.to_owned(),
            owner_id: owner.id,
            everyone_permissions: None,
            roles: Vec::new(),
            channels: Vec::new(),
            members: vec![MemberSeed::new(owner)],
            preferred_locale: default_locale(),
            system_channel_id: None,
        }
    }

    /// Sets the system channel (`system_channel_id`).
    #[must_use]
    pub fn with_system_channel(mut self, channel_id: u64) -> Self {
        self.system_channel_id = Some(channel_id);
        self
    }

    /// Adds a role.
    #[must_use]
    pub fn with_role(mut self, role: RoleSeed) -> Self {
        self.roles.push(role);
        self
    }

    /// Adds a channel.
    #[must_use]
    pub fn with_channel(mut self, channel: ChannelSeed) -> Self {
        self.channels.push(channel);
        self
    }

    /// Adds a member.
    #[must_use]
    pub fn with_member(mut self, member: MemberSeed) -> Self {
        self.members.push(member);
        self
    }
}

/// A role.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RoleSeed {
    /// Role id.
    #[serde(with = "crate::ids::string")]
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission bits (decimal string on the wire).
    #[serde(default, with = "crate::ids::string")]
    pub permissions: u64,
    /// Position (higher is above).
    #[serde(default = "one")]
    pub position: i64,
    /// RGB colour.
    #[serde(default)]
    pub color: u32,
    /// Shown separately.
    #[serde(default)]
    pub hoist: bool,
    /// Mentionable.
    #[serde(default)]
    pub mentionable: bool,
}

fn one() -> i64 {
    1
}

impl RoleSeed {
    /// A role with these permissions at position 1.
    #[must_use]
    pub fn new(id: u64, name: &str, permissions: u64) -> Self {
        Self { id, name: name.to_owned(), permissions, position: 1, color: 0, hoist: false, mentionable: false }
    }

    /// Sets the position.
    #[must_use]
    pub fn at(mut self, position: i64) -> Self {
        self.position = position;
        self
    }
}

/// A guild channel.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ChannelSeed {
    /// Channel id.
    #[serde(with = "crate::ids::string")]
    pub id: u64,
    /// Name.
    pub name: String,
    /// Channel type (`0` text, `2` voice, `4` category, `13` stage).
    #[serde(default, rename = "type")]
    pub kind: u8,
    /// Parent category.
    #[serde(default, with = "crate::ids::option_string")]
    pub parent_id: Option<u64>,
    /// Permission overwrites of roles (`@everyone` has the guild's id) and members.
    #[serde(default)]
    pub permission_overwrites: Vec<OverwriteSeed>,
}

impl ChannelSeed {
    /// A text channel.
    #[must_use]
    pub fn text(id: u64, name: &str) -> Self {
        Self { id, name: name.to_owned(), kind: 0, parent_id: None, permission_overwrites: Vec::new() }
    }

    /// A voice channel.
    #[must_use]
    pub fn voice(id: u64, name: &str) -> Self {
        Self { kind: 2, ..Self::text(id, name) }
    }

    /// Adds a permission overwrite.
    #[must_use]
    pub fn with_overwrite(mut self, overwrite: OverwriteSeed) -> Self {
        self.permission_overwrites.push(overwrite);
        self
    }
}

/// A channel permission overwrite (Discord's `{"id", "type", "allow", "deny"}`, bits as decimal strings).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct OverwriteSeed {
    /// Role id (the guild's id for `@everyone`) or user id.
    #[serde(with = "crate::ids::string")]
    pub id: u64,
    /// `0` role, `1` member.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Permission bits allowed.
    #[serde(default, with = "crate::ids::string")]
    pub allow: u64,
    /// Permission bits denied.
    #[serde(default, with = "crate::ids::string")]
    pub deny: u64,
}

impl OverwriteSeed {
    /// An overwrite for a role (`role_id` = the guild's id for `@everyone`).
    #[must_use]
    pub const fn role(role_id: u64, allow: u64, deny: u64) -> Self {
        Self { id: role_id, kind: perms::OVERWRITE_ROLE, allow, deny }
    }

    /// An overwrite for a member.
    #[must_use]
    pub const fn member(user_id: u64, allow: u64, deny: u64) -> Self {
        Self { id: user_id, kind: perms::OVERWRITE_MEMBER, allow, deny }
    }
}

/// A user.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct UserSeed {
    /// User id.
    #[serde(with = "crate::ids::string")]
    pub id: u64,
    /// Username.
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub global_name: Option<String>,
    /// E-mail (returned with the `email` scope).
    #[serde(default)]
    pub email: Option<String>,
    /// Locale sent in interactions.
    #[serde(default)]
    pub locale: Option<String>,
}

impl UserSeed {
    /// A user with a derived e-mail address.
    #[must_use]
    pub fn new(id: u64, username: &str) -> Self {
        Self {
            id,
            username: username.to_owned(),
            global_name: None,
            email: Some(format!("{username}@example.com")),
            locale: None,
        }
    }
}

/// A guild member.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct MemberSeed {
    /// The user.
    pub user: UserSeed,
    /// Role ids (without `@everyone`).
    #[serde(default, with = "crate::ids::vec_string")]
    pub roles: Vec<u64>,
    /// Nickname.
    #[serde(default)]
    pub nick: Option<String>,
}

impl MemberSeed {
    /// A member without roles.
    #[must_use]
    pub fn new(user: UserSeed) -> Self {
        Self { user, roles: Vec::new(), nick: None }
    }

    /// Adds a role.
    #[must_use]
    pub fn with_role(mut self, role: u64) -> Self {
        self.roles.push(role);
        self
    }
}

/// Where the Node schema validator lives.
#[derive(Clone, Debug)]
pub struct ValidatorConfig {
    /// The `node` executable.
    pub node: PathBuf,
    /// `tests/fidelity/discord/validator.mjs`.
    pub script: PathBuf,
    /// How long the validator may take to load the schemas.
    pub start_timeout: Duration,
}

impl ValidatorConfig {
    /// `node` from `PATH` running this script.
    #[must_use]
    pub fn new(script: impl Into<PathBuf>) -> Self {
        Self { node: PathBuf::from("node"), script: script.into(), start_timeout: Duration::from_secs(20) }
    }

    /// The workspace's validator (`tests/fidelity/discord/validator.mjs`), found from this crate's sources.
    #[must_use]
    pub fn in_workspace() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Self::new(root.join("../../tests/fidelity/discord/validator.mjs"))
    }
}

/// A bucket size: `limit` requests per `window`.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct BucketLimit {
    /// Requests per window.
    pub limit: u32,
    /// Window length.
    pub window: Duration,
}

impl BucketLimit {
    /// `limit` per `window`.
    #[must_use]
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }
}

/// A bucket size for one route (`method` + template such as `/channels/{channel_id}/messages`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RouteLimit {
    /// HTTP method (upper case).
    pub method: String,
    /// Route template, as in Discord's documentation.
    pub route: String,
    /// Bucket size.
    pub limit: BucketLimit,
}

impl RouteLimit {
    /// A route's bucket.
    #[must_use]
    pub fn new(method: &str, route: &str, limit: BucketLimit) -> Self {
        Self { method: method.to_ascii_uppercase(), route: route.to_owned(), limit }
    }
}

/// Rate limits (Discord's defaults unless changed).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Requests per second per bot token, interaction and webhook routes exempt (Discord: 50).
    pub global_per_second: u32,
    /// Bucket of routes not listed in `routes`.
    pub default_bucket: BucketLimit,
    /// Per-route buckets (checked before the built-in table).
    pub routes: Vec<RouteLimit>,
    /// 401, 403 and 429 answers per `invalid_window` that get a token banned (Cloudflare: 10,000 per 10 min).
    pub invalid_request_limit: u32,
    /// Window of the invalid-request counter.
    pub invalid_window: Duration,
    /// How long a ban lasts.
    pub ban_duration: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            global_per_second: 50,
            default_bucket: BucketLimit::new(50, Duration::from_secs(1)),
            routes: Vec::new(),
            invalid_request_limit: 10_000,
            invalid_window: Duration::from_mins(10),
            ban_duration: Duration::from_hours(1),
        }
    }
}

impl RateLimitConfig {
    /// Overrides one route's bucket.
    #[must_use]
    pub fn with_route(mut self, method: &str, route: &str, limit: BucketLimit) -> Self {
        self.routes.push(RouteLimit::new(method, route, limit));
        self
    }
}

/// Gateway behaviour.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct GatewayConfig {
    /// `heartbeat_interval` of HELLO (Discord: 41250 ms).
    pub heartbeat_interval: Duration,
    /// Closes with 4009 when no heartbeat came for this long (`None`: never).
    pub heartbeat_timeout: Option<Duration>,
    /// How long a dropped session can be resumed.
    pub resume_window: Duration,
    /// Dispatches kept per session for RESUME replay.
    pub replay_capacity: usize,
    /// Client events per connection per minute before close 4008 (Discord: 120).
    pub events_per_minute: u32,
    /// Largest client payload before close 4002 (Discord: 4096 bytes).
    pub max_payload: usize,
    /// `session_start_limit.total` (IDENTIFYs per day).
    pub session_start_limit: u32,
    /// An IDENTIFY is refused with op 9 `false` when one with the same rate-limit key
    /// (`shard_id % max_concurrency`) was accepted less than this long ago (Discord: 5 s).
    pub identify_window: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_millis(41_250),
            heartbeat_timeout: None,
            resume_window: Duration::from_mins(3),
            replay_capacity: 2048,
            events_per_minute: 120,
            max_payload: 4096,
            session_start_limit: 1000,
            identify_window: Duration::from_secs(5),
        }
    }
}
