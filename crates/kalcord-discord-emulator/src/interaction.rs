//! Full interaction payloads (what Discord POSTs to the Interactions Endpoint URL), built from the world.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::EmulatorError;
use crate::ids::random_token;
use crate::perms::DM_APP_PERMISSIONS;
use crate::world::World;
use crate::world::json as render;
use crate::world::model::Interaction;

/// `attachment_size_limit` Discord sends (8 MiB).
pub const ATTACHMENT_SIZE_LIMIT: u64 = 8_388_608;

/// What the user did.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InteractionKind {
    /// PING (type 1), as sent when the endpoint URL is saved.
    Ping,
    /// A slash command (type 2); `options` are Discord-shaped (`{name, type, value?, options?}`).
    Command {
        /// Registered command name (guild commands of the guild first, then global).
        name: String,
        /// Options, with subcommands nested.
        #[serde(default)]
        options: Vec<Value>,
    },
    /// Autocomplete (type 4): the options typed so far, one with `"focused": true`.
    Autocomplete {
        /// Registered command name.
        name: String,
        /// Options.
        #[serde(default)]
        options: Vec<Value>,
    },
    /// A button click (type 3) on a message.
    Button {
        /// The button's `custom_id`.
        custom_id: String,
        /// The message the button is on.
        #[serde(with = "crate::ids::string")]
        message_id: u64,
    },
    /// A string select (type 3) on a message.
    Select {
        /// The menu's `custom_id`.
        custom_id: String,
        /// The message it is on.
        #[serde(with = "crate::ids::string")]
        message_id: u64,
        /// Chosen values.
        values: Vec<String>,
    },
    /// A modal submit (type 5): text inputs, each inside a Label.
    ModalSubmit {
        /// The modal's `custom_id`.
        custom_id: String,
        /// `(text input custom_id, value)` pairs.
        fields: Vec<(String, String)>,
    },
}

/// An interaction to send.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InteractionSpec {
    /// What happened.
    #[serde(flatten)]
    pub kind: InteractionKind,
    /// Guild (`None`: the user's DM with the bot).
    #[serde(default, with = "crate::ids::option_string")]
    pub guild_id: Option<u64>,
    /// Channel (default: the guild's first text channel, or the DM).
    #[serde(default, with = "crate::ids::option_string")]
    pub channel_id: Option<u64>,
    /// The user (a member of the guild).
    #[serde(default, with = "crate::ids::string")]
    pub user_id: u64,
    /// Client locale (default: the user's, else `en-US`).
    #[serde(default)]
    pub locale: Option<String>,
}

impl InteractionSpec {
    /// An interaction of `kind` by `user_id` in `guild_id` (its first text channel).
    #[must_use]
    pub fn new(kind: InteractionKind, guild_id: Option<u64>, user_id: u64) -> Self {
        Self { kind, guild_id, channel_id: None, user_id, locale: None }
    }

    /// A slash command.
    #[must_use]
    pub fn command(guild_id: u64, user_id: u64, name: &str, options: Vec<Value>) -> Self {
        Self::new(InteractionKind::Command { name: name.to_owned(), options }, Some(guild_id), user_id)
    }

    /// A button click.
    #[must_use]
    pub fn button(guild_id: u64, user_id: u64, custom_id: &str, message_id: u64) -> Self {
        Self::new(InteractionKind::Button { custom_id: custom_id.to_owned(), message_id }, Some(guild_id), user_id)
    }

    /// A PING.
    #[must_use]
    pub fn ping() -> Self {
        Self::new(InteractionKind::Ping, None, 0)
    }

    /// In this channel.
    #[must_use]
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.channel_id = Some(channel_id);
        self
    }
}

fn kind_number(kind: &InteractionKind) -> u8 {
    match kind {
        InteractionKind::Ping => 1,
        InteractionKind::Command { .. } => 2,
        InteractionKind::Button { .. } | InteractionKind::Select { .. } => 3,
        InteractionKind::Autocomplete { .. } => 4,
        InteractionKind::ModalSubmit { .. } => 5,
    }
}

fn bad(text: impl Into<String>) -> EmulatorError {
    EmulatorError::Interaction(text.into())
}

