//! Application commands, global and per guild: list, bulk overwrite, upsert by name, get/patch/delete.

use serde_json::{Map, Value, json};

use super::{Ctx, Reply};
use crate::api_error::{ApiError, FormErrors};
use crate::world::World;
use crate::world::json as render;
use crate::world::model::Command;

const ENTRY_POINT_REMOVED: &str = "You cannot remove this app's Entry Point command in a bulk update operation. \
                                   Please include the Entry Point command in your update request or delete it separately.";

/// Global (`None`) or guild scope of the route; the guild must have the app.
fn scope(ctx: &Ctx<'_>) -> Result<Option<u64>, ApiError> {
    ctx.application_id()?;
    let guild_id = ctx.params.opt_id("guild_id")?;
    if let Some(guild_id) = guild_id
        && !ctx.inner.world.lock().guilds.contains_key(&guild_id)
    {
        return Err(ApiError::missing_access());
    }
    Ok(guild_id)
}

fn kind_of(body: &Value) -> u64 {
    body.get("type").and_then(Value::as_u64).unwrap_or(1)
}

/// Discord's name rule for chat input commands and options: `^[-_'\p{L}\p{N}]{1,32}$`, no upper case.
fn valid_chat_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=32).contains(&count)
        && name.chars().all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || matches!(c, '-' | '_' | '\''))
}

