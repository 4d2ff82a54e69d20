//! Messages: Discord's own body rules, creation, edits and deletion (logged and dispatched).

use serde_json::{Value, json};

use super::World;
use super::json as render;
use super::model::{InteractionMeta, Message};
use crate::api_error::{ApiError, FormErrors};
use crate::gateway::dispatch::Dispatch;
use crate::perms::{INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES};
use crate::records::{MessageAction, MessageRecord, MessageSource};

/// `EPHEMERAL` message flag.
pub(crate) const FLAG_EPHEMERAL: u64 = 1 << 6;
/// `LOADING` message flag (deferred interaction response).
pub(crate) const FLAG_LOADING: u64 = 1 << 7;
/// `IS_COMPONENTS_V2` message flag.
pub(crate) const FLAG_COMPONENTS_V2: u64 = 1 << 15;

/// A message to create.
#[derive(Debug)]
pub(crate) struct NewMessage<'a> {
    pub channel_id: u64,
    pub author_id: u64,
    pub kind: u8,
    pub body: &'a Value,
    pub webhook_id: Option<u64>,
    pub interaction: Option<InteractionMeta>,
    pub source: MessageSource,
    /// Extra flags (e.g. `LOADING`).
    pub extra_flags: u64,
}

/// Discord's checks of a message body (beyond the published schema): lengths, counts, empty messages.
pub(crate) fn validate_body(body: &Value, creating: bool) -> Result<(), ApiError> {
    let mut errors = FormErrors::default();
    let flags = body.get("flags").and_then(Value::as_u64).unwrap_or(0);
    if flags & FLAG_COMPONENTS_V2 == 0 {
        errors.check_len(&["content"], body.get("content"), 0, 2000, false);
    }
    check_embeds(&mut errors, body.get("embeds"));
    check_components(&mut errors, body.get("components"), flags);
    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    if creating && is_empty(body) {
        return Err(ApiError::empty_message());
    }
    Ok(())
}

fn is_empty(body: &Value) -> bool {
    let has = |key: &str| match body.get(key) {
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(list)) => !list.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    !["content", "embeds", "components", "attachments", "sticker_ids", "poll", "files"].iter().any(|key| has(key))
}

