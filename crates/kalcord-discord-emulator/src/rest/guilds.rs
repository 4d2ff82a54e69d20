//! Guilds and channels.

use serde_json::{Value, json};

use super::{Ctx, Reply};
use crate::api_error::ApiError;
use crate::world::json as render;

/// `GET /guilds/{guild_id}` (`?with_counts=true` adds the approximate counts).
pub(crate) fn get_guild(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    let mut value = render::guild(guild);
    if ctx.query_flag("with_counts") {
        value["approximate_member_count"] = json!(guild.members.len());
        value["approximate_presence_count"] = json!(0);
    }
    Ok(Reply::json(value))
}

/// `GET /guilds/{guild_id}/channels`.
pub(crate) fn list_channels(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    let channels: Vec<Value> = guild
        .channels
        .iter()
        .filter_map(|id| world.channels.get(id))
        .map(|channel| render::channel(&world, channel))
        .collect();
    Ok(Reply::json(Value::Array(channels)))
}

/// `GET /channels/{channel_id}` (50001 when the bot cannot see the channel).
pub(crate) fn get_channel(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let world = ctx.inner.world.lock();
    super::messages::channel_access(&world, channel_id, 0)?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    Ok(Reply::json(render::channel(&world, channel)))
}
