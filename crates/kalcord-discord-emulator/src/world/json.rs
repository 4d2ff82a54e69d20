//! Discord's JSON shapes of the world's objects (what twilight-model 0.18 deserializes).

use serde_json::{Map, Value, json};

use super::World;
use super::model::{Channel, Command, Guild, Member, Message, Role, ScheduledEvent, User};
use crate::config::OverwriteSeed;
use crate::ids::iso8601;

/// A user object.
pub(crate) fn user(user: &User) -> Value {
    let mut value = json!({
        "id": user.id.to_string(),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": null,
    });
    if user.bot {
        value["bot"] = json!(true);
    }
    value
}

/// `/users/@me`: the current user (with `email` only when asked for).
pub(crate) fn current_user(user: &User, with_email: bool) -> Value {
    let mut value = self::user(user);
    value["mfa_enabled"] = json!(false);
    value["locale"] = json!(user.locale.clone().unwrap_or_else(|| "en-US".to_owned()));
    value["premium_type"] = json!(0);
    if with_email {
        value["email"] = json!(user.email);
        value["verified"] = json!(true);
    }
    value
}

/// A role object.
pub(crate) fn role(role: &Role) -> Value {
    let mut value = json!({
        "id": role.id.to_string(),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": null, "tertiary_color": null},
        "hoist": role.hoist,
        "icon": null,
        "unicode_emoji": null,
        "position": role.position,
        "permissions": role.permissions.to_string(),
        "managed": role.bot_id.is_some(),
        "mentionable": role.mentionable,
        "flags": 0,
    });
    if let Some(bot_id) = role.bot_id {
        value["tags"] = json!({"bot_id": bot_id.to_string()});
    }
    value
}

/// A guild member object (with its user when known).
pub(crate) fn member(world: &World, member: &Member) -> Value {
    let mut value = json!({
        "nick": member.nick,
        "avatar": null,
        "banner": null,
        "roles": member.roles.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "joined_at": iso8601(member.joined_ms),
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "avatar_decoration_data": null,
    });
    if let Some(found) = world.users.get(&member.user_id) {
        value["user"] = user(found);
    }
    value
}

/// A channel object.
pub(crate) fn channel(world: &World, channel: &Channel) -> Value {
    let mut value = json!({
        "id": channel.id.to_string(),
        "type": channel.kind,
        "last_message_id": channel.last_message_id.map(|id| id.to_string()),
        "flags": 0,
    });
    if channel.kind == 1 {
        let recipients: Vec<Value> = channel.recipients.iter().filter_map(|id| world.users.get(id)).map(user).collect();
        value["recipients"] = json!(recipients);
        return value;
    }
    let fields = json!({
        "guild_id": channel.guild_id.map(|id| id.to_string()),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": channel.overwrites.iter().map(overwrite).collect::<Vec<_>>(),
        "parent_id": channel.parent_id.map(|id| id.to_string()),
        "nsfw": false,
        "rate_limit_per_user": 0,
    });
    merge(&mut value, fields);
    match channel.kind {
        0 | 5 => merge(&mut value, json!({"topic": null})),
        2 | 13 => merge(&mut value, json!({"bitrate": 64_000, "user_limit": 0, "rtc_region": null})),
        _ => {}
    }
    value
}

