//! Interaction callbacks (3 s rule, single acknowledgement), follow-up webhooks (15 min tokens), Activity instances.

use serde_json::{Value, json};

use super::{Ctx, Reply};
use crate::api_error::{ApiError, FormErrors};
use crate::records::MessageSource;
use crate::world::json as render;
use crate::world::messages::{FLAG_EPHEMERAL, FLAG_LOADING, NewMessage, validate_body};
use crate::world::model::{Interaction, InteractionMeta};
use crate::world::{APPLICATION_FLAG_EMBEDDED, World};

/// Time to send the first response.
pub(crate) const RESPONSE_WINDOW_MS: u64 = 3_000;
/// Lifetime of an interaction token for follow-ups.
pub(crate) const TOKEN_LIFETIME_MS: u64 = 15 * 60 * 1000;

/// Callback types allowed for an interaction type.
fn allowed(interaction_kind: u8, callback: u64) -> bool {
    match interaction_kind {
        1 => callback == 1,
        2 => matches!(callback, 4 | 5 | 9 | 10 | 12),
        3 => matches!(callback, 4..=7 | 9 | 10 | 12),
        4 => callback == 8,
        5 => matches!(callback, 4..=7 | 10 | 12),
        _ => false,
    }
}

fn meta(interaction: &Interaction) -> InteractionMeta {
    InteractionMeta {
        id: interaction.id,
        kind: interaction.kind,
        user_id: interaction.user_id,
        name: interaction.command_name.clone(),
        guild_id: interaction.guild_id,
    }
}

/// Applies a first response (inline HTTP answer or callback route); returns the `with_response` body.
pub(crate) fn apply_callback(world: &mut World, id: u64, token: &str, body: &Value) -> Result<Value, ApiError> {
    let interaction = world
        .interactions
        .get(token)
        .filter(|found| found.id == id)
        .cloned()
        .ok_or_else(ApiError::unknown_interaction)?;
    if interaction.response.is_some() {
        return Err(ApiError::already_acknowledged());
    }
    if world.now_ms() > interaction.created_ms + RESPONSE_WINDOW_MS {
        return Err(ApiError::unknown_interaction());
    }
    let Some(kind) = body.get("type").and_then(Value::as_u64).filter(|kind| allowed(interaction.kind, *kind)) else {
        return Err(ApiError::form_field(
            &["type"],
            "INTERACTION_CALLBACK_TYPE_INVALID",
            "Interaction callback type is invalid for this interaction.",
        ));
    };
    if kind == 12 && world.app.flags & APPLICATION_FLAG_EMBEDDED == 0 {
        return Err(ApiError::form_field(
            &["type"],
            "INTERACTION_CALLBACK_TYPE_INVALID",
            "Activities are not enabled for this application.",
        ));
    }
    let data = body.get("data").cloned().unwrap_or_else(|| json!({}));
    check_data(kind, &data)?;
    let (message, activity) = perform(world, &interaction, kind, &data)?;
    if let Some(found) = world.interactions.get_mut(token) {
        found.response = Some(u8::try_from(kind).unwrap_or(0));
        found.original = message.or(found.original);
    }
    Ok(callback_response(world, &interaction, kind, message, activity))
}

