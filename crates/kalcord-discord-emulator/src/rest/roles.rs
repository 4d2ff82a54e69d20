//! Guild roles.

use serde_json::Value;

use super::members::check_manage_role;
use super::{Ctx, Reply};
use crate::api_error::{ApiError, FormErrors};
use crate::perms::MANAGE_ROLES;
use crate::world::json as render;
use crate::world::mutate::RoleFields;

/// Reads role fields (permissions as a decimal string or a number; colours 0..=0xFFFFFF).
fn fields(body: &Value) -> Result<RoleFields, ApiError> {
    let mut errors = FormErrors::default();
    errors.check_len(&["name"], body.get("name"), 0, 100, false);
    let permissions = match body.get("permissions") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => text.parse::<u64>().ok().or_else(|| {
            errors.add(&["permissions"], "NUMBER_TYPE_COERCE", &format!("Value \"{text}\" is not int."));
            None
        }),
        Some(Value::Number(number)) => number.as_u64(),
        Some(other) => {
            errors.add(&["permissions"], "NUMBER_TYPE_COERCE", &format!("Value \"{other}\" is not int."));
            None
        }
    };
    let color = body
        .get("color")
        .and_then(Value::as_u64)
        .or_else(|| body.pointer("/colors/primary_color").and_then(Value::as_u64));
    if color.is_some_and(|color| color > 0xFF_FFFF) {
        errors.add(&["color"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.");
    }
    if let Some(error) = errors.into_error() {
        return Err(error);
    }
    Ok(RoleFields {
        name: body.get("name").and_then(Value::as_str).map(str::to_owned),
        permissions,
        color: color.and_then(|color| u32::try_from(color).ok()),
        hoist: body.get("hoist").and_then(Value::as_bool),
        mentionable: body.get("mentionable").and_then(Value::as_bool),
        position: None,
    })
}

/// `GET /guilds/{guild_id}/roles`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let world = ctx.inner.world.lock();
    let mut roles: Vec<_> = world.guild(guild_id)?.roles.iter().collect();
    roles.sort_by_key(|role| (role.position, role.id));
    Ok(Reply::json(Value::Array(roles.into_iter().map(render::role).collect())))
}

/// `POST /guilds/{guild_id}/roles` (MANAGE_ROLES): `GUILD_ROLE_CREATE`.
pub(crate) fn create(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let fields = fields(&ctx.body())?;
    ctx.inner.with_world(|world| {
        world.guild(guild_id)?;
        world.require_bot(guild_id, MANAGE_ROLES)?;
        world.create_role(guild_id, None, &fields).map(Reply::json)
    })
}

/// `GET /guilds/{guild_id}/roles/{role_id}`.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let role_id = ctx.params.id("role_id")?;
    let world = ctx.inner.world.lock();
    let role = world.guild(guild_id)?.role(role_id).ok_or_else(ApiError::unknown_role)?;
    Ok(Reply::json(render::role(role)))
}

/// `PATCH /guilds/{guild_id}/roles/{role_id}`: `GUILD_ROLE_UPDATE`.
pub(crate) fn patch(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let role_id = ctx.params.id("role_id")?;
    let fields = fields(&ctx.body())?;
    ctx.inner.with_world(|world| {
        check_manage_role(world, guild_id, role_id)?;
        world.update_role(guild_id, role_id, &fields).map(Reply::json)
    })
}

/// `DELETE /guilds/{guild_id}/roles/{role_id}`: 204, `GUILD_ROLE_DELETE`.
pub(crate) fn delete(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let guild_id = ctx.params.id("guild_id")?;
    let role_id = ctx.params.id("role_id")?;
    ctx.inner.with_world(|world| {
        check_manage_role(world, guild_id, role_id)?;
        world.delete_role(guild_id, role_id)?;
        Ok(Reply::no_content())
    })
}
