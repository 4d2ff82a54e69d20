//! Users, DMs, the application, and role connections (Linked Roles).

use serde_json::{Value, json};

use super::auth::Caller;
use super::{Ctx, Reply};
use crate::api_error::{ApiError, FormErrors};
use crate::world::json as render;

/// The user a Bearer token acts for (the bot for a bot token).
fn acting_user(ctx: &Ctx<'_>) -> Result<(u64, bool), ApiError> {
    match ctx.caller {
        Caller::Bot => Ok((ctx.inner.world.lock().app.bot_user_id, false)),
        Caller::Bearer(token) => token.user_id.map(|id| (id, token.has("email"))).ok_or_else(ApiError::unauthorized),
        _ => Err(ApiError::unauthorized()),
    }
}

/// `GET /users/@me`.
pub(crate) fn me(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (user_id, with_email) = acting_user(ctx)?;
    let world = ctx.inner.world.lock();
    let user = world.users.get(&user_id).ok_or_else(ApiError::unknown_user)?;
    let mut value = render::current_user(user, with_email);
    if user.bot {
        value["verified"] = json!(true);
        value["email"] = Value::Null;
    }
    Ok(Reply::json(value))
}

/// `GET /users/@me/guilds`.
pub(crate) fn my_guilds(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (user_id, _) = acting_user(ctx)?;
    let with_counts = ctx.query_flag("with_counts");
    let world = ctx.inner.world.lock();
    let guilds: Vec<Value> = world
        .guilds
        .values()
        .filter(|guild| guild.member(user_id).is_some())
        .map(|guild| {
            let mut value = json!({
                "id": guild.id.to_string(), "name": guild.name, "icon": null, "banner": null,
                "owner": guild.owner_id == user_id, "permissions": guild.permissions_of(user_id).to_string(),
                "features": [],
            });
            if with_counts {
                value["approximate_member_count"] = json!(guild.members.len());
                value["approximate_presence_count"] = json!(0);
            }
            value
        })
        .collect();
    Ok(Reply::json(Value::Array(guilds)))
}

/// `GET /users/@me/guilds/{guild_id}/member` (Bearer, `guilds.members.read`).
pub(crate) fn my_member(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (user_id, _) = acting_user(ctx)?;
    let guild_id = ctx.params.id("guild_id")?;
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    let member = guild.member(user_id).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::json(render::member(&world, member)))
}

/// `GET /users/{user_id}`.
pub(crate) fn get_user(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let user_id = ctx.params.id("user_id")?;
    let world = ctx.inner.world.lock();
    let user = world.users.get(&user_id).ok_or_else(ApiError::unknown_user)?;
    Ok(Reply::json(render::user(user)))
}

/// `POST /users/@me/channels` `{recipient_id}`: the DM channel (type 1), reused.
pub(crate) fn create_dm(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = ctx.body();
    let recipient = body.get("recipient_id").and_then(|value| match value {
        Value::String(text) => crate::ids::parse_id(text),
        Value::Number(number) => number.as_u64(),
        _ => None,
    });
    let Some(recipient) = recipient else {
        return Err(ApiError::form_field(&["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required"));
    };
    ctx.inner.with_world(|world| {
        if !world.users.contains_key(&recipient) {
            return Err(ApiError::unknown_user());
        }
        let id = world.dm_channel(recipient);
        let channel = world.channels.get(&id).ok_or_else(ApiError::unknown_channel)?;
        Ok(Reply::json(render::channel(world, channel)))
    })
}

/// `GET /applications/@me`.
#[allow(clippy::unnecessary_wraps)] // NOTE: the Handler signature.
pub(crate) fn application(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(render::application(&ctx.inner.world.lock())))
}

fn connection_user(ctx: &Ctx<'_>) -> Result<u64, ApiError> {
    ctx.application_id()?;
    acting_user(ctx).map(|(user_id, _)| user_id)
}

