//! Checks of what members send, each failure naming its field.

use chrono::{DateTime, TimeDelta, Utc};
use kalcord_proto::v1::MeetingKind as ProtoKind;
use kalcord_store::entity::MeetingKind;
use serde_json::{Map, Value};

use crate::failure::Failure;

/// Longest title, in characters (after trimming).
pub const MAX_TITLE_CHARS: usize = 100;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Longest meeting, in minutes (a day).
pub const MAX_DURATION_MINUTES: u32 = 1440;
/// Length of a meeting when none is given, in minutes.
pub const DEFAULT_DURATION_MINUTES: u32 = 60;
/// How far ahead a meeting may be scheduled.
pub const MAX_SCHEDULE_AHEAD: TimeDelta = TimeDelta::days(365);
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
/// Longest text value of a custom field.
pub const MAX_CUSTOM_TEXT_CHARS: usize = 1000;

/// The kind of Kaltura room, from the proto enum value.
///
/// # Errors
///
/// `invalid` (`kind`) when unset or unknown.
pub fn kind(value: i32) -> Result<MeetingKind, Failure> {
    match ProtoKind::try_from(value) {
        Ok(ProtoKind::VirtualClassroom) => Ok(MeetingKind::VirtualClassroom),
        Ok(ProtoKind::MeetingRoom) => Ok(MeetingKind::MeetingRoom),
        Ok(ProtoKind::Webinar) => Ok(MeetingKind::Webinar),
        Ok(ProtoKind::Unspecified) | Err(_) => Err(Failure::invalid(
            "kind",
            "Choose what the meeting runs on: a virtual classroom, a meeting room or a webinar.",
        )),
    }
}

/// The title, trimmed.
///
/// # Errors
///
/// `invalid` (`title`) when empty or longer than [`MAX_TITLE_CHARS`].
pub fn title(text: &str) -> Result<String, Failure> {
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_TITLE_CHARS {
        return Err(Failure::invalid("title", format!("The title must be 1 to {MAX_TITLE_CHARS} characters long.")));
    }
    Ok(trimmed.to_owned())
}

/// The description, trimmed; `None` when empty.
///
/// # Errors
///
/// `invalid` (`description`) when longer than [`MAX_DESCRIPTION_CHARS`].
pub fn description(text: &str) -> Result<Option<String>, Failure> {
    let trimmed = text.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Failure::invalid(
            "description",
            format!("The description must be at most {MAX_DESCRIPTION_CHARS} characters long."),
        ));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// The planned length in minutes; 0 means [`DEFAULT_DURATION_MINUTES`].
///
/// # Errors
///
/// `invalid` (`duration_minutes`) above [`MAX_DURATION_MINUTES`].
pub fn duration(minutes: u32) -> Result<u32, Failure> {
    match minutes {
        0 => Ok(DEFAULT_DURATION_MINUTES),
        1..=MAX_DURATION_MINUTES => Ok(minutes),
        _ => Err(Failure::invalid(
            "duration_minutes",
            format!("The duration must be between 1 and {MAX_DURATION_MINUTES} minutes."),
        )),
    }
}

/// The planned start: `None` for "now" (0), else a future instant less than a year ahead.
///
/// # Errors
///
/// `invalid` (`scheduled_start_unix_ms`) in the past or too far ahead.
pub fn scheduled_start(unix_ms: i64, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Failure> {
    if unix_ms == 0 {
        return Ok(None);
    }
    let field = "scheduled_start_unix_ms";
    let Some(at) = DateTime::from_timestamp_millis(unix_ms) else {
        return Err(Failure::invalid(field, "The start time is not a valid date."));
    };
    if at <= now {
        return Err(Failure::invalid(field, "The start time must be in the future (or leave it empty to start now)."));
    }
    if at - now >= MAX_SCHEDULE_AHEAD {
        return Err(Failure::invalid(field, "Meetings can be scheduled at most a year ahead."));
    }
    Ok(Some(at))
}

/// The idempotency key.
///
/// # Errors
///
/// `invalid` (`idempotency_key`) when empty or too long.
pub fn idempotency_key(key: &str) -> Result<String, Failure> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(Failure::invalid(
            "idempotency_key",
            format!("An idempotency key of 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters is required."),
        ));
    }
    Ok(key.to_owned())
}

/// Custom field values: `""` for none, else a JSON object.
///
/// # Errors
///
/// `invalid` (`custom_fields_json`) when not a JSON object.
pub fn custom_fields_json(text: &str) -> Result<Map<String, Value>, Failure> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::invalid("custom_fields_json", "Custom fields must be a JSON object.")),
    }
}

/// The type of a custom field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A string (at most [`MAX_CUSTOM_TEXT_CHARS`] characters).
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// One custom field a guild defines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDefinition {
    /// Field name (the key in `custom_fields_json`).
    pub name: String,
    /// Type of its value.
    pub kind: FieldType,
    /// Whether every meeting must set it.
    pub required: bool,
}

