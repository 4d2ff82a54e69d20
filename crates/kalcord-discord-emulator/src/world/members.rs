//! Guild members: joins, leaves, role changes, and the payloads of `GUILD_MEMBER_UPDATE` bursts.

use std::sync::Arc;

use serde_json::{Value, json};

use super::World;
use super::json as render;
use super::mutate::member_of_seed;
use crate::api_error::ApiError;
use crate::config::MemberSeed;
use crate::gateway::dispatch::Dispatch;
use crate::perms::INTENT_GUILD_MEMBERS;

/// Most dispatches one burst may ask for (the frames are queued for every connection that gets them).
pub(crate) const MAX_BURST: usize = 1_000_000;

impl World {
    /// Adds (or replaces) a member (`GUILD_MEMBER_ADD`).
    pub(crate) fn add_member(&mut self, guild_id: u64, seed: &MemberSeed) -> Result<(), ApiError> {
        self.add_members(guild_id, std::slice::from_ref(seed))
    }

    /// Adds (or replaces) members, one `GUILD_MEMBER_ADD` each, in order. Nothing changes when a seed names an
    /// unknown role or the bot.
    pub(crate) fn add_members(&mut self, guild_id: u64, seeds: &[MemberSeed]) -> Result<(), ApiError> {
        let now = self.now_ms();
        let guild = self.guild(guild_id)?;
        for (index, seed) in seeds.iter().enumerate() {
            let index = index.to_string();
            if let Some(role) = seed.roles.iter().find(|role| guild.role(**role).is_none()) {
                return Err(ApiError::form_field(
                    &[&index, "roles", &role.to_string()],
                    "UNKNOWN_ROLE",
                    "Unknown Role",
                ));
            }
            if seed.user.id == self.app.bot_user_id {
                return Err(ApiError::form_field(&[&index, "user"], "MEMBER_EXISTS", "The bot is a member already."));
            }
        }
        for seed in seeds {
            self.upsert_user(&seed.user);
            let member = member_of_seed(seed, now);
            let mut data = render::member(self, &member);
            data["guild_id"] = json!(guild_id.to_string());
            self.guild_mut(guild_id)?.members.insert(member.user_id, member);
            self.emit(Dispatch::new("GUILD_MEMBER_ADD", Some(guild_id), INTENT_GUILD_MEMBERS, data));
        }
        Ok(())
    }

    /// Removes a member (`GUILD_MEMBER_REMOVE`).
    pub(crate) fn remove_member(&mut self, guild_id: u64, user_id: u64) -> Result<(), ApiError> {
        let guild = self.guild_mut(guild_id)?;
        guild.members.remove(&user_id).ok_or_else(ApiError::unknown_member)?;
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

    /// Queues the `GUILD_MEMBER_UPDATE` of a member as it is now.
    pub(crate) fn emit_member_update(&mut self, guild_id: u64, user_id: u64) {
        let Some((intent, data)) = self.member_update(guild_id, user_id) else { return };
        self.emit(Dispatch::new("GUILD_MEMBER_UPDATE", Some(guild_id), intent, data));
    }

    /// `GUILD_MEMBER_UPDATE`'s intent and `d` for a member (updates of the bot itself need no intent).
    fn member_update(&self, guild_id: u64, user_id: u64) -> Option<(u64, Value)> {
        let member = self.guilds.get(&guild_id)?.member(user_id)?;
        let mut data = render::member(self, member);
        data["guild_id"] = json!(guild_id.to_string());
        let intent = if user_id == self.app.bot_user_id { 0 } else { INTENT_GUILD_MEMBERS };
        Some((intent, data))
    }

    /// The serialized `GUILD_MEMBER_UPDATE` payloads of a burst of `count`: one per member (ordered by user
    /// id), at most `count`; the burst cycles through them.
    pub(crate) fn member_update_payloads(&self, guild_id: u64, count: usize) -> Result<Vec<(u64, Arc<str>)>, ApiError> {
        if count > MAX_BURST {
            return Err(ApiError::form_field(
                &["count"],
                "NUMBER_TYPE_MAX",
                &format!("int value should be less than or equal to {MAX_BURST}."),
            ));
        }
        let guild = self.guild(guild_id)?;
        Ok(guild
            .members
            .keys()
            .take(count)
            .filter_map(|user_id| self.member_update(guild_id, *user_id))
            .map(|(intent, data)| (intent, Arc::from(data.to_string())))
            .collect())
    }
}