/// `GET /users/@me/applications/{application_id}/role-connection`.
pub(crate) fn get_role_connection(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let user_id = connection_user(ctx)?;
    let world = ctx.inner.world.lock();
    let value = world
        .users
        .get(&user_id)
        .and(world.role_connections.get(&user_id).cloned())
        .unwrap_or_else(|| json!({"platform_name": null, "platform_username": null, "metadata": {}}));
    Ok(Reply::json(value))
}

/// `PUT /users/@me/applications/{application_id}/role-connection`.
pub(crate) fn put_role_connection(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let user_id = connection_user(ctx)?;
    let body = ctx.body();
    let mut errors = FormErrors::default();
    errors.check_len(&["platform_name"], body.get("platform_name"), 0, 50, false);
    errors.check_len(&["platform_username"], body.get("platform_username"), 0, 100, false);
    let mut metadata = serde_json::Map::new();
    ctx.inner.with_world(|world| {
        let keys: Vec<&str> =
            world.role_connection_metadata.iter().filter_map(|record| record["key"].as_str()).collect();
        for (key, value) in body.get("metadata").and_then(Value::as_object).into_iter().flatten() {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if !keys.contains(&key.as_str()) {
                errors.add(
                    &["metadata", key],
                    "APPLICATION_ROLE_CONNECTIONS_METADATA_KEY_INVALID",
                    "Unknown metadata key.",
                );
            } else if text.chars().count() > 100 {
                errors.add(&["metadata", key], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
            }
            metadata.insert(key.clone(), Value::String(text));
        }
        if let Some(error) = errors.into_error() {
            return Err(error);
        }
        let value = json!({
            "platform_name": body.get("platform_name").cloned().unwrap_or(Value::Null),
            "platform_username": body.get("platform_username").cloned().unwrap_or(Value::Null),
            "metadata": metadata,
        });
        world.role_connections.insert(user_id, value.clone());
        Ok(Reply::json(value))
    })
}

/// `DELETE /users/@me/applications/{application_id}/role-connection`.
pub(crate) fn delete_role_connection(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let user_id = connection_user(ctx)?;
    ctx.inner.with_world(|world| world.role_connections.remove(&user_id));
    Ok(Reply::no_content())
}

/// `GET /applications/{application_id}/role-connections/metadata`.
pub(crate) fn get_metadata(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.application_id()?;
    Ok(Reply::json(Value::Array(ctx.inner.world.lock().role_connection_metadata.clone())))
}

/// `PUT /applications/{application_id}/role-connections/metadata`: at most 5 records.
pub(crate) fn put_metadata(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.application_id()?;
    let body = ctx.body();
    let Some(records) = body.as_array() else {
        return Err(ApiError::form_root("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"));
    };
    let mut errors = FormErrors::default();
    if records.len() > 5 {
        errors.add(&[], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    }
    let mut stored = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let index = index.to_string();
        check_metadata_record(&mut errors, &index, record);
        stored.push(json!({
            "type": record.get("type"), "key": record.get("key"), "name": record.get("name"),
            "name_localizations": record.get("name_localizations").cloned().unwrap_or(Value::Null),
            "description": record.get("description"),
            "description_localizations": record.get("description_localizations").cloned().unwrap_or(Value::Null),
        }));
    }
    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    ctx.inner.with_world(|world| world.role_connection_metadata.clone_from(&stored));
    Ok(Reply::json(Value::Array(stored)))
}

fn check_metadata_record(errors: &mut FormErrors, index: &str, record: &Value) {
    let kind = record.get("type").and_then(Value::as_u64);
    if !kind.is_some_and(|kind| (1..=8).contains(&kind)) {
        errors.add(&[index, "type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8}.");
    }
    let key_ok = record.get("key").and_then(Value::as_str).is_some_and(|key| {
        (1..=50).contains(&key.len())
            && key.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    });
    if !key_ok {
        errors.add(
            &[index, "key"],
            "APPLICATION_ROLE_CONNECTIONS_METADATA_KEY_INVALID",
            "Key must match ^[a-z0-9_]{1,50}$.",
        );
    }
    errors.check_len(&[index, "name"], record.get("name"), 1, 100, true);
    errors.check_len(&[index, "description"], record.get("description"), 1, 200, true);
}