fn check_embeds(errors: &mut FormErrors, embeds: Option<&Value>) {
    let Some(Value::Array(embeds)) = embeds else { return };
    if embeds.len() > 10 {
        errors.add(&["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
        return;
    }
    for (index, embed) in embeds.iter().enumerate() {
        let index = index.to_string();
        errors.check_len(&["embeds", &index, "title"], embed.get("title"), 0, 256, false);
        errors.check_len(&["embeds", &index, "description"], embed.get("description"), 0, 4096, false);
        if embed.get("fields").and_then(Value::as_array).is_some_and(|fields| fields.len() > 25) {
            errors.add(&["embeds", &index, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
        }
    }
    let total: usize = embeds.iter().map(embed_chars).sum();
    if total > 6000 {
        errors.add(&["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
    }
}

fn embed_chars(embed: &Value) -> usize {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map_or(0, |text| text.chars().count());
    let fields = embed
        .get("fields")
        .and_then(Value::as_array)
        .map_or(0, |fields| fields.iter().map(|field| text(field.get("name")) + text(field.get("value"))).sum());
    text(embed.get("title"))
        + text(embed.get("description"))
        + text(embed.pointer("/footer/text"))
        + text(embed.pointer("/author/name"))
        + fields
}

fn check_components(errors: &mut FormErrors, components: Option<&Value>, flags: u64) {
    let Some(Value::Array(rows)) = components else { return };
    if flags & FLAG_COMPONENTS_V2 != 0 {
        return;
    }
    if rows.len() > 5 {
        errors.add(&["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
        return;
    }
    for (row_index, row) in rows.iter().enumerate() {
        let row_index = row_index.to_string();
        let Some(children) = row.get("components").and_then(Value::as_array) else { continue };
        if children.len() > 5 {
            errors.add(
                &["components", &row_index, "components"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 5 or fewer in length.",
            );
        }
        for (index, child) in children.iter().enumerate() {
            let path = ["components", row_index.as_str(), "components", &index.to_string()].map(str::to_owned);
            check_button(errors, &path, child);
        }
    }
}

fn check_button(errors: &mut FormErrors, path: &[String], button: &Value) {
    if button.get("type").and_then(Value::as_u64) != Some(2) {
        return;
    }
    let at = |field: &str| path.iter().cloned().chain([field.to_owned()]).collect::<Vec<_>>();
    let style = button.get("style").and_then(Value::as_u64).unwrap_or(0);
    if style == 5 {
        if button.get("url").and_then(Value::as_str).is_none_or(str::is_empty) {
            errors.add_owned(&at("url"), "BUTTON_URL_REQUIRED", "A url is required for link buttons.");
        }
        if button.get("custom_id").is_some_and(|id| !id.is_null()) {
            errors.add_owned(
                &at("custom_id"),
                "BUTTON_CUSTOM_ID_INVALID",
                "A custom id is not allowed for link buttons.",
            );
        }
    } else if style != 6 {
        let len = button.get("custom_id").and_then(Value::as_str).map_or(0, |id| id.chars().count());
        if !(1..=100).contains(&len) {
            errors.add_owned(&at("custom_id"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
        }
    }
    if button.get("label").and_then(Value::as_str).is_some_and(|label| label.chars().count() > 80) {
        errors.add_owned(&at("label"), "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.");
    }
}

impl World {
    /// Creates a message (already validated), logs it and dispatches `MESSAGE_CREATE` unless ephemeral.
    pub(crate) fn create_message(&mut self, new: NewMessage<'_>) -> Result<Message, ApiError> {
        let channel = self.channels.get(&new.channel_id).ok_or_else(ApiError::unknown_channel)?;
        let guild_id = channel.guild_id;
        let body = new.body;
        let kind = if body.get("message_reference").is_some_and(|value| !value.is_null()) && new.kind == 0 {
            19
        } else {
            new.kind
        };
        let message = Message {
            id: self.next_id(),
            channel_id: new.channel_id,
            guild_id,
            author_id: new.author_id,
            kind,
            content: body.get("content").and_then(Value::as_str).unwrap_or_default().to_owned(),
            embeds: normalize_embeds(array_or_empty(body.get("embeds"))),
            components: normalize_components(array_or_empty(body.get("components"))),
            attachments: array_or_empty(body.get("attachments")),
            flags: body.get("flags").and_then(Value::as_u64).unwrap_or(0) | new.extra_flags,
            tts: body.get("tts").and_then(Value::as_bool).unwrap_or(false),
            edited_ms: None,
            webhook_id: new.webhook_id,
            interaction: new.interaction,
            reference: body.get("message_reference").filter(|value| !value.is_null()).cloned(),
            nonce: body.get("nonce").filter(|value| !value.is_null()).cloned(),
        };
        if let Some(channel) = self.channels.get_mut(&new.channel_id) {
            channel.last_message_id = Some(message.id);
        }
        self.messages.insert(message.id, message.clone());
        self.log_message(&message, MessageAction::Created, new.source);
        self.dispatch_message("MESSAGE_CREATE", &message);
        Ok(message)
    }

    /// Applies the fields present in `body` to a message (`MESSAGE_UPDATE`).
    pub(crate) fn edit_message(&mut self, id: u64, body: &Value, source: MessageSource) -> Result<Message, ApiError> {
        let now = self.now_ms();
        let message = self.messages.get_mut(&id).ok_or_else(ApiError::unknown_message)?;
        if let Some(content) = body.get("content") {
            content.as_str().unwrap_or_default().clone_into(&mut message.content);
        }
        if let Some(embeds) = body.get("embeds") {
            message.embeds = normalize_embeds(array_or_empty(Some(embeds)));
        }
        if let Some(components) = body.get("components") {
            message.components = normalize_components(array_or_empty(Some(components)));
        }
        if let Some(attachments) = body.get("attachments") {
            message.attachments = array_or_empty(Some(attachments));
        }
        if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
            message.flags = (message.flags & FLAG_EPHEMERAL) | flags;
        }
        message.flags &= !FLAG_LOADING;
        message.edited_ms = Some(now);
        let message = message.clone();
        self.log_message(&message, MessageAction::Edited, source);
        self.dispatch_message("MESSAGE_UPDATE", &message);
        Ok(message)
    }

    /// Deletes a message (`MESSAGE_DELETE`).
    pub(crate) fn delete_message(&mut self, id: u64, source: MessageSource) -> Result<(), ApiError> {
        let message = self.messages.remove(&id).ok_or_else(ApiError::unknown_message)?;
        self.log_message(&message, MessageAction::Deleted, source);
        if message.flags & FLAG_EPHEMERAL == 0 {
            let mut data = json!({"id": id.to_string(), "channel_id": message.channel_id.to_string()});
            if let Some(guild_id) = message.guild_id {
                data["guild_id"] = json!(guild_id.to_string());
            }
            let intent = if message.guild_id.is_some() { INTENT_GUILD_MESSAGES } else { INTENT_DIRECT_MESSAGES };
            self.emit(Dispatch::new("MESSAGE_DELETE", message.guild_id, intent, data));
        }
        Ok(())
    }

    fn dispatch_message(&mut self, event: &'static str, message: &Message) {
        if message.flags & FLAG_EPHEMERAL != 0 {
            return;
        }
        let mut data = render::message(self, message);
        if let Some(guild_id) = message.guild_id {
            data["guild_id"] = json!(guild_id.to_string());
        }
        let intent = if message.guild_id.is_some() { INTENT_GUILD_MESSAGES } else { INTENT_DIRECT_MESSAGES };
        self.emit(Dispatch::new(event, message.guild_id, intent, data));
    }

    fn log_message(&mut self, message: &Message, action: MessageAction, source: MessageSource) {
        let record = MessageRecord {
            action,
            source,
            message_id: message.id,
            channel_id: message.channel_id,
            content: message.content.clone(),
            embeds: message.embeds.clone(),
            components: message.components.clone(),
            flags: message.flags,
            at_ms: self.now_ms(),
        };
        self.message_log.push(record);
    }
}

/// Embeds as Discord returns them: `type: "rich"` and `inline` on fields.
fn normalize_embeds(mut embeds: Value) -> Value {
    for embed in embeds.as_array_mut().into_iter().flatten() {
        let Value::Object(map) = embed else { continue };
        map.entry("type").or_insert_with(|| json!("rich"));
        for field in map.get_mut("fields").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Value::Object(field) = field {
                field.entry("inline").or_insert(Value::Bool(false));
            }
        }
    }
    embeds
}

/// Components as Discord returns them: every component gets a numeric `id` (depth first, from 1).
fn normalize_components(mut components: Value) -> Value {
    fn number(value: &mut Value, next: &mut i64) {
        match value {
            Value::Array(list) => list.iter_mut().for_each(|item| number(item, next)),
            Value::Object(map) if map.contains_key("type") => {
                if !map.get("id").is_some_and(Value::is_i64) {
                    map.insert("id".to_owned(), json!(*next));
                }
                *next = map.get("id").and_then(Value::as_i64).unwrap_or(*next).max(*next) + 1;
                for key in ["components", "accessory", "component", "items"] {
                    if let Some(child) = map.get_mut(key) {
                        number(child, next);
                    }
                }
            }
            _ => {}
        }
    }
    let mut next = 1;
    number(&mut components, &mut next);
    components
}

fn array_or_empty(value: Option<&Value>) -> Value {
    match value {
        Some(Value::Array(list)) => Value::Array(list.clone()),
        _ => json!([]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_rules() {
        assert!(validate_body(&json!({"content": "hi"}), true).is_ok());
        assert_eq!(validate_body(&json!({"content": ""}), true).unwrap_err().code(), 50006);
        let long = "x".repeat(2001);
        let error = validate_body(&json!({"content": long}), true).unwrap_err();
        assert_eq!(error.body["errors"]["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
        let embeds: Vec<Value> = (0..11).map(|_| json!({"title": "t"})).collect();
        assert_eq!(validate_body(&json!({"embeds": embeds}), true).unwrap_err().code(), 50035);
        let link = json!({"components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "Join"}]}]});
        assert_eq!(validate_body(&link, true).unwrap_err().code(), 50035);
    }
}
