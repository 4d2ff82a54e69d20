//! The `discord.*` section: which application kalcord is, and where Discord is.

use kalcord_config::{Reader, Secret, Section};

use std::time::Duration;

use crate::egress::{DEFAULT_GLOBAL_PER_SECOND, DEFAULT_INVALID_LIMIT, EgressConfig};

/// How kalcord talks to Discord.
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    /// `host:port` of a Discord-compatible HTTP API (the emulator); unset means discord.com.
    pub api_base: Option<String>,
    /// Application id (developer portal → General Information).
    pub application_id: Option<u64>,
    /// Bot token (developer portal → Bot).
    pub bot_token: Option<Secret>,
    /// `OAuth2` client secret (developer portal → `OAuth2`); signs members in to the REST API.
    pub client_secret: Option<Secret>,
    /// Requests per second of the bot, shared by every replica.
    pub global_per_second: u32,
    /// Invalid requests per 10 minutes after which kalcord stops calling Discord.
    pub invalid_limit: u32,
    /// Where Discord sends members back after `OAuth2` consent (the api-gateway's `/oauth2/callback`).
    pub oauth_redirect_uri: Option<String>,
    /// Public key, hex (developer portal → General Information); verifies interactions.
    pub public_key: Option<String>,
    /// Public origin of the api-gateway, e.g. `https://kalcord.example.com`; unset means the
    /// origin of `oauth_redirect_uri`. Links members open from Discord (a scheduled event's
    /// location) point there.
    pub public_url: Option<String>,
}

/// Longest location Discord accepts on an `EXTERNAL` scheduled event.
pub const LOCATION_MAX_CHARS: usize = 100;

impl DiscordConfig {
    /// Public origin of the api-gateway, without a trailing `/`: `public_url`, else the origin
    /// of `oauth_redirect_uri`; `None` when neither is set.
    #[must_use]
    pub fn public_origin(&self) -> Option<String> {
        if let Some(url) = &self.public_url {
            return Some(url.trim_end_matches('/').to_owned());
        }
        let uri = url::Url::parse(self.oauth_redirect_uri.as_deref()?).ok()?;
        Some(uri.origin().ascii_serialization()).filter(|origin| origin != "null")
    }

    /// The page that signs a member in with Discord and sends them on to their own Kaltura
    /// link for `meeting` of `guild` (`GET /m/{guild}/{meeting}` on the api-gateway); `None`
    /// without a public origin.
    #[must_use]
    pub fn launch_url(&self, guild: u64, meeting: &str) -> Option<String> {
        Some(format!("{}{}", self.public_origin()?, launch_path(guild, meeting)))
    }

    /// How the bot calls Discord, with `timeout` per request; `None` without a bot token and an
    /// application id.
    #[must_use]
    pub fn egress(&self, timeout: Duration) -> Option<EgressConfig> {
        Some(EgressConfig {
            api_base: self.api_base.clone(),
            application_id: self.application_id?,
            bot_token: self.bot_token.clone()?,
            global_per_second: self.global_per_second,
            invalid_limit: self.invalid_limit,
            timeout,
        })
    }
}

