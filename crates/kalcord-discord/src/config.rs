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
}

impl DiscordConfig {
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
        if config.global_per_second == 0 {
            r.invalid("global_per_second", "must be at least 1");
        }
        config
    }
}