fn check_command(errors: &mut FormErrors, at: &[String], body: &Value, guild: bool) {
    let path = |field: &str| at.iter().cloned().chain([field.to_owned()]).collect::<Vec<_>>();
    let kind = kind_of(body);
    if !(1..=4).contains(&kind) {
        errors.add_owned(&path("type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.");
    }
    if kind == 4 && guild {
        errors.add_owned(
            &path("type"),
            "APPLICATION_COMMAND_TYPE_INVALID",
            "Your app cannot have a PRIMARY_ENTRY_POINT guild command.",
        );
    }
    let name = body.get("name").and_then(Value::as_str);
    match name {
        None => errors.add_owned(&path("name"), "BASE_TYPE_REQUIRED", "This field is required"),
        Some(name) if kind == 1 && !valid_chat_name(name) => {
            errors.add_owned(&path("name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
        }
        Some(name) if !(1..=32).contains(&name.chars().count()) => {
            errors.add_owned(&path("name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.");
        }
        Some(_) => {}
    }
    let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
    if kind == 1 && !(1..=100).contains(&description.chars().count()) {
        errors.add_owned(&path("description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
    if matches!(kind, 2 | 3) && !description.is_empty() {
        errors.add_owned(
            &path("description"),
            "APPLICATION_COMMAND_DESCRIPTION_INVALID",
            "Context menu commands cannot have a description.",
        );
    }
    if let Some(options) = body.get("options").and_then(Value::as_array) {
        check_options(errors, &path("options"), options);
    }
}

fn check_options(errors: &mut FormErrors, at: &[String], options: &[Value]) {
    if options.len() > 25 {
        errors.add_owned(at, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    }
    let mut optional_seen = false;
    for (index, option) in options.iter().enumerate() {
        let path = |field: &str| at.iter().cloned().chain([index.to_string(), field.to_owned()]).collect::<Vec<_>>();
        let kind = option.get("type").and_then(Value::as_u64).unwrap_or(0);
        if !(1..=11).contains(&kind) {
            errors.add_owned(
                &path("type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
            );
        }
        if !option.get("name").and_then(Value::as_str).is_some_and(valid_chat_name) {
            errors.add_owned(&path("name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
        }
        let description = option.get("description").and_then(Value::as_str).map_or(0, |text| text.chars().count());
        if !(1..=100).contains(&description) {
            errors.add_owned(&path("description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
        }
        let required = option.get("required").and_then(Value::as_bool).unwrap_or(false);
        if kind > 2 && required && optional_seen {
            errors.add_owned(
                &path("required"),
                "APPLICATION_COMMAND_OPTIONS_ORDER_INVALID",
                "Required options must be placed before non-required options",
            );
        }
        optional_seen |= kind > 2 && !required;
        let choices = option.get("choices").and_then(Value::as_array).map_or(0, Vec::len);
        if choices > 25 {
            errors.add_owned(&path("choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
        }
        if choices > 0 && option.get("autocomplete").and_then(Value::as_bool) == Some(true) {
            errors.add_owned(
                &path("autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete cannot be set with choices.",
            );
        }
        if let Some(children) = option.get("options").and_then(Value::as_array) {
            check_options(errors, &path("options"), children);
        }
    }
}

/// The definition as stored: an object without the server-side fields.
fn normalize(body: &Value) -> Value {
    let mut map = body.as_object().cloned().unwrap_or_else(Map::new);
    for key in ["id", "application_id", "version", "guild_id"] {
        map.remove(key);
    }
    map.insert("type".to_owned(), json!(kind_of(body)));
    Value::Object(map)
}

fn in_scope(command: &Command, guild_id: Option<u64>) -> bool {
    command.guild_id == guild_id
}

fn list_json(world: &World, guild_id: Option<u64>) -> Value {
    Value::Array(
        world
            .commands
            .values()
            .filter(|command| in_scope(command, guild_id))
            .map(|command| render::command(world, command))
            .collect(),
    )
}

/// `GET .../commands`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    Ok(Reply::json(list_json(&ctx.inner.world.lock(), guild_id)))
}

fn check_limits(commands: &[Value]) -> Result<(), ApiError> {
    for (kind, max) in [(1, 100), (2, 15), (3, 15), (4, 1)] {
        if commands.iter().filter(|body| kind_of(body) == kind).count() > max {
            return Err(ApiError::new(400, 30032, &format!("Maximum number of application commands reached ({max})")));
        }
    }
    Ok(())
}

/// `PUT .../commands`: bulk overwrite (200 and the list, ids kept for unchanged names).
pub(crate) fn overwrite(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    let body = ctx.body.cloned().unwrap_or(Value::Null);
    let items: Vec<Value> = match body {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        _ => return Err(ApiError::form_root("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")),
    };
    let mut errors = FormErrors::default();
    for (index, item) in items.iter().enumerate() {
        check_command(&mut errors, &[index.to_string()], item, guild_id.is_some());
    }
    let mut seen = std::collections::HashSet::new();
    if items
        .iter()
        .any(|item| !seen.insert((kind_of(item), item.get("name").and_then(Value::as_str).unwrap_or_default())))
    {
        errors.add(&[], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique");
    }
    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    check_limits(&items)?;
    ctx.inner.with_world(|world| {
        let had_entry_point = world.commands.values().any(|command| in_scope(command, guild_id) && command.kind == 4);
        if guild_id.is_none() && had_entry_point && !items.iter().any(|item| kind_of(item) == 4) {
            return Err(ApiError::new(400, 50240, ENTRY_POINT_REMOVED));
        }
        let fresh: Vec<Command> = items.iter().map(|item| build(world, guild_id, item)).collect();
        world.commands.retain(|_, command| !in_scope(command, guild_id));
        for command in fresh {
            world.commands.insert(command.id, command);
        }
        Ok(Reply::json(list_json(world, guild_id)))
    })
}

/// A command for `body`, keeping the id (and the version if unchanged) of the same name and type.
fn build(world: &World, guild_id: Option<u64>, body: &Value) -> Command {
    let normalized = normalize(body);
    let kind = u8::try_from(kind_of(body)).unwrap_or(1);
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let existing = world
        .commands
        .values()
        .find(|command| in_scope(command, guild_id) && command.kind == kind && command.name == name);
    let id = existing.map_or_else(|| world.next_id(), |command| command.id);
    let version = match existing {
        Some(command) if command.body == normalized => command.version,
        _ => world.next_id(),
    };
    Command { id, guild_id, kind, name, version, body: normalized }
}

/// `POST .../commands`: create, or overwrite the command of the same name (201 new, 200 existing).
pub(crate) fn create(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    let body = ctx.body();
    let mut errors = FormErrors::default();
    check_command(&mut errors, &[], &body, guild_id.is_some());
    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    ctx.inner.with_world(|world| {
        let command = build(world, guild_id, &body);
        let existed = world.commands.contains_key(&command.id);
        if !existed {
            let mut all: Vec<Value> = world
                .commands
                .values()
                .filter(|found| in_scope(found, guild_id))
                .map(|found| found.body.clone())
                .collect();
            all.push(command.body.clone());
            check_limits(&all)?;
        }
        let value = render::command(world, &command);
        world.commands.insert(command.id, command);
        Ok(if existed { Reply::json(value) } else { Reply::created(value) })
    })
}

fn find(world: &World, guild_id: Option<u64>, id: u64) -> Result<&Command, ApiError> {
    world.commands.get(&id).filter(|command| in_scope(command, guild_id)).ok_or_else(ApiError::unknown_command)
}

/// `GET .../commands/{command_id}`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    let id = ctx.params.id("command_id")?;
    let world = ctx.inner.world.lock();
    Ok(Reply::json(render::command(&world, find(&world, guild_id, id)?)))
}

/// `PATCH .../commands/{command_id}`.
pub(crate) fn patch(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    let id = ctx.params.id("command_id")?;
    let changes = ctx.body();
    ctx.inner.with_world(|world| {
        let command = find(world, guild_id, id)?.clone();
        let mut merged = command.body.clone();
        if let (Value::Object(into), Value::Object(from)) = (&mut merged, changes) {
            into.extend(from);
            into.insert("type".to_owned(), json!(command.kind));
        }
        let mut errors = FormErrors::default();
        check_command(&mut errors, &[], &merged, guild_id.is_some());
        if let Some(error) = errors.into_error() {
            return Err(error);
        }
        let name = merged.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let updated = Command { name, version: world.next_id(), body: normalize(&merged), ..command };
        let value = render::command(world, &updated);
        world.commands.insert(id, updated);
        Ok(Reply::json(value))
    })
}

/// `DELETE .../commands/{command_id}`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = scope(ctx)?;
    let id = ctx.params.id("command_id")?;
    ctx.inner.with_world(|world| {
        find(world, guild_id, id)?;
        world.commands.remove(&id);
        Ok(Reply::no_content())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_chat_name("meet-start"));
        assert!(valid_chat_name("réunion"));
        assert!(!valid_chat_name("Meet"));
        assert!(!valid_chat_name("two words"));
        assert!(!valid_chat_name(""));
        let mut errors = FormErrors::default();
        let options = json!([{"type": 3, "name": "a", "description": "x"}, {"type": 3, "name": "b", "description": "y", "required": true}]);
        check_command(&mut errors, &[], &json!({"name": "x", "description": "d", "options": options}), false);
        assert!(!errors.is_empty());
    }
}
