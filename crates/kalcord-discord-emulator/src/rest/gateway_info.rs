//! `GET /gateway` and `GET /gateway/bot`.

use serde_json::json;

use super::{Ctx, Reply};
use crate::api_error::ApiError;

/// Milliseconds until the daily IDENTIFY budget resets (`session_start_limit.reset_after`).
const RESET_AFTER_MS: u64 = 14_400_000;

/// `GET /gateway` (no auth): the websocket URL.
#[allow(clippy::unnecessary_wraps)] // NOTE: the Handler signature.
pub(crate) fn gateway(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(json!({"url": ctx.inner.gateway_url})))
}

/// `GET /gateway/bot`: URL, recommended shards and the session start limit.
#[allow(clippy::unnecessary_wraps)] // NOTE: the Handler signature.
pub(crate) fn gateway_bot(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let settings = &ctx.inner.settings;
    let used = ctx.inner.hub.lock().identifies;
    let total = settings.gateway.session_start_limit;
    Ok(Reply::json(json!({
        "url": ctx.inner.gateway_url,
        "shards": settings.shards,
        "session_start_limit": {
            "total": total,
            "remaining": total.saturating_sub(used),
            "reset_after": RESET_AFTER_MS,
            "max_concurrency": settings.max_concurrency,
        },
    })))
}
