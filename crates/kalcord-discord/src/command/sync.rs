//! Deciding what a bulk overwrite must send: nothing when the registered commands already
//! match, and always the Activity entry-point command when one exists.

use serde_json::Value;

use super::model::CommandDefinition;

/// Command type of the Activity entry point (absent from twilight-model 0.18).
pub const PRIMARY_ENTRY_POINT: u64 = 4;

/// What to do.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncPlan {
    /// The registered commands match the definitions.
    UpToDate,
    /// PUT this body (a JSON array) as a bulk overwrite.
    Overwrite(Value),
}

/// Fields Discord adds that definitions do not set, ignored when comparing.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "application_id",
    "guild_id",
    "version",
    "dm_permission",
    "nsfw",
    "name_localizations",
    "description_localizations",
    "handler",
];

fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, value)| !SERVER_FIELDS.contains(&key.as_str()) && !is_default(key, value))
                .map(|(key, value)| (key.clone(), normalise(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

/// Discord echoes defaults (`false`, `[]`, `null`) that our definitions leave out.
fn is_default(key: &str, value: &Value) -> bool {
    match value {
        Value::Bool(false) => key == "required" || key == "autocomplete",
        Value::Array(items) => items.is_empty(),
        Value::Null => key != "default_member_permissions",
        _ => false,
    }
}

/// Compares `existing` (the GET answer) with `desired` and plans the overwrite.
#[must_use]
pub fn plan(existing: &[Value], desired: &[CommandDefinition]) -> SyncPlan {
    let entry_points: Vec<Value> = existing
        .iter()
        .filter(|command| command.get("type").and_then(Value::as_u64) == Some(PRIMARY_ENTRY_POINT))
        .cloned()
        .collect();
    let mut current: Vec<Value> = existing
        .iter()
        .filter(|command| command.get("type").and_then(Value::as_u64) != Some(PRIMARY_ENTRY_POINT))
        .map(normalise)
        .collect();
    let mut wanted: Vec<Value> = desired
        .iter()
        .map(|definition| normalise(&serde_json::to_value(definition).expect("definitions serialise")))
        .collect();
    let by_name = |value: &Value| value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    current.sort_by_key(by_name);
    wanted.sort_by_key(by_name);
    if current == wanted {
        return SyncPlan::UpToDate;
    }
    let mut body: Vec<Value> =
        desired.iter().map(|definition| serde_json::to_value(definition).expect("definitions serialise")).collect();
    // NOTE: a bulk overwrite without the entry-point command is refused by Discord; keep it as is.
    body.extend(entry_points.into_iter().map(|mut entry| {
        if let Some(map) = entry.as_object_mut() {
            map.retain(|key, _| !matches!(key.as_str(), "application_id" | "guild_id" | "version"));
        }
        entry
    }));
    SyncPlan::Overwrite(Value::Array(body))
}
