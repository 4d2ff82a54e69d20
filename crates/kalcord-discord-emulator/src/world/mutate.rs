//! World changes that Discord announces on the gateway: guilds, members, roles, channels.

use serde_json::{Value, json};

use super::World;
use super::json as render;
use super::model::{Channel, Guild, Member, Role};
use crate::api_error::ApiError;
use crate::config::{ChannelSeed, GuildSeed, MemberSeed, RoleSeed};
use crate::gateway::dispatch::Dispatch;
use crate::perms::{self, INTENT_GUILD_MEMBERS, INTENT_GUILDS};

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
        let mut guild = Guild {
            id: seed.id,
            name: seed.name.clone(),
            owner_id: seed.owner_id,
            preferred_locale: seed.preferred_locale.clone(),
            roles: vec![everyone, bot_role.clone()],
            members: vec![Member {
                user_id: self.app.bot_user_id,
                roles: vec![bot_role.id],
                nick: None,
                joined_ms: now,
            }],
            channels: Vec::new(),
            events: Vec::new(),
            joined_ms: now,
        };
        guild.roles.extend(seed.roles.iter().map(role_of_seed));
        for member in &seed.members {
            self.upsert_user(&member.user);
            guild.members.retain(|existing| existing.user_id != member.user.id);
            guild.members.push(member_of_seed(member, now));
        }
        self.guilds.insert(seed.id, guild);
        for channel in &seed.channels {
            self.insert_channel(seed.id, channel);
        }
        self.emit_guild_create(seed.id);
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
        let full = render::guild_create(self, guild, true);
        let mut dispatch = Dispatch::new("GUILD_CREATE", Some(guild_id), INTENT_GUILDS, data);
        dispatch.data_with_presences = Some(full);
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

    /// Adds (or replaces) a member (`GUILD_MEMBER_ADD`).
    pub(crate) fn add_member(&mut self, guild_id: u64, seed: &MemberSeed) -> Result<Value, ApiError> {
        let now = self.now_ms();
        let guild = self.guild(guild_id)?;
        if let Some(role) = seed.roles.iter().find(|role| guild.role(**role).is_none()) {
            return Err(ApiError::form_field(&["roles", &role.to_string()], "UNKNOWN_ROLE", "Unknown Role"));
        }
        self.upsert_user(&seed.user);
        let member = member_of_seed(seed, now);
        let guild = self.guild_mut(guild_id)?;
        guild.members.retain(|existing| existing.user_id != member.user_id);
        guild.members.push(member.clone());
        let value = render::member(self, &member);
        let mut data = value.clone();
        data["guild_id"] = json!(guild_id.to_string());
        self.emit(Dispatch::new("GUILD_MEMBER_ADD", Some(guild_id), INTENT_GUILD_MEMBERS, data));
        Ok(value)
    }

    /// Removes a member (`GUILD_MEMBER_REMOVE`).
    pub(crate) fn remove_member(&mut self, guild_id: u64, user_id: u64) -> Result<(), ApiError> {
        let guild = self.guild_mut(guild_id)?;
        let before = guild.members.len();
        guild.members.retain(|member| member.user_id != user_id);
        if guild.members.len() == before {
            return Err(ApiError::unknown_member());
        }
        let user = self.users.get(&user_id).map_or(Value::Null, render::user);
        let data = json!({"guild_id": guild_id.to_string(), "user": user});
        self.emit(Dispatch::new("GUILD_MEMBER_REMOVE", Some(guild_id), INTENT_GUILD_MEMBERS, data));
        Ok(())
    }

    /// Adds or removes a role of a member (`GUILD_MEMBER_UPDATE` when something changed).
    pub(crate) fn set_member_role(
        &mut self,
        guild_id: u64,
        user_id: u64,
        role_id: u64,
        add: bool,
    ) -> Result<(), ApiError> {
        let guild = self.guild_mut(guild_id)?;
        if guild.role(role_id).is_none() || role_id == guild_id {
            return Err(ApiError::unknown_role());
        }
        let member = guild.member_mut(user_id).ok_or_else(ApiError::unknown_member)?;
        let had = member.roles.contains(&role_id);
        match (add, had) {
            (true, false) => member.roles.push(role_id),
            (false, true) => member.roles.retain(|id| *id != role_id),
            _ => return Ok(()),
        }
        self.emit_member_update(guild_id, user_id);
        Ok(())
    }

    pub(crate) fn emit_member_update(&mut self, guild_id: u64, user_id: u64) {
        let Some(member) = self.guilds.get(&guild_id).and_then(|guild| guild.member(user_id)) else { return };
        let mut data = render::member(self, member);
        data["guild_id"] = json!(guild_id.to_string());
        let intent = if user_id == self.app.bot_user_id { 0 } else { INTENT_GUILD_MEMBERS };
        self.emit(Dispatch::new("GUILD_MEMBER_UPDATE", Some(guild_id), intent, data));
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
        for member in &mut guild.members {
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

fn member_of_seed(seed: &MemberSeed, now: u64) -> Member {
    Member { user_id: seed.user.id, roles: seed.roles.clone(), nick: seed.nick.clone(), joined_ms: now }
}
