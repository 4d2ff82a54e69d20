//! Guild members and member roles.

use std::ops::Bound;

use serde_json::Value;

use super::{Ctx, Reply};
use crate::api_error::ApiError;
use crate::perms::{INTENT_GUILD_MEMBERS, MANAGE_ROLES};
use crate::world::World;
use crate::world::json as render;

/// `GET /guilds/{guild_id}/members?limit=1..1000&after=` (needs the GUILD_MEMBERS intent enabled for the app).
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let limit = ctx.query_int("limit", 1, 1, 1000)?;
    let after = ctx.query_int("after", 0, 0, u64::MAX)?;
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    if world.app.privileged_intents & INTENT_GUILD_MEMBERS == 0 {
        return Err(ApiError::missing_access());
    }
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    // NOTE: members are kept ordered by user id, so a page is a range scan (no sort of the whole guild).
    let page = guild.members.range((Bound::Excluded(after), Bound::Unbounded)).take(take);
    Ok(Reply::json(Value::Array(page.map(|(_, member)| render::member(&world, member)).collect())))
}

/// `GET /guilds/{guild_id}/members/search?query=&limit=`: prefix match on username or nickname.
pub(crate) fn search(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let Some(query) = ctx.query.get("query") else {
        return Err(ApiError::form_field(&["query"], "BASE_TYPE_REQUIRED", "This field is required"));
    };
    let limit = usize::try_from(ctx.query_int("limit", 1, 1, 1000)?).unwrap_or(1);
    let needle = query.to_lowercase();
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    let found: Vec<Value> = guild
        .members
        .values()
        .filter(|member| {
            let username =
                world.users.get(&member.user_id).map(|user| user.username.to_lowercase()).unwrap_or_default();
            let nick = member.nick.as_deref().map(str::to_lowercase).unwrap_or_default();
            username.starts_with(&needle) || nick.starts_with(&needle)
        })
        .take(limit)
        .map(|member| render::member(&world, member))
        .collect();
    Ok(Reply::json(Value::Array(found)))
}

/// `GET /guilds/{guild_id}/members/{user_id}`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let user_id = ctx.params.id("user_id")?;
    let world = ctx.inner.world.lock();
    let member = world.guild(guild_id)?.member(user_id).ok_or_else(ApiError::unknown_member)?;
    Ok(Reply::json(render::member(&world, member)))
}

/// The bot may manage `role_id`: MANAGE_ROLES and a higher top role (or ownership).
pub(crate) fn check_manage_role(world: &World, guild_id: u64, role_id: u64) -> Result<(), ApiError> {
    let guild = world.guild(guild_id)?;
    let role = guild.role(role_id).ok_or_else(ApiError::unknown_role)?;
    world.require_bot(guild_id, MANAGE_ROLES)?;
    let bot = world.app.bot_user_id;
    if guild.owner_id != bot && role.position >= guild.top_position(bot) {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

fn change_role(ctx: &Ctx<'_>, add: bool) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let user_id = ctx.params.id("user_id")?;
    let role_id = ctx.params.id("role_id")?;
    ctx.inner.with_world(|world| {
        check_manage_role(world, guild_id, role_id)?;
        world.guild(guild_id)?.member(user_id).ok_or_else(ApiError::unknown_member)?;
        world.set_member_role(guild_id, user_id, role_id, add)?;
        Ok(Reply::no_content())
    })
}

/// `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}`: 204, `GUILD_MEMBER_UPDATE`.
pub(crate) fn add_role(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    change_role(ctx, true)
}

/// `DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}`: 204, `GUILD_MEMBER_UPDATE`.
pub(crate) fn remove_role(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    change_role(ctx, false)
}
