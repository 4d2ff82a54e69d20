//! The route table: method + template (as in Discord's docs and the OpenAPI paths), auth, handler.

use std::collections::HashMap;

use super::{Handler, commands, events, gateway_info, guilds, interactions, members, messages, oauth, roles, users};
use crate::api_error::ApiError;
use crate::ids::parse_id;

/// Who may call a route.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Auth {
    /// `Authorization: Bot <token>`.
    Bot,
    /// Bot token, or a Bearer token with this scope.
    BotOrBearer(&'static str),
    /// Bearer token with this scope.
    Bearer(&'static str),
    /// No authorization (interaction callbacks, webhooks, `/gateway`).
    None,
    /// OAuth2 client authentication (HTTP Basic or form credentials), checked by the handler.
    Client,
}

/// A route.
pub(crate) struct RouteDef {
    pub method: &'static str,
    pub template: &'static str,
    pub auth: Auth,
    pub handler: Handler,
}

macro_rules! route {
    ($method:literal, $template:literal, $auth:expr, $handler:path) => {
        RouteDef { method: $method, template: $template, auth: $auth, handler: $handler }
    };
}

const CMD: Auth = Auth::BotOrBearer("applications.commands.update");

/// Every REST route the emulator serves (paths without `/api/v10`).
pub(crate) static ROUTES: &[RouteDef] = &[
    route!("GET", "/users/@me", Auth::BotOrBearer("identify"), users::me),
    route!("GET", "/users/@me/guilds", Auth::BotOrBearer("guilds"), users::my_guilds),
    route!("GET", "/users/@me/guilds/{guild_id}/member", Auth::Bearer("guilds.members.read"), users::my_member),
    route!("POST", "/users/@me/channels", Auth::Bot, users::create_dm),
    route!("GET", "/users/{user_id}", Auth::Bot, users::get_user),
    route!(
        "GET",
        "/users/@me/applications/{application_id}/role-connection",
        Auth::Bearer("role_connections.write"),
        users::get_role_connection
    ),
    route!(
        "PUT",
        "/users/@me/applications/{application_id}/role-connection",
        Auth::Bearer("role_connections.write"),
        users::put_role_connection
    ),
    route!(
        "DELETE",
        "/users/@me/applications/{application_id}/role-connection",
        Auth::Bearer("role_connections.write"),
        users::delete_role_connection
    ),
    route!("GET", "/applications/@me", Auth::Bot, users::application),
    route!("GET", "/oauth2/applications/@me", Auth::Bot, users::application),
    route!("GET", "/applications/{application_id}/role-connections/metadata", Auth::Bot, users::get_metadata),
    route!("PUT", "/applications/{application_id}/role-connections/metadata", Auth::Bot, users::put_metadata),
    route!(
        "GET",
        "/applications/{application_id}/activity-instances/{instance_id}",
        Auth::Bot,
        interactions::activity_instance_get
    ),
    route!("GET", "/applications/{application_id}/commands", CMD, commands::list),
    route!("PUT", "/applications/{application_id}/commands", CMD, commands::overwrite),
    route!("POST", "/applications/{application_id}/commands", CMD, commands::create),
    route!("GET", "/applications/{application_id}/commands/{command_id}", CMD, commands::get),
    route!("PATCH", "/applications/{application_id}/commands/{command_id}", CMD, commands::patch),
    route!("DELETE", "/applications/{application_id}/commands/{command_id}", CMD, commands::delete),
    route!("GET", "/applications/{application_id}/guilds/{guild_id}/commands", CMD, commands::list),
    route!("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", CMD, commands::overwrite),
    route!("POST", "/applications/{application_id}/guilds/{guild_id}/commands", CMD, commands::create),
    route!("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", CMD, commands::get),
    route!("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", CMD, commands::patch),
    route!("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", CMD, commands::delete),
    route!("GET", "/channels/{channel_id}", Auth::Bot, guilds::get_channel),
    route!("GET", "/channels/{channel_id}/messages", Auth::Bot, messages::list),
    route!("POST", "/channels/{channel_id}/messages", Auth::Bot, messages::create),
    route!("GET", "/channels/{channel_id}/messages/{message_id}", Auth::Bot, messages::get),
    route!("PATCH", "/channels/{channel_id}/messages/{message_id}", Auth::Bot, messages::edit),
    route!("DELETE", "/channels/{channel_id}/messages/{message_id}", Auth::Bot, messages::delete),
    route!("POST", "/interactions/{interaction_id}/{interaction_token}/callback", Auth::None, interactions::callback),
    route!("POST", "/webhooks/{webhook_id}/{webhook_token}", Auth::None, interactions::followup),
    route!("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", Auth::None, interactions::get_message),
    route!(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        Auth::None,
        interactions::edit_message
    ),
    route!(
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        Auth::None,
        interactions::delete_message
    ),
    route!(
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        Auth::None,
        interactions::get_message
    ),
    route!(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        Auth::None,
        interactions::edit_message
    ),
    route!(
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        Auth::None,
        interactions::delete_message
    ),
    route!("GET", "/guilds/{guild_id}", Auth::Bot, guilds::get_guild),
    route!("GET", "/guilds/{guild_id}/channels", Auth::Bot, guilds::list_channels),
    route!("GET", "/guilds/{guild_id}/members", Auth::Bot, members::list),
    route!("GET", "/guilds/{guild_id}/members/search", Auth::Bot, members::search),
    route!("GET", "/guilds/{guild_id}/members/{user_id}", Auth::Bot, members::get),
    route!("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", Auth::Bot, members::add_role),
    route!("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", Auth::Bot, members::remove_role),
    route!("GET", "/guilds/{guild_id}/roles", Auth::Bot, roles::list),
    route!("POST", "/guilds/{guild_id}/roles", Auth::Bot, roles::create),
    route!("GET", "/guilds/{guild_id}/roles/{role_id}", Auth::Bot, roles::get),
    route!("PATCH", "/guilds/{guild_id}/roles/{role_id}", Auth::Bot, roles::patch),
    route!("DELETE", "/guilds/{guild_id}/roles/{role_id}", Auth::Bot, roles::delete),
    route!("GET", "/guilds/{guild_id}/scheduled-events", Auth::Bot, events::list),
    route!("POST", "/guilds/{guild_id}/scheduled-events", Auth::Bot, events::create),
    route!("GET", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", Auth::Bot, events::get),
    route!("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", Auth::Bot, events::patch),
    route!("DELETE", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", Auth::Bot, events::delete),
    route!("GET", "/gateway", Auth::None, gateway_info::gateway),
    route!("GET", "/gateway/bot", Auth::Bot, gateway_info::gateway_bot),
    route!("POST", "/oauth2/token", Auth::Client, oauth::token),
    route!("POST", "/oauth2/token/revoke", Auth::Client, oauth::revoke),
    route!("GET", "/oauth2/@me", Auth::Bearer(""), oauth::me),
];

/// Path parameters of a matched route.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: HashMap<&'static str, String>,
}

impl Params {
    /// A parameter's text.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// A snowflake parameter, or 50035 `NUMBER_TYPE_COERCE` as Discord answers.
    pub(crate) fn id(&self, name: &'static str) -> Result<u64, ApiError> {
        let text = self.text(name);
        parse_id(text).ok_or_else(|| {
            ApiError::form_field(&[name], "NUMBER_TYPE_COERCE", &format!("Value \"{text}\" is not snowflake."))
        })
    }

    /// An optional snowflake parameter (absent on global command routes).
    pub(crate) fn opt_id(&self, name: &'static str) -> Result<Option<u64>, ApiError> {
        if self.values.contains_key(name) { self.id(name).map(Some) } else { Ok(None) }
    }
}

/// Outcome of matching a path.
pub(crate) enum Match {
    Found(&'static RouteDef, Params),
    /// The path exists with other methods.
    WrongMethod,
    NotFound,
}

/// Finds the route of `method path` (literal segments beat parameters).
pub(crate) fn find(method: &str, path: &str) -> Match {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<(&'static RouteDef, usize)> = None;
    let mut path_exists = false;
    for route in ROUTES {
        let Some(score) = score(route.template, &segments) else { continue };
        path_exists = true;
        if route.method == method && best.is_none_or(|(_, top)| score > top) {
            best = Some((route, score));
        }
    }
    match best {
        Some((route, _)) => Match::Found(route, params(route.template, &segments)),
        None if path_exists => Match::WrongMethod,
        None => Match::NotFound,
    }
}

fn score(template: &str, segments: &[&str]) -> Option<usize> {
    let parts: Vec<&str> = template.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literal = 0;
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            if segment.is_empty() {
                return None;
            }
        } else if part == segment {
            literal += 1;
        } else {
            return None;
        }
    }
    Some(literal)
}

fn params(template: &'static str, segments: &[&str]) -> Params {
    let mut values = HashMap::new();
    for (part, segment) in template.split('/').skip(1).zip(segments) {
        if let Some(name) = part.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            values.insert(name, (*segment).to_owned());
        }
    }
    Params { values }
}

/// The top-level resource that splits buckets: `channels/1`, `guilds/2`, `webhooks/3/token`.
pub(crate) fn major(route: &RouteDef, params: &Params) -> String {
    let template = route.template;
    if template.starts_with("/channels/{channel_id}") {
        format!("channels/{}", params.text("channel_id"))
    } else if template.starts_with("/guilds/{guild_id}") {
        format!("guilds/{}", params.text("guild_id"))
    } else if template.starts_with("/webhooks/") {
        format!("webhooks/{}/{}", params.text("webhook_id"), params.text("webhook_token"))
    } else if template.starts_with("/interactions/") {
        format!("interactions/{}/{}", params.text("interaction_id"), params.text("interaction_token"))
    } else {
        String::new()
    }
}

/// Whether a Ctx-less check says the route is exempt from the global limit.
pub(crate) fn exempt_global(route: &RouteDef) -> bool {
    route.template.starts_with("/interactions/") || route.template.starts_with("/webhooks/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win() {
        let Match::Found(route, params) = find("GET", "/webhooks/1/tok/messages/@original") else { panic!("found") };
        assert_eq!(route.template, "/webhooks/{webhook_id}/{webhook_token}/messages/@original");
        assert_eq!(params.text("webhook_token"), "tok");
        let Match::Found(route, _) = find("GET", "/users/@me") else { panic!("found") };
        assert_eq!(route.template, "/users/@me");
        let Match::Found(route, params) = find("GET", "/users/42") else { panic!("found") };
        assert_eq!((route.template, params.id("user_id").ok()), ("/users/{user_id}", Some(42)));
        assert!(matches!(find("PATCH", "/gateway"), Match::WrongMethod));
        assert!(matches!(find("GET", "/nope"), Match::NotFound));
        assert!(
            matches!(find("GET", "/guilds/1/members/search"), Match::Found(route, _) if route.template.ends_with("search"))
        );
    }
}
