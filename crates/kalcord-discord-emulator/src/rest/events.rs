//! Guild scheduled events: validation (EXTERNAL rules), status transitions, the 100-active limit.

use serde_json::Value;

use super::{Ctx, Reply};
use crate::api_error::{ApiError, FormErrors};
use crate::gateway::dispatch::Dispatch;
use crate::ids::parse_iso8601;
use crate::perms::{CREATE_EVENTS, INTENT_GUILD_SCHEDULED_EVENTS, MANAGE_EVENTS};
use crate::world::World;
use crate::world::json as render;
use crate::world::model::ScheduledEvent;

/// `SCHEDULED`, `ACTIVE`, `COMPLETED`, `CANCELED`.
const SCHEDULED: u8 = 1;
const ACTIVE: u8 = 2;
const COMPLETED: u8 = 3;
const CANCELED: u8 = 4;

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn present(body: &Value, key: &str) -> bool {
    body.get(key).is_some_and(|value| !value.is_null())
}

/// Checks a complete event definition (a create body, or an event merged with a patch).
fn check(world: &World, guild_id: u64, body: &Value, errors: &mut FormErrors) {
    errors.check_len(&["name"], body.get("name"), 1, 100, true);
    errors.check_len(&["description"], body.get("description"), 0, 1000, false);
    if body.get("privacy_level").and_then(Value::as_u64) != Some(2) {
        errors.add(&["privacy_level"], "BASE_TYPE_CHOICES", "Value must be one of {2}.");
    }
    let start = text(body, "scheduled_start_time").and_then(parse_iso8601);
    if start.is_none() {
        errors.add(
            &["scheduled_start_time"],
            "DATE_TYPE_PARSE",
            "Could not parse the date. Expected an ISO8601 timestamp.",
        );
    }
    let end = text(body, "scheduled_end_time").and_then(parse_iso8601);
    if present(body, "scheduled_end_time") && end.is_none() {
        errors.add(
            &["scheduled_end_time"],
            "DATE_TYPE_PARSE",
            "Could not parse the date. Expected an ISO8601 timestamp.",
        );
    }
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        errors.add(
            &["scheduled_end_time"],
            "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
            "Cannot schedule event to end before starting.",
        );
    }
    match body.get("entity_type").and_then(Value::as_u64) {
        Some(3) => check_external(body, errors),
        Some(kind @ (1 | 2)) => check_channel_event(world, guild_id, body, kind, errors),
        _ => errors.add(&["entity_type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}."),
    }
}

fn check_external(body: &Value, errors: &mut FormErrors) {
    if present(body, "channel_id") {
        errors.add(
            &["channel_id"],
            "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID",
            "channel_id must be null for EXTERNAL events.",
        );
    }
    match body.pointer("/entity_metadata/location") {
        Some(location) if !location.is_null() => {
            errors.check_len(&["entity_metadata", "location"], Some(location), 1, 100, true);
        }
        _ => errors.add(&["entity_metadata"], "BASE_TYPE_REQUIRED", "This field is required"),
    }
    if !present(body, "scheduled_end_time") {
        errors.add(&["scheduled_end_time"], "BASE_TYPE_REQUIRED", "This field is required");
    }
}

fn check_channel_event(world: &World, guild_id: u64, body: &Value, kind: u64, errors: &mut FormErrors) {
    let wanted = if kind == 1 { 13 } else { 2 };
    let channel = text(body, "channel_id").and_then(crate::ids::parse_id).and_then(|id| world.channels.get(&id));
    match channel {
        None if !present(body, "channel_id") => {
            errors.add(&["channel_id"], "BASE_TYPE_REQUIRED", "This field is required");
        }
        Some(found) if found.guild_id == Some(guild_id) && found.kind == wanted => {}
        _ => errors.add(
            &["channel_id"],
            "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID",
            "Invalid channel for this entity type.",
        ),
    }
    if body.pointer("/entity_metadata/location").is_some_and(|location| !location.is_null()) {
        errors.add(
            &["entity_metadata"],
            "GUILD_SCHEDULED_EVENT_METADATA_INVALID",
            "entity_metadata must be null for this entity type.",
        );
    }
}

fn event_of(id: u64, guild_id: u64, creator_id: u64, status: u8, body: &Value) -> ScheduledEvent {
    let number =
        |key: &str| body.get(key).and_then(Value::as_u64).and_then(|value| u8::try_from(value).ok()).unwrap_or(0);
    ScheduledEvent {
        id,
        guild_id,
        channel_id: text(body, "channel_id").and_then(crate::ids::parse_id),
        creator_id,
        name: text(body, "name").unwrap_or_default().to_owned(),
        description: text(body, "description").map(str::to_owned),
        start: text(body, "scheduled_start_time").unwrap_or_default().to_owned(),
        end: text(body, "scheduled_end_time").map(str::to_owned),
        privacy_level: number("privacy_level"),
        status,
        entity_type: number("entity_type"),
        location: body.pointer("/entity_metadata/location").and_then(Value::as_str).map(str::to_owned),
        image: text(body, "image").map(str::to_owned),
    }
}

