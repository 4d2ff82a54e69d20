//! The objects of the emulated world (rendered to Discord's JSON by `world::json`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::OverwriteSeed;

/// A user (or the bot user).
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub bot: bool,
}

/// A guild role.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
    pub position: i64,
    pub color: u32,
    pub hoist: bool,
    pub mentionable: bool,
    /// The bot's managed role carries `tags.bot_id`.
    pub bot_id: Option<u64>,
}

/// A guild member.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub nick: Option<String>,
    pub joined_ms: u64,
}

/// A channel (guild channel or DM).
#[derive(Clone, Debug)]
pub(crate) struct Channel {
    pub id: u64,
    pub kind: u8,
    pub guild_id: Option<u64>,
    pub name: Option<String>,
    pub position: i64,
    pub parent_id: Option<u64>,
    pub recipients: Vec<u64>,
    pub last_message_id: Option<u64>,
    /// Permission overwrites, in the order they were given (`@everyone`'s, roles', members').
    pub overwrites: Vec<OverwriteSeed>,
}

/// A guild scheduled event.
#[derive(Clone, Debug)]
pub(crate) struct ScheduledEvent {
    pub id: u64,
    pub guild_id: u64,
    pub channel_id: Option<u64>,
    pub creator_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub start: String,
    pub end: Option<String>,
    pub privacy_level: u8,
    pub status: u8,
    pub entity_type: u8,
    pub location: Option<String>,
    pub image: Option<String>,
}

/// A guild.
#[derive(Clone, Debug)]
pub(crate) struct Guild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    pub preferred_locale: String,
    pub roles: Vec<Role>,
    /// Members by user id.
    // NOTE: ordered by user id so `GET /guilds/{id}/members?after=` is a range scan, also with 100k members.
    pub members: BTreeMap<u64, Member>,
    pub channels: Vec<u64>,
    pub events: Vec<ScheduledEvent>,
    pub joined_ms: u64,
    /// Channel where Discord posts system messages (`system_channel_id`).
    pub system_channel_id: Option<u64>,
    /// In an outage (`GUILD_DELETE` with `unavailable: true` was sent, no `GUILD_CREATE` since).
    pub unavailable: bool,
}

impl Guild {
    pub(crate) fn role(&self, id: u64) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == id)
    }

    pub(crate) fn member(&self, user_id: u64) -> Option<&Member> {
        self.members.get(&user_id)
    }

    pub(crate) fn member_mut(&mut self, user_id: u64) -> Option<&mut Member> {
        self.members.get_mut(&user_id)
    }

    pub(crate) fn event(&self, id: u64) -> Option<&ScheduledEvent> {
        self.events.iter().find(|event| event.id == id)
    }

    /// `@everyone`'s permissions (its id is the guild's).
    pub(crate) fn everyone_permissions(&self) -> u64 {
        self.role(self.id).map_or(0, |role| role.permissions)
    }

    /// Base permissions of a member (owner, `@everyone`, roles, `ADMINISTRATOR`).
    pub(crate) fn permissions_of(&self, user_id: u64) -> u64 {
        let roles = self.member(user_id).map(|member| member.roles.as_slice()).unwrap_or_default();
        let bits = roles.iter().filter_map(|id| self.role(*id)).map(|role| role.permissions);
        crate::perms::base_permissions(user_id == self.owner_id, self.everyone_permissions(), bits)
    }

    /// Permissions of a member in one of the guild's channels: base permissions, then the channel's overwrites.
    pub(crate) fn permissions_in(&self, user_id: u64, channel: &Channel) -> u64 {
        let roles = self.member(user_id).map(|member| member.roles.as_slice()).unwrap_or_default();
        crate::perms::apply_overwrites(self.permissions_of(user_id), self.id, user_id, roles, &channel.overwrites)
    }

    /// Highest role position of a member (`@everyone` is 0).
    pub(crate) fn top_position(&self, user_id: u64) -> i64 {
        let roles = self.member(user_id).map(|member| member.roles.as_slice()).unwrap_or_default();
        roles.iter().filter_map(|id| self.role(*id)).map(|role| role.position).max().unwrap_or(0)
    }
}

/// What the interaction that produced a message was.
#[derive(Clone, Debug)]
pub(crate) struct InteractionMeta {
    pub id: u64,
    pub kind: u8,
    pub user_id: u64,
    pub name: Option<String>,
    pub guild_id: Option<u64>,
}

/// A message.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub author_id: u64,
    pub kind: u8,
    pub content: String,
    pub embeds: Value,
    pub components: Value,
    pub attachments: Value,
    pub flags: u64,
    pub tts: bool,
    pub edited_ms: Option<u64>,
    pub webhook_id: Option<u64>,
    pub interaction: Option<InteractionMeta>,
    pub reference: Option<Value>,
    pub nonce: Option<Value>,
}

/// An application command.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    pub id: u64,
    pub guild_id: Option<u64>,
    pub kind: u8,
    pub name: String,
    pub version: u64,
    /// The definition as sent (normalised: `type` set, ids and versions stripped).
    pub body: Value,
}

/// An interaction that was sent, with its token's state.
#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    pub id: u64,
    pub token: String,
    pub kind: u8,
    pub created_ms: u64,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub user_id: u64,
    pub command_name: Option<String>,
    /// The message a component sits on.
    pub component_message: Option<u64>,
    /// Callback type of the first response.
    pub response: Option<u8>,
    pub original: Option<u64>,
    pub followups: Vec<u64>,
}