/// A permission overwrite (`allow`/`deny` as decimal strings).
fn overwrite(overwrite: &OverwriteSeed) -> Value {
    json!({
        "id": overwrite.id.to_string(), "type": overwrite.kind,
        "allow": overwrite.allow.to_string(), "deny": overwrite.deny.to_string(),
    })
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// A guild object (REST `GET /guilds/{id}`).
pub(crate) fn guild(guild: &Guild) -> Value {
    let mut roles: Vec<&Role> = guild.roles.iter().collect();
    roles.sort_by_key(|role| (role.position, role.id));
    json!({
        "id": guild.id.to_string(), "name": guild.name, "icon": null, "icon_hash": null, "splash": null,
        "discovery_splash": null, "owner_id": guild.owner_id.to_string(), "afk_channel_id": null,
        "afk_timeout": 300, "widget_enabled": false, "widget_channel_id": null, "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0,
        "roles": roles.into_iter().map(role).collect::<Vec<_>>(), "emojis": [], "features": [],
        "mfa_level": 0, "application_id": null, "system_channel_id": guild.system_channel_id.map(|id| id.to_string()), "system_channel_flags": 0,
        "rules_channel_id": null, "max_presences": null, "max_members": 500_000, "vanity_url_code": null,
        "description": null, "banner": null, "premium_tier": 0, "premium_subscription_count": 0,
        "preferred_locale": guild.preferred_locale, "public_updates_channel_id": null,
        "max_video_channel_users": 25, "max_stage_video_channel_users": 50, "nsfw_level": 0,
        "stickers": [], "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null,
        "incidents_data": null,
    })
}

/// Members above which `GUILD_CREATE` lists only the bot, even with `GUILD_PRESENCES` (Discord: 75k).
const FULL_MEMBER_LIST_LIMIT: usize = 75_000;

/// Whether a session with `GUILD_PRESENCES` gets every member of this guild in `GUILD_CREATE`.
pub(crate) fn lists_all_members(guild: &Guild) -> bool {
    guild.members.len() <= FULL_MEMBER_LIST_LIMIT
}

/// `GUILD_CREATE`'s `d`: the guild plus the gateway-only fields; every member when `all_members`, else the bot.
pub(crate) fn guild_create(world: &World, found: &Guild, all_members: bool) -> Value {
    let mut value = guild(found);
    let bot = world.app.bot_user_id;
    let members: Vec<Value> = if all_members {
        found.members.values().map(|member| self::member(world, member)).collect()
    } else {
        found.member(bot).map(|member| self::member(world, member)).into_iter().collect()
    };
    let channels: Vec<Value> =
        found.channels.iter().filter_map(|id| world.channels.get(id)).map(|found| channel(world, found)).collect();
    let events: Vec<Value> = found.events.iter().map(|event| scheduled_event(world, event)).collect();
    merge(
        &mut value,
        json!({
            "joined_at": iso8601(found.joined_ms), "large": found.members.len() > 250, "unavailable": false,
            "member_count": found.members.len(), "voice_states": [], "members": members, "channels": channels,
            "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": events,
            "soundboard_sounds": [],
        }),
    );
    value
}

/// A message object; `guild_id` is added for gateway dispatches only.
pub(crate) fn message(world: &World, message: &Message) -> Value {
    let author = world.users.get(&message.author_id).map_or(Value::Null, user);
    let mut value = json!({
        "id": message.id.to_string(), "type": message.kind, "content": message.content,
        "channel_id": message.channel_id.to_string(), "author": author, "attachments": message.attachments,
        "embeds": message.embeds, "mentions": [], "mention_roles": [], "mention_everyone": false,
        "pinned": false, "tts": message.tts, "timestamp": iso8601(crate::ids::snowflake_ms(message.id)),
        "edited_timestamp": message.edited_ms.map(iso8601), "flags": message.flags,
        "components": message.components,
    });
    if let Some(webhook_id) = message.webhook_id {
        value["webhook_id"] = json!(webhook_id.to_string());
        value["application_id"] = json!(world.app.id.to_string());
    }
    if let Some(meta) = &message.interaction {
        value["interaction_metadata"] = interaction_metadata(world, meta);
    }
    if let Some(reference) = &message.reference {
        value["message_reference"] = reference.clone();
    }
    if let Some(nonce) = &message.nonce {
        value["nonce"] = nonce.clone();
    }
    value
}

fn interaction_metadata(world: &World, meta: &super::model::InteractionMeta) -> Value {
    let owners = match meta.guild_id {
        Some(guild_id) => json!({"0": guild_id.to_string()}),
        None => json!({"1": meta.user_id.to_string()}),
    };
    let mut value = json!({
        "id": meta.id.to_string(),
        "type": meta.kind,
        "user": world.users.get(&meta.user_id).map_or(Value::Null, user),
        "authorizing_integration_owners": owners,
    });
    if let Some(name) = &meta.name {
        value["name"] = json!(name);
    }
    value
}

/// An application command object.
pub(crate) fn command(world: &World, command: &Command) -> Value {
    let mut value = match &command.body {
        Value::Object(map) => Value::Object(map.clone()),
        _ => Value::Object(Map::new()),
    };
    let defaults = json!({
        "id": command.id.to_string(), "application_id": world.app.id.to_string(),
        "version": command.version.to_string(), "type": command.kind, "name": command.name,
    });
    merge(&mut value, defaults);
    for (key, fallback) in
        [("description", json!("")), ("default_member_permissions", Value::Null), ("nsfw", json!(false))]
    {
        if value.get(key).is_none() {
            value[key] = fallback;
        }
    }
    if let Some(guild_id) = command.guild_id {
        value["guild_id"] = json!(guild_id.to_string());
    } else {
        if value.get("integration_types").is_none_or(Value::is_null) {
            value["integration_types"] = json!([0]);
        }
        if value.get("contexts").is_none() {
            value["contexts"] = Value::Null;
        }
    }
    value
}

/// A guild scheduled event object.
pub(crate) fn scheduled_event(world: &World, event: &ScheduledEvent) -> Value {
    json!({
        "id": event.id.to_string(), "guild_id": event.guild_id.to_string(),
        "channel_id": event.channel_id.map(|id| id.to_string()), "creator_id": event.creator_id.to_string(),
        "creator": world.users.get(&event.creator_id).map(user), "name": event.name,
        "description": event.description, "scheduled_start_time": event.start,
        "scheduled_end_time": event.end, "privacy_level": event.privacy_level, "status": event.status,
        "entity_type": event.entity_type, "entity_id": null,
        "entity_metadata": event.location.as_ref().map(|location| json!({"location": location})),
        "user_count": 0, "image": event.image, "recurrence_rule": null, "auto_start": false,
    })
}

/// The application object (`GET /applications/@me`).
pub(crate) fn application(world: &World) -> Value {
    let app = &world.app;
    let bot = world.users.get(&app.bot_user_id).map_or(Value::Null, user);
    json!({
        "id": app.id.to_string(), "name": app.name, "icon": null, "description": "", "summary": "",
        "type": null, "hook": true, "bot_public": true, "bot_require_code_grant": false,
        "verify_key": app.public_key_hex, "flags": app.flags, "team": null, "owner": null, "bot": bot,
        "guild_id": null, "tags": [], "redirect_uris": app.redirect_uris,
        "interactions_endpoint_url": app.interactions_url.as_ref().map(ToString::to_string),
        "role_connections_verification_url": null,
        "integration_types_config": {
            "0": {"oauth2_install_params": {"scopes": ["applications.commands", "bot"],
                  "permissions": app.bot_permissions.to_string()}},
            "1": {"oauth2_install_params": {"scopes": ["applications.commands"], "permissions": "0"}},
        },
        "approximate_guild_count": world.guilds.len(), "approximate_user_install_count": 0,
        "install_params": {"scopes": ["applications.commands", "bot"], "permissions": app.bot_permissions.to_string()},
    })
}
