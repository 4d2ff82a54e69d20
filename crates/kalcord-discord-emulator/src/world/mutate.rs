//! World changes that Discord announces on the gateway: guilds (joins, removals, outages), roles, channels.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::World;
use super::json as render;
use super::model::{Channel, Guild, Member, Role};
use crate::api_error::ApiError;
use crate::config::{ChannelSeed, GuildSeed, MemberSeed, RoleSeed};
use crate::gateway::dispatch::Dispatch;
use crate::perms::{self, INTENT_GUILDS};

/// Fields of a role to create or change (`None`: keep / default).
#[derive(Clone, Debug, Default)]
pub(crate) struct RoleFields {
    pub name: Option<String>,
    pub permissions: Option<u64>,
    pub color: Option<u32>,
    pub hoist: Option<bool>,
    pub mentionable: Option<bool>,
    pub position: Option<i64>,
}

impl World {
    /// Adds a guild the bot is in (announced with `GUILD_CREATE`).
    pub(crate) fn add_guild(&mut self, seed: &GuildSeed) -> Result<(), ApiError> {
        if seed.id == 0 || self.guilds.contains_key(&seed.id) {
            return Err(ApiError::form_field(&["id"], "GUILD_EXISTS", "A guild with this id exists already."));
        }
        check_guild_channels(self, seed)?;
        let now = self.now_ms();
        let everyone = Role {
            id: seed.id,
            name: "@everyone".to_owned(),
            permissions: seed.everyone_permissions.unwrap_or(perms::DEFAULT_EVERYONE),
            position: 0,
            color: 0,
            hoist: false,
            mentionable: false,
            bot_id: None,
        };
        let bot_role = self.bot_role(seed);
        let bot = self.app.bot_user_id;
        let mut members = BTreeMap::new();
        members.insert(bot, Member { user_id: bot, roles: vec![bot_role.id], nick: None, joined_ms: now });
        // NOTE: a map keyed by user id dedupes in O(log n); 100k seeded members stay quick. A seed naming the bot
        // is skipped: the bot's member (with its managed role) and user are the emulator's own.
        for member in seed.members.iter().filter(|member| member.user.id != bot) {
            self.upsert_user(&member.user);
            members.insert(member.user.id, member_of_seed(member, now));
        }
        let mut guild = Guild {
            id: seed.id,
            name: seed.name.clone(),
            owner_id: seed.owner_id,
            preferred_locale: seed.preferred_locale.clone(),
            roles: vec![everyone, bot_role],
            members,
            channels: Vec::new(),
            events: Vec::new(),
            joined_ms: now,
            system_channel_id: seed.system_channel_id,
            unavailable: false,
        };
        guild.roles.extend(seed.roles.iter().map(role_of_seed));
        self.guilds.insert(seed.id, guild);
        for channel in &seed.channels {
            self.insert_channel(seed.id, channel);
        }
        self.emit_guild_create(seed.id);
        Ok(())
    }

    /// The bot leaves (or is removed from) a guild: `GUILD_DELETE` without `unavailable`, then the guild, its
    /// channels, messages and guild commands are forgotten (REST answers 10004 Unknown Guild).
    pub(crate) fn remove_guild(&mut self, guild_id: u64) -> Result<(), ApiError> {
        let guild = self.guilds.remove(&guild_id).ok_or_else(ApiError::unknown_guild)?;
        for channel_id in &guild.channels {
            self.channels.remove(channel_id);
        }
        self.messages.retain(|_, message| message.guild_id != Some(guild_id));
        self.commands.retain(|_, command| command.guild_id != Some(guild_id));
        let data = json!({"id": guild_id.to_string()});
        self.emit(Dispatch::new("GUILD_DELETE", Some(guild_id), INTENT_GUILDS, data));
        Ok(())
    }

    /// A guild outage: `GUILD_DELETE` with `unavailable: true`; the guild is kept (and left out of the
    /// `GUILD_CREATE` backfill of new sessions) until [`World::end_guild_outage`].
    pub(crate) fn guild_outage(&mut self, guild_id: u64) -> Result<(), ApiError> {
        self.guild_mut(guild_id)?.unavailable = true;
        let data = json!({"id": guild_id.to_string(), "unavailable": true});
        self.emit(Dispatch::new("GUILD_DELETE", Some(guild_id), INTENT_GUILDS, data));
        Ok(())
    }

    /// The guild is available again: `GUILD_CREATE`.
    pub(crate) fn end_guild_outage(&mut self, guild_id: u64) -> Result<(), ApiError> {
        self.guild_mut(guild_id)?.unavailable = false;
        self.emit_guild_create(guild_id);
        Ok(())
    }

    fn bot_role(&self, seed: &GuildSeed) -> Role {
        let top = seed.roles.iter().map(|role| role.position).max().unwrap_or(0);
        Role {
            id: self.next_id(),
            name: self.app.name.clone(),
            permissions: self.app.bot_permissions,
            position: top + 1,
            color: 0,
            hoist: false,
            mentionable: false,
            bot_id: Some(self.app.bot_user_id),
        }
    }

    pub(crate) fn emit_guild_create(&mut self, guild_id: u64) {
        let Some(guild) = self.guilds.get(&guild_id) else { return };
        let data = render::guild_create(self, guild, false);
        let full = render::lists_all_members(guild).then(|| render::guild_create(self, guild, true));
        let mut dispatch = Dispatch::new("GUILD_CREATE", Some(guild_id), INTENT_GUILDS, data);
        dispatch.data_with_presences = full;
        self.emit(dispatch);
    }

