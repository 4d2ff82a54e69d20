//! `GET /api/v1/invite`: the URL that adds the bot to a server, with each permission explained.

use actix_web::{HttpResponse, web};
use kalcord_discord::permission::{BOT_PERMISSION_REASONS, BOT_PERMISSIONS, INVITE_SCOPES, invite_url};
use serde_json::json;

use crate::{ApiError, AppState, Code};

/// The invite of `discord.application_id`: `url`, `permissions` (decimal bitfield), `scopes`
/// and `reasons` (each permission's name, bit and why); 503 `not_configured` without an
/// application id.
///
/// # Errors
///
/// `not_configured` when `discord.application_id` is not set.
pub async fn get_invite(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(application_id) = state.deps.common.discord.application_id else {
        return Err(ApiError::new(Code::NOT_CONFIGURED, "discord.application_id is not set (see docs/discord.md)"));
    };
    let reasons: Vec<_> = BOT_PERMISSION_REASONS
        .iter()
        .map(|(bit, name, why)| json!({"permission": name, "bit": bit.0.trailing_zeros(), "why": why}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "url": invite_url(application_id),
        "permissions": BOT_PERMISSIONS.to_wire(),
        "scopes": INVITE_SCOPES,
        "reasons": reasons,
    })))
}