/// Reads a guild's `custom_field_definitions`.
///
/// Two shapes are accepted: an object `{"name": {"type": "string"|"number"|"boolean",
/// "required": bool}}`, or an array of `{"name", "type", "required"}` objects (the column's
/// default is `[]`: no custom fields). Malformed definitions are skipped with a warning, so
/// a bad definition never blocks meetings.
#[must_use]
pub fn field_definitions(definitions: &Value) -> Vec<FieldDefinition> {
    let entries: Vec<(String, &Value)> = match definitions {
        Value::Object(map) => map.iter().map(|(name, spec)| (name.clone(), spec)).collect(),
        Value::Array(items) => {
            items.iter().filter_map(|spec| Some((spec.get("name")?.as_str()?.to_owned(), spec))).collect()
        }
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|(name, spec)| {
            let kind = match spec.get("type").and_then(Value::as_str) {
                Some("string") => FieldType::String,
                Some("number") => FieldType::Number,
                Some("boolean") => FieldType::Boolean,
                _ => {
                    tracing::warn!(field = %name, "custom field definition without a known type skipped");
                    return None;
                }
            };
            let required = spec.get("required").and_then(Value::as_bool).unwrap_or(false);
            Some(FieldDefinition { name, kind, required })
        })
        .collect()
}

/// Checks custom field values against the guild's definitions: known fields only, of the
/// right type, required ones present.
///
/// # Errors
///
/// One `invalid` failure naming every offending field (`custom_fields_json.<name>`).
pub fn custom_fields(definitions: &[FieldDefinition], values: &Map<String, Value>) -> Result<(), Failure> {
    let mut failures = Vec::new();
    for (name, value) in values {
        let field = format!("custom_fields_json.{name}");
        let Some(definition) = definitions.iter().find(|definition| &definition.name == name) else {
            failures.push(Failure::invalid(field, format!("This server has no custom field named \"{name}\".")));
            continue;
        };
        let fits = match definition.kind {
            FieldType::String => value.as_str().is_some_and(|text| text.chars().count() <= MAX_CUSTOM_TEXT_CHARS),
            FieldType::Number => value.is_number(),
            FieldType::Boolean => value.is_boolean(),
        };
        if !fits {
            let expected = match definition.kind {
                FieldType::String => "a text of at most 1000 characters",
                FieldType::Number => "a number",
                FieldType::Boolean => "true or false",
            };
            failures.push(Failure::invalid(field, format!("The field \"{name}\" must be {expected}.")));
        }
    }
    for definition in definitions.iter().filter(|definition| definition.required) {
        if values.get(&definition.name).is_none_or(Value::is_null) {
            failures.push(Failure::invalid(
                format!("custom_fields_json.{}", definition.name),
                format!("The field \"{}\" is required.", definition.name),
            ));
        }
    }
    Failure::combine(failures).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(title("  Standup ").unwrap(), "Standup");
        assert_eq!(title("   ").unwrap_err().field, "title");
        assert!(title(&"é".repeat(100)).is_ok());
        assert!(title(&"é".repeat(101)).is_err());
    }

    #[test]
    fn durations_default_and_are_bounded() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(duration(0).unwrap(), 60);
        assert_eq!(duration(1440).unwrap(), 1440);
        assert_eq!(duration(1441).unwrap_err().field, "duration_minutes");
    }

    #[test]
    fn starts_are_now_or_within_a_year() {
        let _trace = kalcord_test_util::trace_init();
        let now = Utc::now();
        let ms = |at: DateTime<Utc>| at.timestamp_millis();
        assert_eq!(scheduled_start(0, now).unwrap(), None);
        assert!(scheduled_start(ms(now + TimeDelta::hours(1)), now).unwrap().is_some());
        assert!(scheduled_start(ms(now - TimeDelta::hours(1)), now).is_err());
        assert!(scheduled_start(ms(now + TimeDelta::days(366)), now).is_err());
    }

    #[test]
    fn kinds_must_be_set() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(kind(3).unwrap(), MeetingKind::Webinar);
        assert_eq!(kind(0).unwrap_err().field, "kind");
        assert_eq!(kind(42).unwrap_err().field, "kind");
    }

    #[test]
    fn custom_fields_follow_the_definitions() {
        let _trace = kalcord_test_util::trace_init();
        let definitions = field_definitions(&json!({
            "course": {"type": "string", "required": true},
            "seats": {"type": "number"},
            "bogus": {"type": "date"},
        }));
        assert_eq!(definitions.len(), 2);
        assert!(custom_fields(&definitions, &map(json!({"course": "CS101", "seats": 30}))).is_ok());
        let err = custom_fields(&definitions, &map(json!({"seats": "many", "color": "red"}))).unwrap_err();
        let mut fields: Vec<&str> = err.field.split(',').collect();
        fields.sort_unstable();
        assert_eq!(fields, ["custom_fields_json.color", "custom_fields_json.course", "custom_fields_json.seats"]);
        assert!(custom_fields(&[], &Map::new()).is_ok());
    }

    #[test]
    fn array_definitions_are_accepted() {
        let _trace = kalcord_test_util::trace_init();
        let definitions = field_definitions(&json!([{"name": "public", "type": "boolean", "required": false}]));
        assert_eq!(
            definitions,
            vec![FieldDefinition { name: "public".into(), kind: FieldType::Boolean, required: false }]
        );
        assert!(custom_fields(&definitions, &map(json!({"public": true}))).is_ok());
        assert!(custom_fields_json("[1]").is_err());
        assert!(custom_fields_json("").unwrap().is_empty());
    }
}
