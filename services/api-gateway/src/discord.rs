//! What the REST API asks of Discord: the `OAuth2` code exchange and the signed-in user's
//! identity and guilds (with the member's bearer token, used once and dropped), and a member's
//! roles and permissions in a guild (with the bot token, through the rate-limited egress,
//! cached for `api_gateway.member_cache_ttl`).

use std::time::Duration;

use kalcord_cache::SharedCache;
use kalcord_config::Secret;
use kalcord_discord::DiscordConfig;
use kalcord_discord::egress::{Egress, EgressError, Method};
use kalcord_discord::permission::Permissions;
use serde::{Deserialize, Serialize};

/// Discord's production API.
const DISCORD_API: &str = "https://discord.com/api/v10/";
/// Discord's consent page.
const DISCORD_AUTHORIZE: &str = "https://discord.com/oauth2/authorize";
/// Scopes asked for at sign-in: who the user is and which guilds they are in.
pub const SCOPES: &str = "identify guilds";

/// A Discord call failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    /// Discord refused (bad or used code, revoked consent, member not in the guild).
    #[error("discord refused the request ({status})")]
    Refused {
        /// HTTP status Discord answered.
        status: u16,
    },
    /// Discord could not be reached or answered something unexpected.
    #[error("discord is unavailable: {0}")]
    Unavailable(String),
}

/// The `OAuth2` side: builds consent URLs and exchanges codes.
#[derive(Clone)]
pub struct OAuth {
    api: String,
    authorize: String,
    client_id: u64,
    client_secret: Secret,
    /// Where Discord sends the browser back.
    pub redirect_uri: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("api", &self.api)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The signed-in user, from `users/@me`.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    /// Snowflake.
    pub id: String,
    /// Username.
    #[serde(default)]
    pub username: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

#[derive(Deserialize)]
struct PartialGuild {
    id: String,
}

impl OAuth {
    /// The `OAuth2` client for `discord`, or why it cannot exist.
    ///
    /// # Errors
    ///
    /// The missing keys, as a sentence.
    pub fn from_config(discord: &DiscordConfig, timeout: Duration) -> Result<Self, &'static str> {
        let (Some(client_id), Some(client_secret), Some(redirect_uri)) =
            (discord.application_id, discord.client_secret.clone(), discord.oauth_redirect_uri.clone())
        else {
            return Err("set discord.application_id, discord.client_secret and discord.oauth_redirect_uri");
        };
        let (api, authorize) = discord.api_base.as_ref().map_or_else(
            || (DISCORD_API.to_owned(), DISCORD_AUTHORIZE.to_owned()),
            |base| (format!("http://{base}/api/v10/"), format!("http://{base}/oauth2/authorize")),
        );
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| "the HTTP client cannot start")?;
        Ok(Self { api, authorize, client_id, client_secret, redirect_uri, http })
    }

    /// The consent URL carrying `state`.
    #[must_use]
    pub fn authorize_url(&self, state: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id.to_string())
            .append_pair("response_type", "code")
            .append_pair("scope", SCOPES)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("state", state)
            .finish();
        format!("{}?{query}", self.authorize)
    }

    async fn answer<T: serde::de::DeserializeOwned>(
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, DiscordError> {
        let response = response.map_err(|err| DiscordError::Unavailable(err.without_url().to_string()))?;
        let status = response.status();
        if status.is_client_error() {
            return Err(DiscordError::Refused { status: status.as_u16() });
        }
        if !status.is_success() {
            return Err(DiscordError::Unavailable(format!("discord answered {status}")));
        }
        response.json().await.map_err(|err| DiscordError::Unavailable(err.without_url().to_string()))
    }

    /// Exchanges a code for the user's id and guild ids; Discord's access token is dropped afterwards.
    ///
    /// # Errors
    ///
    /// [`DiscordError::Refused`] when Discord refuses the code, [`DiscordError::Unavailable`] otherwise.
    pub async fn sign_in(&self, code: &str) -> Result<(User, Vec<u64>), DiscordError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("client_id", &self.client_id.to_string())
            .append_pair("client_secret", self.client_secret.expose())
            .finish();
        let sent = self
            .http
            .post(format!("{}oauth2/token", self.api))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await;
        let token = Secret::new(Self::answer::<TokenResponse>(sent).await?.access_token);
        let bearer = format!("Bearer {}", token.expose());
        let me = self.http.get(format!("{}users/@me", self.api)).header(reqwest::header::AUTHORIZATION, &bearer);
        let user: User = Self::answer(me.send().await).await?;
        let guilds =
            self.http.get(format!("{}users/@me/guilds", self.api)).header(reqwest::header::AUTHORIZATION, &bearer);
        let guilds: Vec<PartialGuild> = Self::answer(guilds.send().await).await?;
        Ok((user, guilds.iter().filter_map(|guild| guild.id.parse().ok()).collect()))
    }
}

