//! The acting member, as the interaction payload shows them.

use kalcord_proto::v1::Actor;

use crate::handler::Ctx;

/// The answer outside a server.
pub const GUILD_ONLY: &str = "Use this in a server.";

/// The acting member: guild, user, roles, permissions, names and channel; `None` outside a guild.
#[must_use]
pub fn actor(ctx: &Ctx) -> Option<Actor> {
    let guild_id = ctx.guild_id()?;
    let member = ctx.interaction.member.as_ref()?;
    let user = member.user.as_ref().or(ctx.interaction.user.as_ref())?;
    let display_name = member
        .nick
        .clone()
        .filter(|nick| !nick.trim().is_empty())
        .or_else(|| user.global_name.clone().filter(|name| !name.trim().is_empty()))
        .unwrap_or_else(|| user.name.clone());
    Some(Actor {
        guild_id,
        user_id: user.id.get(),
        role_ids: ctx.member_roles(),
        permissions: ctx.permissions().0,
        display_name,
        username: user.name.clone(),
        channel_id: ctx.channel_id().unwrap_or(0),
        is_owner: false,
    })
}
