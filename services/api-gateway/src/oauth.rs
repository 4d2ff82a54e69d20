//! `GET /oauth2/login` and `GET /oauth2/callback`: Discord sign-in for the REST API.
//!
//! Login sends the browser to Discord's consent page with a random `state` that is also kept in
//! a signed, `HttpOnly`, `SameSite=Lax` cookie; the callback refuses a `state` that does not match the
//! cookie, exchanges the code, reads the user and their guilds, and answers an API token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::AppState;
use crate::discord::DiscordError;
use crate::error::{ApiError, Code};

/// Cookie holding the signed state.
pub const STATE_COOKIE: &str = "kalcord_oauth_state";
/// Time a sign-in may take between login and callback.
const STATE_TTL_SECONDS: i64 = 600;

/// Query of the callback.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn oauth(state: &AppState) -> Result<&crate::discord::OAuth, ApiError> {
    state.oauth.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::NOT_CONFIGURED,
            "Discord sign-in is not configured: set discord.application_id, discord.client_secret and discord.oauth_redirect_uri",
        )
    })
}

/// The state cookie, `Secure` when the redirect URI is https; `max_age` 0 clears it.
fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = state.oauth.as_ref().is_some_and(|oauth| oauth.redirect_uri.starts_with("https://"));
    let secure = if secure { "; Secure" } else { "" };
    format!("{STATE_COOKIE}={value}; Path=/oauth2; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Reads a cookie from the request's `Cookie` headers.
fn read_cookie<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// `GET /oauth2/login`: 302 to Discord's consent page.
///
/// # Errors
///
/// 503 `not_configured` when sign-in is not configured.
pub async fn login(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let oauth = oauth(&state)?;
    let (nonce, value) = state.token_key.state(crate::unix_seconds() + STATE_TTL_SECONDS);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, oauth.authorize_url(&nonce)))
        .insert_header((header::SET_COOKIE, cookie(&state, &value, STATE_TTL_SECONDS)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `GET /oauth2/callback?code&state`: the API token.
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
    let cookie_value = read_cookie(&request, STATE_COOKIE);
    let (Some(cookie_value), Some(nonce)) = (cookie_value, query.state.as_deref()) else {
        return Err(ApiError::new(Code::INVALID_STATE, "the sign-in state is missing; start again at /oauth2/login"));
    };
    if !state.token_key.check_state(cookie_value, nonce, now) {
        return Err(ApiError::new(
            Code::INVALID_STATE,
            "the sign-in state does not match this browser or has expired; start again at /oauth2/login",
        ));
    }
    if query.error.is_some() {
        return Err(ApiError::new(Code::OAUTH_FAILED, "Discord sign-in was not approved"));
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return Err(ApiError::new(Code::INVALID, "the callback carries no code").with_field("code"));
    };
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
    let ttl = i64::try_from(state.config.token_ttl.as_secs()).unwrap_or(3600);
    let (token, claims) = state.token_key.issue(user_id, &guilds, now, ttl);
    metrics::counter!("kalcord_api_sign_ins_total").increment(1);
    tracing::info!(user_id, guilds = guilds.len(), "signed in to the REST API");
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
