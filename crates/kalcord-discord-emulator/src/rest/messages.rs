//! Channel messages with the bot token.

use std::time::Duration;

use serde_json::Value;

use super::{Ctx, Reply};
use crate::api_error::ApiError;
use crate::ids::snowflake_ms;
use crate::perms::{EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL};
use crate::records::MessageSource;
use crate::world::World;
use crate::world::json as render;
use crate::world::messages::{NewMessage, validate_body};

/// The channel, and the bot's access to it, computed in the channel (base permissions and the channel's
/// overwrites): 50001 without VIEW_CHANNEL, 50013 without `extra`. DM channels need nothing.
// NOTE: Discord answers 50001 Missing Access (not 50013) for a channel the bot cannot see.
pub(crate) fn channel_access(world: &World, channel_id: u64, extra: u64) -> Result<(), ApiError> {
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    if channel.guild_id.is_some() {
        let bits = world.bot_permissions_in_channel(channel).unwrap_or(0);
        if bits & VIEW_CHANNEL == 0 {
            return Err(ApiError::missing_access());
        }
        if bits & extra != extra {
            return Err(ApiError::missing_permissions());
        }
    }
    Ok(())
}

fn message_in(world: &World, channel_id: u64, message_id: u64) -> Result<(), ApiError> {
    match world.messages.get(&message_id) {
        Some(message) if message.channel_id == channel_id => Ok(()),
        _ => Err(ApiError::unknown_message()),
    }
}

/// `GET /channels/{channel_id}/messages?limit=` (newest first).
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let limit = usize::try_from(ctx.query_int("limit", 50, 1, 100)?).unwrap_or(50);
    let world = ctx.inner.world.lock();
    channel_access(&world, channel_id, READ_MESSAGE_HISTORY)?;
    let messages: Vec<Value> = world
        .messages
        .values()
        .rev()
        .filter(|message| message.channel_id == channel_id)
        .take(limit)
        .map(|message| render::message(&world, message))
        .collect();
    Ok(Reply::json(Value::Array(messages)))
}

/// Without EMBED_LINKS in a guild channel the message is still posted, but Discord drops its embeds silently.
fn drop_embeds_without_permission(world: &World, channel_id: u64, body: &mut Value) {
    let channel = world.channels.get(&channel_id);
    let bits = channel.and_then(|channel| world.bot_permissions_in_channel(channel));
    if bits.is_some_and(|bits| bits & EMBED_LINKS == 0)
        && let Some(embeds) = body.get_mut("embeds").filter(|embeds| !embeds.is_null())
    {
        *embeds = Value::Array(Vec::new());
    }
}

/// How long `enforce_nonce` remembers a nonce (Discord: "the past few minutes").
pub(crate) const NONCE_WINDOW: Duration = Duration::from_mins(5);

/// With `enforce_nonce: true` and a `nonce`, the bot's message with that nonce created in the channel within
/// [`NONCE_WINDOW`], if any: Discord returns it instead of creating another.
fn nonce_match<'w>(world: &'w World, channel_id: u64, body: &Value) -> Option<&'w crate::world::model::Message> {
    if body.get("enforce_nonce").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let nonce = body.get("nonce").filter(|nonce| !nonce.is_null())?;
    let window = u64::try_from(NONCE_WINDOW.as_millis()).unwrap_or(u64::MAX);
    let since = world.now_ms().saturating_sub(window);
    // NOTE: ids grow with time, so the newest messages come first and the scan stops at the window.
    world.messages.values().rev().take_while(|message| snowflake_ms(message.id) >= since).find(|message| {
        message.channel_id == channel_id
            && message.author_id == world.app.bot_user_id
            && message.nonce.as_ref() == Some(nonce)
    })
}

/// `POST /channels/{channel_id}/messages`: VIEW_CHANNEL and SEND_MESSAGES in the channel (EMBED_LINKS only
/// decides whether embeds are kept). With `enforce_nonce`, a nonce seen recently returns the first message.
pub(crate) fn create(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let mut body = ctx.body();
    ctx.inner.with_world(|world| {
        channel_access(world, channel_id, SEND_MESSAGES)?;
        validate_body(&body, true)?;
        if let Some(existing) = nonce_match(world, channel_id, &body) {
            return Ok(Reply::json(render::message(world, existing)));
        }
        drop_embeds_without_permission(world, channel_id, &mut body);
        let new = NewMessage {
            channel_id,
            author_id: world.app.bot_user_id,
            kind: 0,
            body: &body,
            webhook_id: None,
            interaction: None,
            source: MessageSource::Rest,
            extra_flags: 0,
        };
        let message = world.create_message(new)?;
        Ok(Reply::json(render::message(world, &message)))
    })
}

/// `GET /channels/{channel_id}/messages/{message_id}`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let message_id = ctx.params.id("message_id")?;
    let world = ctx.inner.world.lock();
    channel_access(&world, channel_id, READ_MESSAGE_HISTORY)?;
    message_in(&world, channel_id, message_id)?;
    let message = world.messages.get(&message_id).ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::json(render::message(&world, message)))
}

/// `PATCH /channels/{channel_id}/messages/{message_id}` (only the bot's own messages: 50005 otherwise).
pub(crate) fn edit(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let message_id = ctx.params.id("message_id")?;
    let body = ctx.body();
    ctx.inner.with_world(|world| {
        channel_access(world, channel_id, 0)?;
        message_in(world, channel_id, message_id)?;
        let author = world.messages.get(&message_id).map(|message| message.author_id);
        if author != Some(world.app.bot_user_id) {
            return Err(ApiError::new(403, 50005, "Cannot edit a message authored by another user"));
        }
        validate_body(&body, false)?;
        let mut body = body.clone();
        drop_embeds_without_permission(world, channel_id, &mut body);
        let message = world.edit_message(message_id, &body, MessageSource::Rest)?;
        Ok(Reply::json(render::message(world, &message)))
    })
}

/// `DELETE /channels/{channel_id}/messages/{message_id}`: 204.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let channel_id = ctx.params.id("channel_id")?;
    let message_id = ctx.params.id("message_id")?;
    ctx.inner.with_world(|world| {
        channel_access(world, channel_id, 0)?;
        message_in(world, channel_id, message_id)?;
        world.delete_message(message_id, MessageSource::Rest)?;
        Ok(Reply::no_content())
    })
}
