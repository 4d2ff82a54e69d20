//! The emulated world: application, users, guilds, channels, messages, commands, interactions, OAuth2.

pub(crate) mod json;
pub(crate) mod members;
pub(crate) mod messages;
pub(crate) mod model;
pub(crate) mod mutate;
pub(crate) mod oauth;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use url::Url;

use crate::config::{ApplicationConfig, EmulatorConfig, UserSeed};
use crate::error::EmulatorError;
use crate::gateway::dispatch::Dispatch;
use crate::ids::{Clock, Snowflakes, random_token};
use crate::records::MessageRecord;
use model::{Channel, Command, Guild, Interaction, Message, User};

/// `EMBEDDED` application flag: Activities are enabled (an Entry Point command exists).
pub const APPLICATION_FLAG_EMBEDDED: u64 = 1 << 17;

/// The application and its bot.
#[derive(Debug)]
pub(crate) struct App {
    pub id: u64,
    pub name: String,
    pub bot_user_id: u64,
    pub bot_token: String,
    pub client_secret: String,
    pub signing_key: SigningKey,
    pub public_key_hex: String,
    pub flags: u64,
    pub privileged_intents: u64,
    pub redirect_uris: Vec<String>,
    pub bot_permissions: u64,
    pub interactions_url: Option<Url>,
}

/// Everything the emulator knows, behind one lock.
#[derive(Debug)]
pub(crate) struct World {
    pub app: App,
    pub clock: Arc<Clock>,
    pub ids: Snowflakes,
    pub users: BTreeMap<u64, User>,
    pub guilds: BTreeMap<u64, Guild>,
    pub channels: BTreeMap<u64, Channel>,
    pub messages: BTreeMap<u64, Message>,
    pub commands: BTreeMap<u64, Command>,
    /// Interactions by token.
    pub interactions: HashMap<String, Interaction>,
    pub oauth: oauth::OAuth,
    pub role_connection_metadata: Vec<Value>,
    /// Role connection of each user.
    pub role_connections: HashMap<u64, Value>,
    pub activity_instances: BTreeMap<String, Value>,
    pub dm_channels: HashMap<u64, u64>,
    /// Every message created, edited or deleted.
    pub message_log: Vec<MessageRecord>,
    /// Dispatches not yet handed to the gateway.
    pub outbox: Vec<Dispatch>,
}

impl World {
    /// Builds the world of a configuration.
    pub(crate) fn new(config: &EmulatorConfig, clock: Arc<Clock>) -> Result<Self, EmulatorError> {
        let ids = Snowflakes::default();
        let app = make_app(&config.application, config.interactions_url.clone(), &ids, clock.now_ms())?;
        let bot = User {
            id: app.bot_user_id,
            username: config.application.bot_username.clone(),
            global_name: None,
            email: None,
            locale: None,
            bot: true,
        };
        let mut world = Self {
            app,
            clock,
            ids,
            users: BTreeMap::from([(bot.id, bot)]),
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            commands: BTreeMap::new(),
            interactions: HashMap::new(),
            oauth: oauth::OAuth::default(),
            role_connection_metadata: Vec::new(),
            role_connections: HashMap::new(),
            activity_instances: BTreeMap::new(),
            dm_channels: HashMap::new(),
            message_log: Vec::new(),
            outbox: Vec::new(),
        };
        for user in &config.users {
            world.upsert_user(user);
        }
        for guild in &config.guilds {
            world.add_guild(guild).map_err(|error| EmulatorError::World(error_text(&error.body)))?;
        }
        if world.app.flags & APPLICATION_FLAG_EMBEDDED != 0 {
            world.add_entry_point_command();
        }
        world.outbox.clear();
        Ok(world)
    }