fn check_data(kind: u64, data: &Value) -> Result<(), ApiError> {
    let mut errors = FormErrors::default();
    match kind {
        4 => return validate_body(data, true),
        7 => return validate_body(data, false),
        8 if data.get("choices").and_then(Value::as_array).is_some_and(|choices| choices.len() > 25) => {
            errors.add(&["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
        }
        9 => {
            errors.check_len(&["data", "custom_id"], data.get("custom_id"), 1, 100, true);
            errors.check_len(&["data", "title"], data.get("title"), 1, 45, true);
            let count = data.get("components").and_then(Value::as_array).map_or(0, Vec::len);
            if !(1..=5).contains(&count) {
                errors.add(&["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
            }
        }
        _ => {}
    }
    errors.into_error().map_or(Ok(()), Err)
}

/// Does what the callback type says; returns the response message id and an Activity instance id.
fn perform(
    world: &mut World,
    interaction: &Interaction,
    kind: u64,
    data: &Value,
) -> Result<(Option<u64>, Option<String>), ApiError> {
    match kind {
        4 | 5 => {
            let channel_id = interaction.channel_id.ok_or_else(ApiError::unknown_channel)?;
            let loading = if kind == 5 {
                FLAG_LOADING | (data.get("flags").and_then(Value::as_u64).unwrap_or(0) & FLAG_EPHEMERAL)
            } else {
                0
            };
            let empty = json!({});
            let new = NewMessage {
                channel_id,
                author_id: world.app.bot_user_id,
                kind: if interaction.kind == 2 { 20 } else { 0 },
                body: if kind == 5 { &empty } else { data },
                webhook_id: Some(world.app.id),
                interaction: Some(meta(interaction)),
                source: MessageSource::InteractionResponse,
                extra_flags: loading,
            };
            Ok((Some(world.create_message(new)?.id), None))
        }
        6 => Ok((interaction.component_message, None)),
        7 => {
            let target = interaction.component_message.ok_or_else(ApiError::unknown_message)?;
            world.edit_message(target, data, MessageSource::InteractionResponse)?;
            Ok((Some(target), None))
        }
        12 => {
            let instance = format!("i-{}-gc-{}", world.next_id(), interaction.channel_id.unwrap_or(0));
            let value = activity_instance(
                world,
                &instance,
                interaction.channel_id.unwrap_or(0),
                interaction.guild_id,
                &[interaction.user_id],
            );
            world.activity_instances.insert(instance.clone(), value);
            Ok((None, Some(instance)))
        }
        _ => Ok((None, None)),
    }
}

fn callback_response(
    world: &World,
    interaction: &Interaction,
    kind: u64,
    message: Option<u64>,
    activity: Option<String>,
) -> Value {
    let mut summary = json!({"id": interaction.id.to_string(), "type": interaction.kind});
    let mut resource = json!({"type": kind});
    if let Some(found) = message.and_then(|id| world.messages.get(&id)) {
        summary["response_message_id"] = json!(found.id.to_string());
        summary["response_message_loading"] = json!(found.flags & FLAG_LOADING != 0);
        summary["response_message_ephemeral"] = json!(found.flags & FLAG_EPHEMERAL != 0);
        if matches!(kind, 4 | 7) {
            resource["message"] = render::message(world, found);
        }
    }
    if let Some(instance) = activity {
        summary["activity_instance_id"] = json!(instance);
        resource["activity_instance"] = json!({"id": instance});
    }
    json!({"interaction": summary, "resource": resource})
}

/// `POST /interactions/{interaction_id}/{interaction_token}/callback[?with_response=true]`.
pub(crate) fn callback(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let id = crate::ids::parse_id(ctx.params.text("interaction_id")).ok_or_else(ApiError::unknown_interaction)?;
    let token = ctx.params.text("interaction_token").to_owned();
    let body = ctx.body();
    let response = ctx.inner.with_world(|world| apply_callback(world, id, &token, &body))?;
    Ok(if ctx.query_flag("with_response") { Reply::json(response) } else { Reply::no_content() })
}

/// The interaction behind a follow-up webhook (10015 / 50027 as Discord answers).
fn webhook_interaction(ctx: &Ctx<'_>, world: &World) -> Result<Interaction, ApiError> {
    let webhook_id = crate::ids::parse_id(ctx.params.text("webhook_id"));
    if webhook_id != Some(world.app.id) {
        return Err(ApiError::unknown_webhook());
    }
    let token = ctx.params.text("webhook_token");
    let interaction = world.interactions.get(token).ok_or_else(ApiError::invalid_webhook_token)?;
    if world.now_ms() > interaction.created_ms + TOKEN_LIFETIME_MS {
        return Err(ApiError::invalid_webhook_token());
    }
    if interaction.response.is_none() {
        return Err(ApiError::unknown_webhook());
    }
    Ok(interaction.clone())
}

/// `POST /webhooks/{app}/{token}`: a follow-up (after a type-5 defer, the first one fills the loading message).
pub(crate) fn followup(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = ctx.body();
    ctx.inner.with_world(|world| {
        let interaction = webhook_interaction(ctx, world)?;
        validate_body(&body, true)?;
        let loading = interaction
            .original
            .and_then(|id| world.messages.get(&id))
            .filter(|message| message.flags & FLAG_LOADING != 0);
        if let Some(original) = loading.map(|message| message.id) {
            let message = world.edit_message(original, &body, MessageSource::Webhook)?;
            return Ok(Reply::json(render::message(world, &message)));
        }
        let channel_id = interaction.channel_id.ok_or_else(ApiError::unknown_channel)?;
        let new = NewMessage {
            channel_id,
            author_id: world.app.bot_user_id,
            kind: 0,
            body: &body,
            webhook_id: Some(world.app.id),
            interaction: Some(meta(&interaction)),
            source: MessageSource::Webhook,
            extra_flags: 0,
        };
        let message = world.create_message(new)?;
        if let Some(found) = world.interactions.get_mut(&interaction.token) {
            found.followups.push(message.id);
        }
        Ok(Reply::json(render::message(world, &message)))
    })
}

/// `@original` or a follow-up id of this interaction (10008 otherwise).
fn target(ctx: &Ctx<'_>, interaction: &Interaction) -> Result<u64, ApiError> {
    let text = ctx.params.text("message_id");
    let wanted = if text.is_empty() { interaction.original } else { crate::ids::parse_id(text) };
    let wanted = wanted.ok_or_else(ApiError::unknown_message)?;
    if interaction.original == Some(wanted) || interaction.followups.contains(&wanted) {
        Ok(wanted)
    } else {
        Err(ApiError::unknown_message())
    }
}

/// `GET /webhooks/{app}/{token}/messages/{@original|id}`.
pub(crate) fn get_message(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let world = ctx.inner.world.lock();
    let interaction = webhook_interaction(ctx, &world)?;
    let id = target(ctx, &interaction)?;
    let message = world.messages.get(&id).ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::json(render::message(&world, message)))
}

/// `PATCH /webhooks/{app}/{token}/messages/{@original|id}`.
pub(crate) fn edit_message(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = ctx.body();
    ctx.inner.with_world(|world| {
        let interaction = webhook_interaction(ctx, world)?;
        let id = target(ctx, &interaction)?;
        validate_body(&body, false)?;
        let message = world.edit_message(id, &body, MessageSource::Webhook)?;
        Ok(Reply::json(render::message(world, &message)))
    })
}

/// `DELETE /webhooks/{app}/{token}/messages/{@original|id}`: 204.
pub(crate) fn delete_message(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.inner.with_world(|world| {
        let interaction = webhook_interaction(ctx, world)?;
        let id = target(ctx, &interaction)?;
        world.delete_message(id, MessageSource::Webhook)?;
        Ok(Reply::no_content())
    })
}

/// An Activity instance object.
pub(crate) fn activity_instance(
    world: &World,
    instance_id: &str,
    channel_id: u64,
    guild_id: Option<u64>,
    users: &[u64],
) -> Value {
    let kind = if guild_id.is_some() { "gc" } else { "pc" };
    let mut location =
        json!({"id": format!("{kind}-{channel_id}"), "kind": kind, "channel_id": channel_id.to_string()});
    if let Some(guild_id) = guild_id {
        location["guild_id"] = json!(guild_id.to_string());
    }
    json!({
        "application_id": world.app.id.to_string(),
        "instance_id": instance_id,
        "launch_id": world.next_id().to_string(),
        "location": location,
        "users": users.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// `GET /applications/{application_id}/activity-instances/{instance_id}` (404 `0` when unknown).
pub(crate) fn activity_instance_get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.application_id()?;
    let world = ctx.inner.world.lock();
    world
        .activity_instances
        .get(ctx.params.text("instance_id"))
        .cloned()
        .map(Reply::json)
        .ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn callback_types_per_interaction_type() {
        assert!(allowed(1, 1) && !allowed(1, 4));
        assert!(allowed(2, 5) && !allowed(2, 7) && !allowed(2, 8));
        assert!(allowed(3, 7) && allowed(3, 6));
        assert!(allowed(4, 8) && !allowed(4, 4));
        assert!(allowed(5, 4) && !allowed(5, 9));
    }
}
