//! IDENTIFY (checks, READY, GUILD_CREATE backfill) and RESUME.

use serde_json::{Value, json};

use super::dispatch::shard_of;
use super::session::{ConnLink, Resume};
use crate::perms::{INTENT_GUILD_PRESENCES, INTENT_GUILDS, PRIVILEGED_INTENTS, VALID_INTENTS};
use crate::state::Inner;
use crate::world::{World, json as render};

/// Guilds per shard before close 4011.
const MAX_GUILDS_PER_SHARD: usize = 2500;

/// Whether `token` (with or without the `Bot ` prefix twilight adds) is the bot's.
pub(crate) fn token_matches(world: &World, token: Option<&Value>) -> bool {
    let Some(token) = token.and_then(Value::as_str) else { return false };
    let token = token.strip_prefix("Bot ").unwrap_or(token);
    crate::state::constant_time_eq(token, &world.app.bot_token)
}

fn parse_shard(value: Option<&Value>) -> Result<[u32; 2], u16> {
    let Some(value) = value.filter(|value| !value.is_null()) else { return Ok([0, 1]) };
    let pair = value.as_array().filter(|pair| pair.len() == 2).ok_or(4010_u16)?;
    let number = |index: usize| pair[index].as_u64().and_then(|number| u32::try_from(number).ok()).ok_or(4010_u16);
    let (id, total) = (number(0)?, number(1)?);
    if total == 0 || id >= total {
        return Err(4010);
    }
    Ok([id, total])
}

/// Checks an IDENTIFY and starts the session: READY, then one GUILD_CREATE per available guild of the shard.
///
/// `Ok(None)`: refused by the concurrency limit (`identify_window` per `shard_id % max_concurrency`); the caller
/// answers op 9 `false` and no session starts.
pub(crate) fn identify(inner: &Inner, data: &Value, link: ConnLink) -> Result<Option<String>, u16> {
    let world = inner.world.lock();
    if !token_matches(&world, data.get("token")) {
        return Err(4004);
    }
    let intents = data.get("intents").and_then(Value::as_u64).ok_or(4013_u16)?;
    if intents & !VALID_INTENTS != 0 {
        return Err(4013);
    }
    if intents & PRIVILEGED_INTENTS & !world.app.privileged_intents != 0 {
        return Err(4014);
    }
    let shard = parse_shard(data.get("shard"))?;
    let guilds: Vec<u64> = world.guilds.keys().copied().filter(|id| shard_of(*id, shard[1]) == shard[0]).collect();
    if guilds.len() > MAX_GUILDS_PER_SHARD {
        return Err(4011);
    }
    // NOTE: the hub stays locked from the concurrency check to the session's creation, so two IDENTIFYs of one
    // rate-limit key cannot both pass.
    let mut hub = inner.hub.lock();
    let settings = &inner.settings;
    if !hub.admit_identify(shard, settings.max_concurrency, settings.gateway.identify_window, inner.clock.now_ms()) {
        return Ok(None);
    }
    let session_id = hex::encode(rand::random::<[u8; 16]>());
    let ready = ready(&world, &inner.gateway_url, &session_id, shard, &guilds);
    let creates: Vec<Value> = if intents & INTENT_GUILDS == 0 {
        Vec::new()
    } else {
        let presences = intents & INTENT_GUILD_PRESENCES != 0;
        guilds
            .iter()
            .filter_map(|id| world.guilds.get(id))
            .filter(|guild| !guild.unavailable)
            .map(|guild| render::guild_create(&world, guild, presences && render::lists_all_members(guild)))
            .collect()
    };
    hub.create(&session_id, shard, intents, link);
    hub.push(&session_id, "READY", &ready);
    for create in &creates {
        hub.push(&session_id, "GUILD_CREATE", create);
    }
    Ok(Some(session_id))
}

fn ready(world: &World, gateway_url: &str, session_id: &str, shard: [u32; 2], guilds: &[u64]) -> Value {
    let bot = world.users.get(&world.app.bot_user_id).map_or(Value::Null, |user| render::current_user(user, false));
    let unavailable: Vec<Value> = guilds.iter().map(|id| json!({"id": id.to_string(), "unavailable": true})).collect();
    json!({
        "v": 10,
        "user": bot,
        "guilds": unavailable,
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": gateway_url,
        "shard": shard,
        "application": {"id": world.app.id.to_string(), "flags": world.app.flags},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "user_settings": {},
        "auth": {},
        "_trace": ["[\"kalcord-discord-emulator\"]"],
    })
}

/// Checks a RESUME and re-attaches the session (replay, then RESUMED).
pub(crate) fn resume(inner: &Inner, data: &Value, link: &ConnLink) -> Result<(String, Resume), u16> {
    if !token_matches(&inner.world.lock(), data.get("token")) {
        return Err(4004);
    }
    let session_id = data.get("session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let seq = data.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let outcome = inner.hub.lock().resume(&session_id, seq, link);
    Ok((session_id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_pairs() {
        assert_eq!(parse_shard(None), Ok([0, 1]));
        assert_eq!(parse_shard(Some(&json!([1, 2]))), Ok([1, 2]));
        assert_eq!(parse_shard(Some(&json!([2, 2]))), Err(4010));
        assert_eq!(parse_shard(Some(&json!([0, 0]))), Err(4010));
        assert_eq!(parse_shard(Some(&json!("x"))), Err(4010));
    }
}
