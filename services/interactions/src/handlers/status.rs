//! `/kaltura status`: how every kalcord service is doing, for server managers.

use std::time::Duration;

use async_trait::async_trait;
use kalcord_discord::permission::Permissions;
use kalcord_discord::response::{Embed, InteractionResponse, MessageData};
use kalcord_proto::v1::TenantRequest;
use kalcord_runtime::status_report;

use crate::client::Services;
use crate::handler::{Ctx, Handler, HandlerError};

/// Time each service gets to answer.
const TIMEOUT: Duration = Duration::from_millis(800);

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
            let services = Services::new(std::sync::Arc::clone(&ctx.app.deps.bus));
            Some(services.tenant(&TenantRequest { actor: Some(actor), check: true }).await)
        };
        let (report, tenant) = tokio::join!(status_report(&ctx.app.deps.bus, TIMEOUT), tenant);
        let healthy = report.status == "ok";
        let mut embed = Embed::titled(if healthy { "kalcord is healthy" } else { "kalcord is degraded" })
            .color(if healthy { 0x0057_F287 } else { 0x00ED_4245 });
        if let Some(tenant) = tenant {
            let line = match tenant {
                Ok(tenant) => super::kaltura::tenant_line(&tenant),
                Err(failure) => format!("❌ {}", failure.text()),
            };
            embed = embed.field("Kaltura", &line, false);
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