    /// Unix milliseconds now.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// A fresh snowflake.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.next(self.clock.now_ms())
    }

    /// Queues a dispatch for the gateway.
    pub(crate) fn emit(&mut self, dispatch: Dispatch) {
        self.outbox.push(dispatch);
    }

    /// Adds or replaces a user.
    pub(crate) fn upsert_user(&mut self, seed: &UserSeed) {
        let user = User {
            id: seed.id,
            username: seed.username.clone(),
            global_name: seed.global_name.clone(),
            email: seed.email.clone(),
            locale: seed.locale.clone(),
            bot: false,
        };
        self.users.insert(seed.id, user);
    }

    /// The guild, or 10004.
    pub(crate) fn guild(&self, id: u64) -> Result<&Guild, crate::api_error::ApiError> {
        self.guilds.get(&id).ok_or_else(crate::api_error::ApiError::unknown_guild)
    }

    /// The guild, or 10004.
    pub(crate) fn guild_mut(&mut self, id: u64) -> Result<&mut Guild, crate::api_error::ApiError> {
        self.guilds.get_mut(&id).ok_or_else(crate::api_error::ApiError::unknown_guild)
    }

    /// The user's DM channel with the bot (created on first use).
    pub(crate) fn dm_channel(&mut self, user_id: u64) -> u64 {
        if let Some(id) = self.dm_channels.get(&user_id) {
            return *id;
        }
        let id = self.next_id();
        let channel = Channel {
            id,
            kind: 1,
            guild_id: None,
            name: None,
            position: 0,
            parent_id: None,
            recipients: vec![user_id],
            last_message_id: None,
            overwrites: Vec::new(),
        };
        self.channels.insert(id, channel);
        self.dm_channels.insert(user_id, id);
        id
    }

    /// The bot's base permissions in a guild.
    pub(crate) fn bot_permissions_in(&self, guild_id: u64) -> u64 {
        self.guilds.get(&guild_id).map_or(0, |guild| guild.permissions_of(self.app.bot_user_id))
    }

    /// The bot's permissions in a channel: base permissions and the channel's overwrites (`None` for a DM or a
    /// channel of an unknown guild).
    pub(crate) fn bot_permissions_in_channel(&self, channel: &Channel) -> Option<u64> {
        let guild = self.guilds.get(&channel.guild_id?)?;
        Some(guild.permissions_in(self.app.bot_user_id, channel))
    }

    /// Whether the bot holds `bits` in a guild.
    pub(crate) fn require_bot(&self, guild_id: u64, bits: u64) -> Result<(), crate::api_error::ApiError> {
        if self.bot_permissions_in(guild_id) & bits == bits {
            Ok(())
        } else {
            Err(crate::api_error::ApiError::missing_permissions())
        }
    }

    fn add_entry_point_command(&mut self) {
        let id = self.next_id();
        let body = json!({
            "type": 4, "name": "launch", "description": "", "handler": 2,
            "integration_types": [0, 1], "contexts": [0, 1, 2],
        });
        let command = Command { id, guild_id: None, kind: 4, name: "launch".to_owned(), version: id, body };
        self.commands.insert(id, command);
    }
}

fn error_text(body: &Value) -> String {
    body.to_string()
}

fn make_app(
    config: &ApplicationConfig,
    interactions_url: Option<Url>,
    ids: &Snowflakes,
    now: u64,
) -> Result<App, EmulatorError> {
    let id = config.id.unwrap_or_else(|| ids.next(now));
    let bot_user_id = config.bot_user_id.unwrap_or(id);
    let mut seed = [0_u8; 32];
    if let Some(text) = &config.signing_key_hex {
        seed = hex::decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| EmulatorError::Config("signing_key_hex must be 64 hex digits".to_owned()))?;
    } else {
        rand::fill(&mut seed);
    }
    let signing_key = SigningKey::from_bytes(&seed);
    let public_key_hex = hex::encode(signing_key.verifying_key().to_bytes());
    let bot_token = config.bot_token.clone().unwrap_or_else(|| bot_token_for(bot_user_id));
    Ok(App {
        id,
        name: config.name.clone(),
        bot_user_id,
        bot_token,
        client_secret: config.client_secret.clone().unwrap_or_else(|| random_token(32)),
        signing_key,
        public_key_hex,
        flags: config.flags,
        privileged_intents: config.privileged_intents,
        redirect_uris: config.redirect_uris.clone(),
        bot_permissions: config.bot_permissions,
        interactions_url,
    })
}

/// A token shaped like Discord's: `base64(user id).random.random`.
fn bot_token_for(user_id: u64) -> String {
    use base64::Engine as _;
    let head = base64::engine::general_purpose::STANDARD_NO_PAD.encode(user_id.to_string());
    format!("{head}.{}.{}", random_token(6), random_token(38))
}
