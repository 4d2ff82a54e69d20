//! The acting member: who they are from the interaction payload, and their server-wide
//! permissions.
//!
//! NOTE: Discord's `member.permissions` in an interaction are the member's permissions *in the
//! channel*, overwrites applied. A channel overwrite can grant Manage Events in one voice channel,
//! which must not make the member a host everywhere, so the actor carries guild-level permissions
//! computed from the guild's roles (read with the bot token, cached briefly). Without a bot token,
//! or when Discord cannot be reached, channel-grantable bits that decide roles are dropped.

use std::time::Duration;

use kalcord_discord::egress::Method;
use kalcord_discord::permission::{Permissions, guild_permissions, while_timed_out};
use kalcord_proto::v1::Actor;
use serde::{Deserialize, Serialize};

use crate::handler::Ctx;

/// The answer outside a server.
pub const GUILD_ONLY: &str = "Use this in a server.";

/// How long a guild's owner and role permissions are reused.
const GUILD_FACTS_TTL: Duration = Duration::from_mins(1);

/// What a server-wide permission decision needs from the guild.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct GuildFacts {
    /// The owner's user id.
    pub(crate) owner_id: String,
    /// Every role, `@everyone` included.
    pub(crate) roles: Vec<RoleFacts>,
}

/// A role's id and guild-level permissions.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RoleFacts {
    /// Role id.
    pub(crate) id: String,
    /// Decimal permission bits.
    pub(crate) permissions: String,
}

impl GuildFacts {
    /// `(role id, permission bits)` of every role.
    pub(crate) fn role_bits(&self) -> Vec<(u64, u64)> {
        self.roles
            .iter()
            .filter_map(|role| Some((role.id.parse().ok()?, Permissions::parse(&role.permissions).0)))
            .collect()
    }
}

/// The acting member as the payload shows them (channel-level permissions); `None` outside a guild.
#[must_use]
pub fn from_payload(ctx: &Ctx) -> Option<Actor> {
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

/// The acting member with guild-level permissions and ownership; `None` outside a guild.
pub async fn actor(ctx: &Ctx) -> Option<Actor> {
    let mut actor = from_payload(ctx)?;
    match guild_facts(ctx, actor.guild_id).await {
        Some(facts) => {
            let roles = facts.role_bits();
            actor.is_owner = facts.owner_id.parse() == Ok(actor.user_id);
            actor.permissions = guild_permissions(actor.guild_id, actor.is_owner, &roles, &actor.role_ids);
            if timed_out(ctx) {
                actor.permissions = while_timed_out(actor.permissions);
            }
        }
        None => actor.permissions &= !Permissions::MANAGE_EVENTS.0,
    }
    Some(actor)
}

/// Whether the member is timed out right now (Discord already applies it to the payload's
/// channel permissions, not to the guild-level ones computed here).
fn timed_out(ctx: &Ctx) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX));
    ctx.interaction
        .member
        .as_ref()
        .and_then(|member| member.communication_disabled_until)
        .is_some_and(|until| until.as_secs() > now)
}

/// The guild's owner and role permissions, from the cache or Discord.
pub(crate) async fn guild_facts(ctx: &Ctx, guild_id: u64) -> Option<GuildFacts> {
    // NOTE: identity drops this entry on role and guild changes (gateway events).
    let key = kalcord_discord::cache_keys::interactions_guild(guild_id);
    let cache = ctx.app.deps.cache.as_ref();
    if let Some(cache) = cache
        && let Ok(Some(bytes)) = cache.get(&key).await
        && let Ok(facts) = serde_json::from_slice(&bytes)
    {
        return Some(facts);
    }
    let egress = ctx.app.egress.as_ref()?;
    let facts: GuildFacts = match egress.request(Method::Get, &format!("guilds/{guild_id}"), None::<&()>).await {
        Ok(facts) => facts,
        Err(err) => {
            tracing::warn!(guild_id, error = %kalcord_runtime::chain(&err), "guild roles unavailable; channel-level event rights ignored");
            return None;
        }
    };
    if let Some(cache) = cache
        && let Ok(bytes) = serde_json::to_vec(&facts)
        && let Err(err) = cache.set(&key, bytes.into(), GUILD_FACTS_TTL).await
    {
        tracing::debug!(error = %err, "guild facts not cached");
    }
    Some(facts)
}