/// A member as the meetings service needs them, read with the bot token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Role ids.
    pub role_ids: Vec<u64>,
    /// Computed guild permissions (all bits for administrators and the owner).
    pub permissions: u64,
    /// Whether the member owns the guild.
    pub is_owner: bool,
    /// Nickname, global name or username.
    pub display_name: String,
    /// Username.
    pub username: String,
}

#[derive(Deserialize)]
struct GuildJson {
    owner_id: String,
    #[serde(default)]
    roles: Vec<RoleJson>,
}

#[derive(Deserialize)]
struct RoleJson {
    id: String,
    #[serde(default)]
    permissions: String,
}

#[derive(Deserialize)]
struct MemberJson {
    #[serde(default)]
    user: Option<MemberUser>,
    #[serde(default)]
    communication_disabled_until: Option<String>,
    #[serde(default)]
    nick: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Deserialize)]
struct MemberUser {
    #[serde(default)]
    username: String,
    #[serde(default)]
    global_name: Option<String>,
}

fn egress_error(err: &EgressError) -> DiscordError {
    match err {
        EgressError::Discord { status, .. } if (400..500).contains(status) && *status != 429 => {
            DiscordError::Refused { status: *status }
        }
        other => DiscordError::Unavailable(other.to_string()),
    }
}

/// Reads `user_id`'s roles and permissions in `guild_id`, from the cache when fresh.
///
/// # Errors
///
/// [`DiscordError::Refused`] (404) when the user is not a member, [`DiscordError::Unavailable`] otherwise.
pub async fn member(
    egress: &Egress,
    cache: &SharedCache,
    ttl: Duration,
    guild_id: u64,
    user_id: u64,
) -> Result<Member, DiscordError> {
    // NOTE: the key carries the guild's generation, which identity bumps on role changes
    // (gateway events), so a changed role counts from the next request. Without a readable
    // generation the cache is skipped: a stale entry could keep a removed permission.
    let key = kalcord_discord::cache_keys::current_api_gateway_member(cache.as_ref(), guild_id, user_id)
        .await
        .inspect_err(|err| tracing::debug!(error = %err, "member cache unavailable"))
        .ok();
    if let Some(key) = &key
        && let Ok(Some(bytes)) = cache.get(key).await
        && let Ok(member) = serde_json::from_slice::<Member>(&bytes)
    {
        return Ok(member);
    }
    let guild: GuildJson =
        egress.request(Method::Get, &format!("guilds/{guild_id}"), None::<&()>).await.map_err(|e| egress_error(&e))?;
    let raw: MemberJson = egress
        .request(Method::Get, &format!("guilds/{guild_id}/members/{user_id}"), None::<&()>)
        .await
        .map_err(|e| egress_error(&e))?;
    let roles: Vec<(u64, u64)> = guild
        .roles
        .iter()
        .filter_map(|role| Some((role.id.parse().ok()?, Permissions::parse(&role.permissions).0)))
        .collect();
    let role_ids: Vec<u64> = raw.roles.iter().filter_map(|id| id.parse().ok()).collect();
    let is_owner = guild.owner_id.parse() == Ok(user_id);
    let user = raw.user.unwrap_or(MemberUser { username: String::new(), global_name: None });
    let display_name = raw.nick.or(user.global_name).unwrap_or_else(|| user.username.clone());
    let member = Member {
        permissions: {
            let permissions = kalcord_discord::permission::guild_permissions(guild_id, is_owner, &roles, &role_ids);
            let timed_out = raw
                .communication_disabled_until
                .as_deref()
                .and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok())
                .is_some_and(|until| until > chrono::Utc::now());
            if timed_out { kalcord_discord::permission::while_timed_out(permissions) } else { permissions }
        },
        role_ids,
        is_owner,
        display_name,
        username: user.username,
    };
    if let Some(key) = &key
        && let Ok(bytes) = serde_json::to_vec(&member)
        && let Err(err) = cache.set(key, bytes.into(), ttl).await
    {
        tracing::debug!(error = %err, "member not cached");
    }
    Ok(member)
}

#[cfg(test)]
mod tests {
    use kalcord_discord::permission::guild_permissions as compute_permissions;

    #[test]
    fn permissions_follow_discord_rules() {
        let roles = [(1, 1 << 10), (2, 1 << 5), (3, 1 << 3), (4, 1 << 33)];
        assert_eq!(compute_permissions(1, false, &roles, &[]), 1 << 10);
        assert_eq!(compute_permissions(1, false, &roles, &[2, 4]), (1 << 10) | (1 << 5) | (1 << 33));
        assert_eq!(compute_permissions(1, false, &roles, &[3]), u64::MAX);
        assert_eq!(compute_permissions(1, true, &roles, &[]), u64::MAX);
    }
}