impl Section for DiscordConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let config = Self {
            api_base: r.get_opt("api_base", "host:port of a Discord-compatible API over plain HTTP (the emulator); unset for discord.com."),
            application_id: r.get_opt("application_id", "Discord application id (developer portal, General Information)."),
            bot_token: r.secret("bot_token", "Discord bot token (developer portal, Bot)."),
            client_secret: r.secret("client_secret", "Discord OAuth2 client secret (developer portal, OAuth2); needed for REST API sign-in."),
            global_per_second: r.get("global_per_second", DEFAULT_GLOBAL_PER_SECOND, "Discord requests per second for the bot, shared by all replicas."),
            invalid_limit: r.get("invalid_limit", DEFAULT_INVALID_LIMIT, "Invalid (401/403/429) Discord requests per 10 minutes after which kalcord stops calling Discord (Cloudflare bans at 10,000)."),
            oauth_redirect_uri: r.get_opt("oauth_redirect_uri", "OAuth2 redirect URI registered in the developer portal, e.g. https://kalcord.example.com/oauth2/callback (the api-gateway's /oauth2/callback)."),
            public_key: r.get_opt("public_key", "Discord application public key, hex (developer portal, General Information); verifies interactions."),
            public_url: r.get_opt("public_url", "Public origin of the api-gateway, e.g. https://kalcord.example.com (defaults to the origin of oauth_redirect_uri); scheduled events link members to {public_url}/m/{guild}/{meeting}."),
        };
        if let Some(key) = &config.public_key
            && crate::signature::Verifier::from_hex(key).is_err()
        {
            r.invalid("public_key", "must be the 64 hex digits shown as Public Key in the developer portal");
        }
        if let Some(uri) = &config.oauth_redirect_uri
            && !(uri.starts_with("https://") || uri.starts_with("http://"))
        {
            r.invalid("oauth_redirect_uri", "must be an absolute http(s) URL ending in /oauth2/callback");
        }
        if let Some(url) = &config.public_url {
            match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "https" | "http")
                        && parsed.path() == "/"
                        && parsed.query().is_none() =>
                {
                    // NOTE: a scheduled event's location holds at most 100 characters.
                    let longest = format!(
                        "{}{}",
                        url.trim_end_matches('/'),
                        launch_path(u64::MAX, "00000000-0000-0000-0000-000000000000")
                    );
                    if longest.chars().count() > LOCATION_MAX_CHARS {
                        r.invalid("public_url", "is too long: a meeting link on it would exceed the 100 characters Discord allows for an event location");
                    }
                }
                _ => r.invalid(
                    "public_url",
                    "must be an http(s) origin without a path, e.g. https://kalcord.example.com",
                ),
            }
        }
        if config.global_per_second == 0 {
            r.invalid("global_per_second", "must be at least 1");
        }
        config
    }
}

/// Path of the launch page of `meeting` in `guild` on the api-gateway.
#[must_use]
pub fn launch_path(guild: u64, meeting: &str) -> String {
    format!("/m/{guild}/{meeting}")
}

#[cfg(test)]
mod tests {
    use kalcord_config::{ConfigError, LoadOptions, Reader, SecretStore, Section, Sources};

    use super::*;

    struct Root(DiscordConfig);

    impl Section for Root {
        fn read(r: &mut Reader<'_>) -> Self {
            Self(r.section("discord"))
        }
    }

    fn load(env: &[(&str, &str)]) -> Result<DiscordConfig, ConfigError> {
        let sources = Sources::empty().with_env(env.iter().map(|(key, value)| (*key, (*value).to_owned())));
        kalcord_config::read::<Root>(&sources, &SecretStore::empty(), LoadOptions::default()).map(|root| root.0)
    }

    #[test]
    fn launch_links_use_the_public_url_or_the_redirect_origin() {
        let explicit = load(&[("KALCORD_DISCORD_PUBLIC_URL", "https://kalcord.example.com/")]).unwrap();
        assert_eq!(
            explicit.launch_url(42, "0190f7a4-1c2b-7d3e-8f40-123456789abc").as_deref(),
            Some("https://kalcord.example.com/m/42/0190f7a4-1c2b-7d3e-8f40-123456789abc")
        );
        let derived =
            load(&[("KALCORD_DISCORD_OAUTH_REDIRECT_URI", "https://meet.example.org:8443/oauth2/callback")]).unwrap();
        assert_eq!(derived.public_origin().as_deref(), Some("https://meet.example.org:8443"));
        assert_eq!(load(&[]).unwrap().launch_url(1, "m"), None, "no origin, no link");
    }

    #[test]
    fn a_public_url_with_a_path_or_too_long_for_a_location_is_refused() {
        for bad in ["kalcord.example.com", "https://kalcord.example.com/app", "ftp://kalcord.example.com"] {
            let err = load(&[("KALCORD_DISCORD_PUBLIC_URL", bad)]).unwrap_err().to_string();
            assert!(err.contains("public_url") && err.contains("origin"), "{bad}: {err}");
        }
        let long = format!("https://{}.example.com", "k".repeat(40));
        let err = load(&[("KALCORD_DISCORD_PUBLIC_URL", &long)]).unwrap_err().to_string();
        assert!(err.contains("100 characters"), "{err}");
        let fits = format!("https://{}.example.com", "k".repeat(10));
        let link = load(&[("KALCORD_DISCORD_PUBLIC_URL", &fits)]).unwrap().launch_url(u64::MAX, &"0".repeat(36));
        assert!(link.unwrap().len() <= LOCATION_MAX_CHARS);
    }
}
