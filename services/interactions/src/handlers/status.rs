//! `/kaltura status`: how every kalcord service is doing, for server managers.

use std::time::Duration;

use async_trait::async_trait;
use kalcord_discord::egress::Method;
use kalcord_discord::permission::{
    Overwrite, OverwriteTarget, Permissions, channel_permissions, guild_permissions, missing_bot_permissions,
};
use kalcord_discord::response::{Embed, InteractionResponse, MessageData};
use kalcord_proto::v1::TenantRequest;
use kalcord_runtime::status_report;
use serde::Deserialize;
use serde_json::Value;

use crate::client::Services;
use crate::handler::{Ctx, Handler, HandlerError};

/// Time each service gets to answer.
const TIMEOUT: Duration = Duration::from_millis(800);

/// Time Discord gets to answer what the bot's permissions in the notification channel are.
const PERMISSIONS_TIMEOUT: Duration = Duration::from_millis(1200);

/// How long the bot's own user id is reused.
const BOT_USER_TTL: Duration = Duration::from_hours(1);

/// The field listing what the bot lacks in the notification channel.
const PERMISSIONS_FIELD: &str = "Bot permissions";

#[derive(Debug, Deserialize)]
struct UserFacts {
    id: String,
}

#[derive(Debug, Deserialize)]
struct MemberFacts {
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ChannelFacts {
    #[serde(default)]
    permission_overwrites: Vec<OverwriteFacts>,
}

#[derive(Debug, Deserialize)]
struct OverwriteFacts {
    id: String,
    #[serde(rename = "type")]
    kind: Value,
    #[serde(default)]
    allow: String,
    #[serde(default)]
    deny: String,
}

impl OverwriteFacts {
    fn overwrite(&self) -> Option<Overwrite> {
        let id = self.id.parse().ok()?;
        let member = match &self.kind {
            Value::Number(n) => n.as_u64() == Some(1),
            Value::String(s) => s == "1" || s == "member",
            _ => false,
        };
        Some(Overwrite {
            target: if member { OverwriteTarget::Member(id) } else { OverwriteTarget::Role(id) },
            allow: Permissions::parse(&self.allow).0,
            deny: Permissions::parse(&self.deny).0,
        })
    }
}

/// The bot's own user id, from the cache or `GET users/@me`.
async fn bot_user_id(ctx: &Ctx) -> Result<u64, String> {
    const KEY: &str = "interactions:bot-user-id";
    let cache = ctx.app.deps.cache.as_ref();
    if let Some(cache) = cache
        && let Ok(Some(bytes)) = cache.get(KEY).await
        && let Some(id) = std::str::from_utf8(&bytes).ok().and_then(|text| text.parse().ok())
    {
        return Ok(id);
    }
    let egress = ctx.app.egress.as_ref().ok_or("no bot token is configured")?;
    let user: UserFacts =
        egress.request(Method::Get, "users/@me", None::<&()>).await.map_err(|err| kalcord_runtime::chain(&err))?;
    let id: u64 = user.id.parse().map_err(|_| "Discord answered an unexpected bot user id".to_owned())?;
    if let Some(cache) = cache
        && let Err(err) = cache.set(KEY, id.to_string().into_bytes().into(), BOT_USER_TTL).await
    {
        tracing::debug!(error = %err, "bot user id not cached");
    }
    Ok(id)
}

/// The bot's permissions in `channel_id` of `guild_id`, overwrites applied.
async fn bot_channel_permissions(ctx: &Ctx, guild_id: u64, channel_id: u64) -> Result<Permissions, String> {
    let egress = ctx.app.egress.as_ref().ok_or("no bot token is configured")?;
    let bot = bot_user_id(ctx).await?;
    let member = async {
        egress
            .request::<MemberFacts>(Method::Get, &format!("guilds/{guild_id}/members/{bot}"), None::<&()>)
            .await
            .map_err(|err| kalcord_runtime::chain(&err))
    };
    let channel = async {
        egress
            .request::<ChannelFacts>(Method::Get, &format!("channels/{channel_id}"), None::<&()>)
            .await
            .map_err(|err| kalcord_runtime::chain(&err))
    };
    let (member, channel, guild) = tokio::join!(member, channel, crate::actor::guild_facts(ctx, guild_id));
    let (member, channel) = (member?, channel?);
    let guild = guild.ok_or("the server's roles could not be read")?;
    let roles: Vec<u64> = member.roles.iter().filter_map(|id| id.parse().ok()).collect();
    let owner = guild.owner_id.parse() == Ok(bot);
    let base = guild_permissions(guild_id, owner, &guild.role_bits(), &roles);
    let overwrites: Vec<Overwrite> =
        channel.permission_overwrites.iter().filter_map(OverwriteFacts::overwrite).collect();
    Ok(Permissions(channel_permissions(guild_id, base, bot, &roles, &overwrites)))
}

/// The permissions field's text for the notification channel `channel_id`.
async fn permissions_line(ctx: &Ctx, guild_id: u64, channel_id: u64) -> String {
    let checked = tokio::time::timeout(PERMISSIONS_TIMEOUT, bot_channel_permissions(ctx, guild_id, channel_id)).await;
    match checked {
        Ok(Ok(held)) => {
            let missing = missing_bot_permissions(held);
            if missing.is_empty() {
                format!("✅ all permissions kalcord needs in <#{channel_id}>")
            } else {
                let lines: Vec<String> =
                    missing.iter().map(|(_, name, why)| format!("• **{name}**: needed to {why}")).collect();
                format!("❌ missing in <#{channel_id}>:\n{}", lines.join("\n"))
            }
        }
        Ok(Err(problem)) => {
            tracing::warn!(guild_id, channel_id, problem, "bot permissions not checked");
            format!(
                "⚠️ could not check the bot's permissions in <#{channel_id}>: Discord could not be reached ({problem})"
            )
        }
        Err(_) => {
            format!("⚠️ could not check the bot's permissions in <#{channel_id}>: Discord did not answer in time")
        }
    }
}

/// The handler.
#[derive(Clone, Copy, Debug)]
pub struct KalturaStatus;

#[async_trait]
impl Handler for KalturaStatus {
    async fn handle(&self, ctx: &Ctx) -> Result<InteractionResponse, HandlerError> {
        // NOTE: Discord hides /kaltura from members without Manage Server, but server admins
        // can change that per command; the check here is what actually protects it.
        if !ctx.permissions().contains(Permissions::MANAGE_GUILD) {
            return Ok(InteractionResponse::ephemeral(
                "You need the Manage Server permission to see kalcord's status.",
            ));
        }
        let tenant = async {
            let actor = crate::actor::actor(ctx).await?;
            let guild_id = actor.guild_id;
            let services = Services::new(std::sync::Arc::clone(&ctx.app.deps.bus));
            let tenant = services.tenant(&TenantRequest { actor: Some(actor), check: true }).await;
            let channel = tenant.as_ref().ok().map_or(0, |tenant| tenant.notification_channel_id);
            let permissions = if channel == 0 { None } else { Some(permissions_line(ctx, guild_id, channel).await) };
            Some((tenant, permissions))
        };
        let (report, tenant) = tokio::join!(status_report(&ctx.app.deps.bus, TIMEOUT), tenant);
        let healthy = report.status == "ok";
        let mut embed = Embed::titled(if healthy { "kalcord is healthy" } else { "kalcord is degraded" })
            .color(if healthy { 0x0057_F287 } else { 0x00ED_4245 });
        if let Some((tenant, permissions)) = tenant {
            let line = match tenant {
                Ok(tenant) => super::kaltura::tenant_line(&tenant),
                Err(failure) => format!("❌ {}", failure.text()),
            };
            embed = embed.field("Kaltura", &line, false);
            if let Some(permissions) = permissions {
                embed = embed.field(PERMISSIONS_FIELD, &permissions, false);
            }
        }
        for service in &report.services {
            let mark = match service.status {
                "ok" => "✅",
                "not_ready" => "⚠️",
                _ => "❌",
            };
            let detail = match (&service.version, service.problems.first()) {
                (_, Some(problem)) => problem.clone(),
                (Some(version), None) => format!("v{version}"),
                (None, None) => String::new(),
            };
            embed = embed.field(
                &format!("{mark} {}", service.service),
                if detail.is_empty() { "—" } else { &detail },
                true,
            );
        }
        Ok(InteractionResponse::message(MessageData::embed(embed).ephemeral()))
    }
}
