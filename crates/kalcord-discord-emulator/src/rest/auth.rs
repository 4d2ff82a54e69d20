//! `Authorization` header: bot token, Bearer token, HTTP Basic client credentials.

use actix_web::HttpRequest;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::route::Auth;
use crate::api_error::ApiError;
use crate::state::constant_time_eq;
use crate::world::World;
use crate::world::oauth::AccessToken;

/// Who is calling.
#[derive(Clone, Debug)]
pub(crate) enum Caller {
    /// The bot (valid bot token).
    Bot,
    /// A live Bearer token.
    Bearer(AccessToken),
    /// HTTP Basic credentials (`client_id`, `client_secret`), checked by the OAuth2 handlers.
    Basic(String, String),
    /// No `Authorization` header.
    Anonymous,
    /// A token that is not valid.
    Invalid,
}

/// Rate-limit key of a bot token (so tests can read its counters).
pub(crate) fn limiter_key_for_bot(token: &str) -> String {
    format!("bot:{}", hex::encode(&Sha256::digest(token.as_bytes())[..8]))
}

/// The caller, and its rate-limit key (`bot:…`, `bearer:…` or `ip:…`).
pub(crate) fn identify(request: &HttpRequest, world: &World) -> (Caller, String) {
    let header = request.headers().get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let peer = request.peer_addr().map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string());
    if header.is_empty() {
        return (Caller::Anonymous, format!("ip:{peer}"));
    }
    let (scheme, credentials) = header.split_once(' ').unwrap_or(("", header));
    let hashed = hex::encode(&Sha256::digest(credentials.as_bytes())[..8]);
    match scheme.to_ascii_lowercase().as_str() {
        "bot" => {
            let caller =
                if constant_time_eq(credentials, &world.app.bot_token) { Caller::Bot } else { Caller::Invalid };
            (caller, format!("bot:{hashed}"))
        }
        "bearer" => {
            let caller =
                world.oauth.bearer(credentials, world.now_ms()).cloned().map_or(Caller::Invalid, Caller::Bearer);
            (caller, format!("bearer:{hashed}"))
        }
        "basic" => (basic(credentials).unwrap_or(Caller::Invalid), format!("ip:{peer}")),
        _ => (Caller::Invalid, format!("ip:{peer}")),
    }
}

fn basic(credentials: &str) -> Option<Caller> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(credentials.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().map(|(_, value)| value.into_owned())
    };
    Some(Caller::Basic(decode(id)?, decode(secret)?))
}

/// Checks the caller against the route's requirement (401 `0`, or 403 `50001` for a missing scope).
pub(crate) fn check(auth: Auth, caller: &Caller) -> Result<(), ApiError> {
    match (auth, caller) {
        (Auth::None | Auth::Client, _) | (Auth::Bot | Auth::BotOrBearer(_), Caller::Bot) => Ok(()),
        (Auth::BotOrBearer(scope) | Auth::Bearer(scope), Caller::Bearer(token)) => {
            if scope.is_empty() || token.has(scope) { Ok(()) } else { Err(ApiError::missing_access()) }
        }
        _ => Err(ApiError::unauthorized()),
    }
}

/// The `Authorization` value as recorded: its scheme only.
pub(crate) fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} <redacted>"),
        None => "<redacted>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_and_checks() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("123:s%3Acret");
        let Some(Caller::Basic(id, secret)) = basic(&encoded) else { panic!("basic") };
        assert_eq!((id.as_str(), secret.as_str()), ("123", "s:cret"));
        assert!(check(Auth::Bot, &Caller::Anonymous).is_err());
        assert_eq!(check(Auth::Bot, &Caller::Invalid).unwrap_err().status, 401);
        assert!(check(Auth::None, &Caller::Invalid).is_ok());
        assert_eq!(redact("Bot abc.def"), "Bot <redacted>");
    }
}
