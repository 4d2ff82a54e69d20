//! The gateway's two cookies: the `OAuth2` state (`Path=/oauth2`) and the launch-page session
//! (`Path=/m`), both `HttpOnly`, `SameSite=Lax` and `Secure` when the gateway is served over https.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::AppState;

/// Whether the gateway's public address is https, so its cookies must be `Secure`.
pub(crate) fn secure(state: &AppState) -> bool {
    let origin = state.deps.common.discord.public_origin();
    origin.is_some_and(|origin| origin.starts_with("https://"))
        || state.oauth.as_ref().is_some_and(|oauth| oauth.redirect_uri.starts_with("https://"))
}

/// A `Set-Cookie` value: `name=value` for `path` and `max_age` seconds (0 clears it).
pub(crate) fn set(state: &AppState, name: &str, value: &str, path: &str, max_age: i64) -> String {
    let secure = if secure(state) { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Reads a cookie from the request's `Cookie` headers.
pub(crate) fn read<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}