    fn insert_channel(&mut self, guild_id: u64, seed: &ChannelSeed) -> Channel {
        let position = self.guilds.get(&guild_id).map_or(0, |guild| guild.channels.len());
        let channel = Channel {
            id: seed.id,
            kind: seed.kind,
            guild_id: Some(guild_id),
            name: Some(seed.name.clone()),
            position: i64::try_from(position).unwrap_or(0),
            parent_id: seed.parent_id,
            recipients: Vec::new(),
            last_message_id: None,
            overwrites: seed.permission_overwrites.clone(),
        };
        self.channels.insert(channel.id, channel.clone());
        if let Some(guild) = self.guilds.get_mut(&guild_id) {
            guild.channels.push(channel.id);
        }
        channel
    }

    /// Adds a channel to a guild (`CHANNEL_CREATE`).
    pub(crate) fn add_channel(&mut self, guild_id: u64, seed: &ChannelSeed) -> Result<Value, ApiError> {
        self.guild(guild_id)?;
        if self.channels.contains_key(&seed.id) {
            return Err(ApiError::form_field(&["id"], "CHANNEL_EXISTS", "A channel with this id exists already."));
        }
        let channel = self.insert_channel(guild_id, seed);
        let value = render::channel(self, &channel);
        self.emit(Dispatch::new("CHANNEL_CREATE", Some(guild_id), INTENT_GUILDS, value.clone()));
        Ok(value)
    }

    /// Creates a role (`GUILD_ROLE_CREATE`).
    pub(crate) fn create_role(
        &mut self,
        guild_id: u64,
        id: Option<u64>,
        fields: &RoleFields,
    ) -> Result<Value, ApiError> {
        let id = id.unwrap_or_else(|| self.next_id());
        let guild = self.guild_mut(guild_id)?;
        if guild.role(id).is_some() {
            return Err(ApiError::form_field(&["id"], "ROLE_EXISTS", "A role with this id exists already."));
        }
        let role = Role {
            id,
            name: fields.name.clone().unwrap_or_else(|| "new role".to_owned()),
            permissions: fields.permissions.unwrap_or(perms::DEFAULT_EVERYONE),
            position: fields.position.unwrap_or(1),
            color: fields.color.unwrap_or(0),
            hoist: fields.hoist.unwrap_or(false),
            mentionable: fields.mentionable.unwrap_or(false),
            bot_id: None,
        };
        guild.roles.push(role.clone());
        let value = render::role(&role);
        let data = json!({"guild_id": guild_id.to_string(), "role": value});
        self.emit(Dispatch::new("GUILD_ROLE_CREATE", Some(guild_id), INTENT_GUILDS, data));
        Ok(value)
    }

    /// Changes a role (`GUILD_ROLE_UPDATE`).
    pub(crate) fn update_role(&mut self, guild_id: u64, role_id: u64, fields: &RoleFields) -> Result<Value, ApiError> {
        let guild = self.guild_mut(guild_id)?;
        let role = guild.roles.iter_mut().find(|role| role.id == role_id).ok_or_else(ApiError::unknown_role)?;
        if let Some(name) = &fields.name {
            role.name.clone_from(name);
        }
        role.permissions = fields.permissions.unwrap_or(role.permissions);
        role.color = fields.color.unwrap_or(role.color);
        role.hoist = fields.hoist.unwrap_or(role.hoist);
        role.mentionable = fields.mentionable.unwrap_or(role.mentionable);
        role.position = fields.position.unwrap_or(role.position);
        let value = render::role(role);
        let data = json!({"guild_id": guild_id.to_string(), "role": value});
        self.emit(Dispatch::new("GUILD_ROLE_UPDATE", Some(guild_id), INTENT_GUILDS, data));
        Ok(value)
    }

    /// Deletes a role and takes it from every member (`GUILD_ROLE_DELETE`).
    pub(crate) fn delete_role(&mut self, guild_id: u64, role_id: u64) -> Result<(), ApiError> {
        let guild = self.guild_mut(guild_id)?;
        if role_id == guild_id {
            return Err(ApiError::form_root("INVALID_ROLE", "Cannot delete the @everyone role."));
        }
        let before = guild.roles.len();
        guild.roles.retain(|role| role.id != role_id);
        if guild.roles.len() == before {
            return Err(ApiError::unknown_role());
        }
        for member in guild.members.values_mut() {
            member.roles.retain(|id| *id != role_id);
        }
        let data = json!({"guild_id": guild_id.to_string(), "role_id": role_id.to_string()});
        self.emit(Dispatch::new("GUILD_ROLE_DELETE", Some(guild_id), INTENT_GUILDS, data));
        Ok(())
    }
}

fn role_of_seed(seed: &RoleSeed) -> Role {
    Role {
        id: seed.id,
        name: seed.name.clone(),
        permissions: seed.permissions,
        position: seed.position,
        color: seed.color,
        hoist: seed.hoist,
        mentionable: seed.mentionable,
        bot_id: None,
    }
}

pub(super) fn member_of_seed(seed: &MemberSeed, now: u64) -> Member {
    Member { user_id: seed.user.id, roles: seed.roles.clone(), nick: seed.nick.clone(), joined_ms: now }
}

/// The seed's channel ids are free and its system channel is one of them.
fn check_guild_channels(world: &World, seed: &GuildSeed) -> Result<(), ApiError> {
    if seed.channels.iter().any(|channel| world.channels.contains_key(&channel.id)) {
        return Err(ApiError::form_field(&["channels"], "CHANNEL_EXISTS", "A channel with this id exists already."));
    }
    if let Some(id) = seed.system_channel_id
        && !seed.channels.iter().any(|channel| channel.id == id)
    {
        return Err(ApiError::form_field(&["system_channel_id"], "UNKNOWN_CHANNEL", "Unknown Channel"));
    }
    Ok(())
}
