//! OAuth2: the (auto-approving) authorize page, the form-only token and revoke endpoints, `/oauth2/@me`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::auth::Caller;
use super::body::Kind;
use super::{Ctx, Reply};
use crate::api_error::ApiError;
use crate::ids::iso8601;
use crate::state::{Inner, constant_time_eq};
use crate::world::World;
use crate::world::json as render;
use crate::world::oauth::parse_scopes;

fn field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|value| !value.is_empty())
}

/// HTTP Basic or `client_id`/`client_secret` in the form must be the application's.
fn check_client(world: &World, caller: &Caller, body: &Value) -> Result<(), ApiError> {
    let (id, secret) = match caller {
        Caller::Basic(id, secret) => (id.as_str(), secret.as_str()),
        _ => (field(body, "client_id").unwrap_or_default(), field(body, "client_secret").unwrap_or_default()),
    };
    if id == world.app.id.to_string() && constant_time_eq(secret, &world.app.client_secret) {
        Ok(())
    } else {
        Err(ApiError::oauth(401, "invalid_client", None))
    }
}

/// Form bodies only: "JSON content is not permitted".
fn form_body(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.kind == Kind::Form {
        Ok(ctx.body())
    } else {
        Err(ApiError::oauth(400, "unsupported_grant_type", Some("Unsupported grant type")))
    }
}

/// `POST /api[/v10]/oauth2/token`: `authorization_code`, `refresh_token`, `client_credentials`.
pub(crate) fn token(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = form_body(ctx)?;
    ctx.inner.with_world(|world| {
        check_client(world, ctx.caller, &body)?;
        let now = world.now_ms();
        let response = match field(&body, "grant_type") {
            Some("authorization_code") => {
                let code = field(&body, "code")
                    .ok_or_else(|| ApiError::oauth(400, "invalid_request", Some("Missing \"code\" in request.")))?;
                world.oauth.exchange_code(code, field(&body, "redirect_uri"), now)?
            }
            Some("refresh_token") => {
                let refresh = field(&body, "refresh_token").ok_or_else(|| {
                    ApiError::oauth(400, "invalid_request", Some("Missing \"refresh_token\" in request."))
                })?;
                world.oauth.refresh(refresh, now)?
            }
            Some("client_credentials") => {
                let scopes = parse_scopes(field(&body, "scope").unwrap_or("identify"))?;
                world.oauth.grant(None, scopes, false, now)
            }
            _ => return Err(ApiError::oauth(400, "unsupported_grant_type", Some("Unsupported grant type"))),
        };
        Ok(Reply::json(response))
    })
}

/// `POST /api/oauth2/token/revoke`: revokes every token of the authorization.
pub(crate) fn revoke(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = form_body(ctx)?;
    ctx.inner.with_world(|world| {
        check_client(world, ctx.caller, &body)?;
        let token = field(&body, "token")
            .ok_or_else(|| ApiError::oauth(400, "invalid_request", Some("Missing \"token\" in request.")))?;
        world.oauth.revoke(token);
        Ok(Reply::json(json!({})))
    })
}

/// `GET /oauth2/@me` (Bearer): `{application, scopes, expires, user?}`.
pub(crate) fn me(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let Caller::Bearer(token) = ctx.caller else { return Err(ApiError::unauthorized()) };
    let world = ctx.inner.world.lock();
    let mut value = json!({
        "application": render::application(&world),
        "scopes": token.scopes,
        "expires": iso8601(token.expires_ms),
    });
    if token.has("identify")
        && let Some(user) = token.user_id.and_then(|id| world.users.get(&id))
    {
        value["user"] = render::user(user);
    }
    Ok(Reply::json(value))
}

fn page_error(error: &ApiError) -> HttpResponse {
    HttpResponse::BadRequest().content_type("application/json").body(error.body.to_string())
}

/// Who approves, with which scopes: the authorize page's checks.
fn approve(world: &World, get: &dyn Fn(&str) -> Option<String>) -> Result<(u64, Vec<String>), ApiError> {
    if get("client_id").as_deref() != Some(world.app.id.to_string().as_str()) {
        return Err(ApiError::form_field(&["client_id"], "UNKNOWN_APPLICATION", "Unknown Application"));
    }
    let scopes = parse_scopes(&get("scope").unwrap_or_default())?;
    if scopes.is_empty() {
        return Err(ApiError::form_field(&["scope"], "BASE_TYPE_REQUIRED", "This field is required"));
    }
    if let Some(uri) = get("redirect_uri")
        && !world.app.redirect_uris.is_empty()
        && !world.app.redirect_uris.contains(&uri)
    {
        return Err(ApiError::form_field(&["redirect_uri"], "INVALID_REDIRECT_URI", "Invalid OAuth2 redirect_uri"));
    }
    let user = world.oauth.current_user.or_else(|| world.users.values().find(|user| !user.bot).map(|user| user.id));
    let user = user.ok_or_else(|| ApiError::form_root("NO_USER", "The emulator has no user to authorize as."))?;
    Ok((user, scopes))
}

/// `GET /oauth2/authorize`: approves at once as the scripted user and redirects with `code` (or a token) and `state`.
pub(crate) async fn authorize(query: web::Query<HashMap<String, String>>, inner: web::Data<Inner>) -> HttpResponse {
    let query = query.into_inner();
    let get = |key: &str| query.get(key).filter(|value| !value.is_empty()).cloned();
    let mut world = inner.world.lock();
    let (user_id, scopes) = match approve(&world, &get) {
        Ok(approved) => approved,
        Err(error) => return page_error(&error),
    };
    let Some(redirect) = get("redirect_uri") else {
        let body = json!({"authorized": true, "user_id": user_id.to_string()}).to_string();
        return HttpResponse::Ok().content_type("application/json").body(body);
    };
    let now = world.now_ms();
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    let fragment = get("response_type").as_deref() == Some("token");
    if fragment {
        let tokens = world.oauth.grant(Some(user_id), scopes, false, now);
        for key in ["access_token", "token_type", "expires_in", "scope"] {
            params.append_pair(key, &tokens[key].as_str().map_or_else(|| tokens[key].to_string(), str::to_owned));
        }
    } else {
        let bot = scopes.iter().any(|scope| scope == "bot");
        params.append_pair("code", &world.oauth.issue_code(user_id, scopes, Some(redirect.clone()), now));
        if bot {
            if let Some(guild) = get("guild_id") {
                params.append_pair("guild_id", &guild);
            }
            params.append_pair("permissions", &get("permissions").unwrap_or_else(|| "0".to_owned()));
        }
    }
    if let Some(state) = get("state") {
        params.append_pair("state", &state);
    }
    let separator = if fragment {
        '#'
    } else if redirect.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{redirect}{separator}{}", params.finish());
    HttpResponse::Found().insert_header(("Location", location)).finish()
}
