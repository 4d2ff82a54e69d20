//! `GET /oauth2/login` and `GET /oauth2/callback`: Discord sign-in for the REST API.
//!
//! Login sends the browser to Discord's consent page with a random `state` that is also kept in
//! a signed, `HttpOnly`, `SameSite=Lax` cookie; the callback refuses a `state` that does not match the
//! cookie, exchanges the code, reads the user and their guilds, and answers an API token.
//!
//! A sign-in started by the launch page carries `next=/m/{guild}/{meeting}`, bound into the
//! signed state cookie; its callback sets the token as the launch page's session cookie and
//! sends the browser back there instead of answering JSON.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::AppState;
use crate::discord::DiscordError;
use crate::error::{ApiError, Code};
use crate::launch::LaunchPath;
use crate::token::SignedState;

/// Cookie holding the signed state.
pub const STATE_COOKIE: &str = "kalcord_oauth_state";
/// Time a sign-in may take between login and callback.
const STATE_TTL_SECONDS: i64 = 600;

/// Query of the login.
#[derive(Debug, Deserialize)]
pub struct Login {
    next: Option<String>,
}

/// Query of the callback.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Longest session cookie value; browsers drop cookies over 4096 bytes.
const MAX_SESSION_COOKIE: usize = 3_800;

fn oauth(state: &AppState) -> Result<&crate::discord::OAuth, ApiError> {
    state.oauth.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::NOT_CONFIGURED,
            "Discord sign-in is not configured: set discord.application_id, discord.client_secret and discord.oauth_redirect_uri",
        )
    })
}

/// The state cookie; `max_age` 0 clears it.
fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    crate::cookie::set(state, STATE_COOKIE, value, "/oauth2", max_age)
}

/// `GET /oauth2/login[?next=/m/{guild}/{meeting}]`: 302 to Discord's consent page.
///
/// # Errors
///
/// 400 `invalid` (`next`) when `next` is not a launch page path, 503 `not_configured` when
/// sign-in is not configured.
pub async fn login(query: web::Query<Login>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let next = query
        .next
        .as_deref()
        .map(|next| {
            LaunchPath::from_next(next).ok_or_else(|| {
                ApiError::new(Code::INVALID, "`next` must be a meeting launch path, /m/{guild id}/{meeting id}")
                    .with_field("next")
            })
        })
        .transpose()?;
    let oauth = oauth(&state)?;
    let next = next.map(|next| next.to_string());
    let (nonce, value) = state.token_key.state_to(crate::unix_seconds() + STATE_TTL_SECONDS, next.as_deref());
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, oauth.authorize_url(&nonce)))
        .insert_header((header::SET_COOKIE, cookie(&state, &value, STATE_TTL_SECONDS)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// The state the callback's cookie signs, when it matches the query's `state` and is fresh.
fn checked_state(request: &HttpRequest, query: &Callback, state: &AppState, now: i64) -> Result<SignedState, ApiError> {
    let cookie_value = crate::cookie::read(request, STATE_COOKIE);
    let (Some(cookie_value), Some(nonce)) = (cookie_value, query.state.as_deref()) else {
        return Err(ApiError::new(Code::INVALID_STATE, "the sign-in state is missing; start again at /oauth2/login"));
    };
    state.token_key.open_state(cookie_value, nonce, now).ok_or_else(|| {
        ApiError::new(
            Code::INVALID_STATE,
            "the sign-in state does not match this browser or has expired; start again at /oauth2/login",
        )
    })
}

/// Exchanges `code` for the user's id and guild ids.
async fn signed_in_user(oauth: &crate::discord::OAuth, code: &str) -> Result<(u64, Vec<u64>), ApiError> {
    let (user, guilds) = oauth.sign_in(code).await.map_err(|err| match err {
        DiscordError::Refused { .. } => {
            ApiError::new(Code::OAUTH_FAILED, "Discord refused the sign-in code; start again")
        }
        DiscordError::Unavailable(detail) => {
            tracing::warn!(%detail, "discord sign-in failed");
            ApiError::new(Code::DISCORD_UNAVAILABLE, "Discord did not answer the sign-in; try again")
        }
    })?;
    let Ok(user_id) = user.id.parse::<u64>() else {
        return Err(ApiError::new(Code::DISCORD_UNAVAILABLE, "Discord answered an unexpected user"));
    };
    Ok((user_id, guilds))
}

/// 302 back to the launch page `next`, with `token` as its session cookie.
fn back_to_launch(state: &AppState, next: LaunchPath, token: String, user_id: u64, guilds: &[u64]) -> HttpResponse {
    let now = crate::unix_seconds();
    let ttl = i64::try_from(state.config.token_ttl.as_secs()).unwrap_or(3600);
    let token = if token.len() <= MAX_SESSION_COOKIE {
        token
    } else {
        // NOTE: a member of very many guilds: a cookie naming only this one still fits.
        let guilds: Vec<u64> = guilds.iter().copied().filter(|guild| *guild == next.guild_id).collect();
        state.token_key.issue(user_id, &guilds, now, ttl).0
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, next.to_string()))
        .insert_header((header::SET_COOKIE, cookie(state, "", 0)))
        .append_header((header::SET_COOKIE, crate::launch::session_cookie(state, &token, ttl)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// `GET /oauth2/callback?code&state`: the API token, or 302 back to the launch page that
/// started the sign-in, with the token as its session cookie.
///
/// # Errors
///
/// 400 `invalid_state` for a missing or mismatched state, 400 `oauth_failed` when Discord
/// refuses, 502 `discord_unavailable`, 503 `not_configured`.
pub async fn callback(
    request: HttpRequest,
    query: web::Query<Callback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let oauth = oauth(&state)?;
    let now = crate::unix_seconds();
    let signed = checked_state(&request, &query, &state, now)?;
    if query.error.is_some() {
        return Err(ApiError::new(Code::OAUTH_FAILED, "Discord sign-in was not approved"));
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return Err(ApiError::new(Code::INVALID, "the callback carries no code").with_field("code"));
    };
    let (user_id, guilds) = signed_in_user(oauth, code).await?;
    let ttl = i64::try_from(state.config.token_ttl.as_secs()).unwrap_or(3600);
    let (token, claims) = state.token_key.issue(user_id, &guilds, now, ttl);
    metrics::counter!("kalcord_api_sign_ins_total").increment(1);
    tracing::info!(user_id, guilds = guilds.len(), "signed in to the REST API");
    // NOTE: the state's MAC covers `next`; checking its form again costs nothing.
    if let Some(next) = signed.next.as_deref().and_then(LaunchPath::from_next) {
        return Ok(back_to_launch(&state, next, token, user_id, &guilds));
    }
    let expires_at = crate::meetings::rfc3339(claims.exp * 1000);
    Ok(HttpResponse::Ok()
        .insert_header((header::SET_COOKIE, cookie(&state, "", 0)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at,
            "user_id": claims.sub,
            "guilds": claims.guilds,
        })))
}