fn emit(world: &mut World, event: &'static str, scheduled: &ScheduledEvent) {
    let data = render::scheduled_event(world, scheduled);
    world.emit(Dispatch::new(event, Some(scheduled.guild_id), INTENT_GUILD_SCHEDULED_EVENTS, data));
}

fn require_event_permission(world: &World, guild_id: u64) -> Result<(), ApiError> {
    let bits = world.bot_permissions_in(guild_id);
    if bits & (CREATE_EVENTS | MANAGE_EVENTS) == 0 { Err(ApiError::missing_permissions()) } else { Ok(()) }
}

/// `GET /guilds/{guild_id}/scheduled-events`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let world = ctx.inner.world.lock();
    let guild = world.guild(guild_id)?;
    Ok(Reply::json(Value::Array(guild.events.iter().map(|event| render::scheduled_event(&world, event)).collect())))
}

/// `POST /guilds/{guild_id}/scheduled-events`: `GUILD_SCHEDULED_EVENT_CREATE`.
pub(crate) fn create(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let body = ctx.body();
    ctx.inner.with_world(|world| {
        world.guild(guild_id)?;
        require_event_permission(world, guild_id)?;
        let mut errors = FormErrors::default();
        check(world, guild_id, &body, &mut errors);
        if text(&body, "scheduled_start_time").and_then(parse_iso8601).is_some_and(|start| start < world.now_ms()) {
            errors.add(
                &["scheduled_start_time"],
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            );
        }
        if let Some(error) = errors.into_error() {
            return Err(error);
        }
        let active =
            world.guild(guild_id)?.events.iter().filter(|event| matches!(event.status, SCHEDULED | ACTIVE)).count();
        if active >= 100 {
            return Err(ApiError::new(
                400,
                30038,
                "Maximum number of uncompleted guild scheduled events reached (100)",
            ));
        }
        let event = event_of(world.next_id(), guild_id, world.app.bot_user_id, SCHEDULED, &body);
        world.guild_mut(guild_id)?.events.push(event.clone());
        emit(world, "GUILD_SCHEDULED_EVENT_CREATE", &event);
        Ok(Reply::json(render::scheduled_event(world, &event)))
    })
}

/// `GET /guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let event_id = ctx.params.id("guild_scheduled_event_id")?;
    let world = ctx.inner.world.lock();
    let event = world.guild(guild_id)?.event(event_id).ok_or_else(ApiError::unknown_event)?;
    Ok(Reply::json(render::scheduled_event(&world, event)))
}

fn transition_allowed(from: u8, to: u8) -> bool {
    from == to || matches!((from, to), (SCHEDULED, ACTIVE | CANCELED) | (ACTIVE, COMPLETED))
}

/// `PATCH .../scheduled-events/{id}`: field changes and SCHEDULED→ACTIVE→COMPLETED, SCHEDULED→CANCELED.
pub(crate) fn patch(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let event_id = ctx.params.id("guild_scheduled_event_id")?;
    let changes = ctx.body();
    ctx.inner.with_world(|world| {
        require_event_permission(world, guild_id)?;
        let current = world.guild(guild_id)?.event(event_id).ok_or_else(ApiError::unknown_event)?.clone();
        let status = changes
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|value| u8::try_from(value).ok())
            .unwrap_or(current.status);
        let mut errors = FormErrors::default();
        if matches!(current.status, COMPLETED | CANCELED) || !transition_allowed(current.status, status) {
            errors.add(&["status"], "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION", "Invalid status transition.");
        }
        let mut merged = render::scheduled_event(world, &current);
        if let (Value::Object(into), Value::Object(from)) = (&mut merged, &changes) {
            into.extend(from.clone());
        }
        check(world, guild_id, &merged, &mut errors);
        if let Some(error) = errors.into_error() {
            return Err(error);
        }
        let updated = event_of(event_id, guild_id, current.creator_id, status, &merged);
        if let Some(slot) = world.guild_mut(guild_id)?.events.iter_mut().find(|event| event.id == event_id) {
            *slot = updated.clone();
        }
        emit(world, "GUILD_SCHEDULED_EVENT_UPDATE", &updated);
        Ok(Reply::json(render::scheduled_event(world, &updated)))
    })
}

/// `DELETE .../scheduled-events/{id}`: 204, `GUILD_SCHEDULED_EVENT_DELETE`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let event_id = ctx.params.id("guild_scheduled_event_id")?;
    ctx.inner.with_world(|world| {
        require_event_permission(world, guild_id)?;
        let guild = world.guild_mut(guild_id)?;
        let index = guild.events.iter().position(|event| event.id == event_id).ok_or_else(ApiError::unknown_event)?;
        let event = guild.events.remove(index);
        emit(world, "GUILD_SCHEDULED_EVENT_DELETE", &event);
        Ok(Reply::no_content())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(transition_allowed(SCHEDULED, ACTIVE));
        assert!(transition_allowed(SCHEDULED, CANCELED));
        assert!(transition_allowed(ACTIVE, COMPLETED));
        assert!(!transition_allowed(SCHEDULED, COMPLETED));
        assert!(!transition_allowed(ACTIVE, SCHEDULED));
        assert!(!transition_allowed(ACTIVE, CANCELED));
    }
}