/// An opaque token like Discord's (base64 of `interaction:<id>:<random>`), over 100 characters.
fn token_for(id: u64) -> String {
    let raw = format!("interaction:{id}:{}", random_token(96));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Builds the payload and registers the interaction (its token starts the 3 s / 15 min clocks).
pub(crate) fn build(world: &mut World, spec: &InteractionSpec) -> Result<(Interaction, Value), EmulatorError> {
    let id = world.next_id();
    let token = token_for(id);
    let kind = kind_number(&spec.kind);
    let mut payload = json!({
        "id": id.to_string(), "application_id": world.app.id.to_string(), "type": kind, "token": token,
        "version": 1, "entitlements": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    });
    let mut record = Interaction {
        id,
        token: token.clone(),
        kind,
        created_ms: world.now_ms(),
        guild_id: spec.guild_id,
        channel_id: None,
        user_id: spec.user_id,
        command_name: None,
        component_message: None,
        response: None,
        original: None,
        followups: Vec::new(),
    };
    if kind == 1 {
        payload["authorizing_integration_owners"] = json!({});
        payload["app_permissions"] = json!("0");
    } else {
        let channel_id = place(world, spec, &mut payload)?;
        record.channel_id = Some(channel_id);
        data(world, spec, channel_id, &mut payload, &mut record)?;
    }
    world.interactions.insert(token, record.clone());
    Ok((record, payload))
}

/// Guild or DM context: member/user, channel, permissions, locales, owners.
fn place(world: &mut World, spec: &InteractionSpec, payload: &mut Value) -> Result<u64, EmulatorError> {
    let user = world.users.get(&spec.user_id).cloned().ok_or_else(|| bad(format!("unknown user {}", spec.user_id)))?;
    let locale = spec.locale.clone().or(user.locale.clone()).unwrap_or_else(|| "en-US".to_owned());
    payload["locale"] = json!(locale);
    let Some(guild_id) = spec.guild_id else {
        let channel_id = world.dm_channel(spec.user_id);
        let channel = world.channels.get(&channel_id).map(|channel| render::channel(world, channel));
        let fields = json!({
            "user": render::user(&user), "channel_id": channel_id.to_string(), "channel": channel, "context": 1,
            "app_permissions": DM_APP_PERMISSIONS.to_string(), "authorizing_integration_owners": {"0": "0"},
        });
        merge(payload, fields);
        return Ok(channel_id);
    };
    let guild = world.guilds.get(&guild_id).ok_or_else(|| bad(format!("unknown guild {guild_id}")))?;
    let member =
        guild.member(spec.user_id).ok_or_else(|| bad(format!("user {} is not in guild {guild_id}", spec.user_id)))?;
    let channel_id = match spec.channel_id {
        Some(id) => id,
        None => guild
            .channels
            .iter()
            .copied()
            .find(|id| world.channels.get(id).is_some_and(|channel| channel.kind == 0))
            .ok_or_else(|| bad(format!("guild {guild_id} has no text channel")))?,
    };
    let channel = world.channels.get(&channel_id).filter(|channel| channel.guild_id == Some(guild_id));
    let channel = channel.ok_or_else(|| bad(format!("channel {channel_id} is not in guild {guild_id}")))?;
    // NOTE: an interaction carries permissions in its channel (overwrites included), not the guild-wide ones.
    let permissions = guild.permissions_in(spec.user_id, channel).to_string();
    let mut member_json = render::member(world, member);
    member_json["permissions"] = json!(permissions);
    let mut channel_json = render::channel(world, channel);
    channel_json["permissions"] = json!(permissions);
    let fields = json!({
        "guild_id": guild_id.to_string(), "guild_locale": guild.preferred_locale,
        "guild": {"id": guild_id.to_string(), "locale": guild.preferred_locale, "features": []},
        "member": member_json, "channel_id": channel_id.to_string(), "channel": channel_json, "context": 0,
        "app_permissions": guild.permissions_in(world.app.bot_user_id, channel).to_string(),
        "authorizing_integration_owners": {"0": guild_id.to_string()},
    });
    merge(payload, fields);
    Ok(channel_id)
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// `data` (and `message` for components) of each type.
fn data(
    world: &World,
    spec: &InteractionSpec,
    channel_id: u64,
    payload: &mut Value,
    record: &mut Interaction,
) -> Result<(), EmulatorError> {
    match &spec.kind {
        InteractionKind::Ping => {}
        InteractionKind::Command { name, options } | InteractionKind::Autocomplete { name, options } => {
            payload["data"] = command_data(world, spec, name, options)?;
            record.command_name = Some(name.clone());
        }
        InteractionKind::Button { custom_id, message_id } => {
            payload["data"] = json!({"custom_id": custom_id, "component_type": 2});
            payload["message"] = component_message(world, channel_id, *message_id)?;
            record.component_message = Some(*message_id);
        }
        InteractionKind::Select { custom_id, message_id, values } => {
            payload["data"] = json!({"custom_id": custom_id, "component_type": 3, "values": values});
            payload["message"] = component_message(world, channel_id, *message_id)?;
            record.component_message = Some(*message_id);
        }
        InteractionKind::ModalSubmit { custom_id, fields } => {
            let components: Vec<Value> = fields
                .iter()
                .zip((1_i32..).step_by(2))
                .map(|((input, value), id)| {
                    json!({"type": 18, "id": id, "component": {"type": 4, "id": id + 1, "custom_id": input, "value": value}})
                })
                .collect();
            payload["data"] = json!({"custom_id": custom_id, "components": components});
        }
    }
    Ok(())
}

/// A registered CHAT_INPUT command: the guild's own first, then the global one.
fn command_data(world: &World, spec: &InteractionSpec, name: &str, options: &[Value]) -> Result<Value, EmulatorError> {
    let named = |guild: Option<u64>| {
        world.commands.values().find(|command| command.kind == 1 && command.name == name && command.guild_id == guild)
    };
    let command = spec
        .guild_id
        .and_then(|guild_id| named(Some(guild_id)))
        .or_else(|| named(None))
        .ok_or_else(|| bad(format!("no command named {name:?} is registered")))?;
    let mut value = json!({"id": command.id.to_string(), "name": name, "type": 1});
    if !options.is_empty() {
        value["options"] = json!(options);
    }
    if let Some(guild_id) = command.guild_id {
        value["guild_id"] = json!(guild_id.to_string());
    }
    let resolved = resolved(world, spec.guild_id, spec.user_id, options);
    if !resolved.is_empty() {
        value["resolved"] = Value::Object(resolved);
    }
    Ok(value)
}

fn component_message(world: &World, channel_id: u64, message_id: u64) -> Result<Value, EmulatorError> {
    let message = world.messages.get(&message_id).filter(|message| message.channel_id == channel_id);
    let message = message.ok_or_else(|| bad(format!("message {message_id} is not in channel {channel_id}")))?;
    Ok(render::message(world, message))
}

/// `resolved` for USER (6), CHANNEL (7), ROLE (8) and MENTIONABLE (9) options, walking subcommands.
fn resolved(world: &World, guild_id: Option<u64>, invoker: u64, options: &[Value]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut stack: Vec<&Value> = options.iter().collect();
    while let Some(option) = stack.pop() {
        if let Some(children) = option.get("options").and_then(Value::as_array) {
            stack.extend(children);
        }
        let kind = option.get("type").and_then(Value::as_u64).unwrap_or(0);
        let Some(id) = option.get("value").and_then(Value::as_str).and_then(crate::ids::parse_id) else { continue };
        resolve_one(world, guild_id, invoker, (kind, id), &mut out);
    }
    out
}

fn resolve_one(
    world: &World,
    guild_id: Option<u64>,
    invoker: u64,
    (kind, id): (u64, u64),
    out: &mut Map<String, Value>,
) {
    let guild = guild_id.and_then(|guild_id| world.guilds.get(&guild_id));

    let mut insert = |bucket: &str, value: Value| {
        let entry = out.entry(bucket.to_owned()).or_insert_with(|| json!({}));
        entry[id.to_string()] = value;
    };
    if matches!(kind, 6 | 9)
        && let Some(user) = world.users.get(&id)
    {
        insert("users", render::user(user));
        if let Some(member) = guild.and_then(|guild| guild.member(id)) {
            let mut value = render::member(world, member);
            value.as_object_mut().map(|map| map.remove("user"));
            value["permissions"] = json!(guild.map_or(0, |guild| guild.permissions_of(id)).to_string());
            insert("members", value);
        }
    }
    if matches!(kind, 8 | 9)
        && let Some(role) = guild.and_then(|guild| guild.role(id))
    {
        insert("roles", render::role(role));
    }
    if kind == 7
        && let Some(channel) = world.channels.get(&id)
    {
        let mut value = render::channel(world, channel);
        let permissions = guild.map_or(DM_APP_PERMISSIONS, |guild| guild.permissions_in(invoker, channel));
        value["permissions"] = json!(permissions.to_string());
        insert("channels", value);
    }
}
