//! The Discord REST egress: twilight-http (per-route buckets from `X-RateLimit-*`, 429s
//! waited out) plus what twilight cannot do across replicas — the bot's global 50 requests per
//! second shared through the cache (Redis, or memory standalone), and a guard that stops well
//! before Cloudflare's 10,000 invalid requests per 10 minutes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kalcord_cache::SharedCache;
use serde::Serialize;
use serde::de::DeserializeOwned;
use twilight_http::error::ErrorType;
use twilight_http::request::{Method, RequestBuilder};

use crate::response::MessageData;

/// Default global limit of one bot, requests per second (Discord's).
pub const DEFAULT_GLOBAL_PER_SECOND: u32 = 50;
/// Default ceiling of invalid (401/403/429) requests per 10 minutes: half of Cloudflare's ban.
pub const DEFAULT_INVALID_LIMIT: u32 = 5_000;
/// Longest wait for a global permit before giving up.
const GLOBAL_WAIT: Duration = Duration::from_secs(10);
/// Length of the invalid-request window.
const INVALID_WINDOW_SECONDS: u64 = 600;

/// How to reach Discord.
#[derive(Clone, Debug)]
pub struct EgressConfig {
    /// `host:port` of a Discord-compatible API (the emulator); `None` for discord.com.
    pub api_base: Option<String>,
    /// Application id (for interaction webhooks and commands).
    pub application_id: u64,
    /// Bot token.
    pub bot_token: kalcord_config::Secret,
    /// Global limit shared by every replica, requests per second.
    pub global_per_second: u32,
    /// Invalid requests per 10 minutes after which requests are refused locally.
    pub invalid_limit: u32,
    /// Timeout of one request.
    pub timeout: Duration,
}

/// A request could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// Too many invalid requests recently; nothing is sent until the window ends.
    #[error("discord requests suspended for {remaining_seconds} s after too many invalid requests")]
    Suspended {
        /// Seconds left in the window.
        remaining_seconds: u64,
    },
    /// The shared global limit stayed exhausted.
    #[error("discord global rate limit busy")]
    GlobalBusy,
    /// Discord answered with an error status.
    #[error("discord answered {status}: {message}")]
    Discord {
        /// HTTP status.
        status: u16,
        /// Discord's JSON error code (0 when absent).
        code: u64,
        /// Discord's message.
        message: String,
    },
    /// The request did not complete (network, timeout, or twilight refusing after a 401).
    #[error("discord request failed")]
    Transport(#[source] twilight_http::Error),
    /// The answer did not decode.
    #[error("unexpected discord answer: {0}")]
    Decode(String),
}

/// A message Discord created.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct MessageRef {
    /// Message id.
    pub id: String,
    /// Channel id.
    pub channel_id: String,
}

/// The egress client; cheap to clone.
#[derive(Clone)]
pub struct Egress {
    cache: SharedCache,
    config: EgressConfig,
    http: Arc<twilight_http::Client>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("api_base", &self.config.api_base)
            .field("application_id", &self.config.application_id)
            .finish_non_exhaustive()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Interaction callbacks and webhooks are not bound by the global limit.
fn exempt(path: &str) -> bool {
    path.starts_with("webhooks/") || path.starts_with("interactions/")
}

impl Egress {
    /// Builds the client (inside a Tokio runtime: twilight spawns its rate limiter there).
    #[must_use]
    pub fn new(config: EgressConfig, cache: SharedCache) -> Self {
        let mut builder =
            twilight_http::Client::builder().token(config.bot_token.expose().to_owned()).timeout(config.timeout);
        if let Some(base) = &config.api_base {
            builder = builder.proxy(base.clone(), true);
        }
        Self { cache, config, http: Arc::new(builder.build()) }
    }

    /// The underlying twilight client, for typed calls that need no shared limits.
    #[must_use]
    pub fn twilight(&self) -> &twilight_http::Client {
        &self.http
    }

    /// Sends `method path` (relative to `/api/v10/`) with an optional JSON body and decodes
    /// the answer (`T = serde_json::Value` for anything).
    ///
    /// # Errors
    ///
    /// [`EgressError`]; Discord's own errors keep their status, code and message.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<T, EgressError> {
        let bytes = self.send(method, path, body).await?;
        let bytes = if bytes.is_empty() { b"null".to_vec() } else { bytes };
        serde_json::from_slice(&bytes).map_err(|err| EgressError::Decode(err.to_string()))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<Vec<u8>, EgressError> {
        self.check_invalid_budget().await?;
        let exempt = exempt(path);
        if !exempt {
            self.acquire_global().await?;
        }
        // NOTE: webhook routes are authorised by their token; without the bot token, their 401s (an interaction
        // token past its 15 minutes: 50027) do not make twilight mark the bot token invalid and refuse everything.
        let mut builder = RequestBuilder::raw(method, path.to_owned()).use_authorization_token(!exempt);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let request = builder.build().map_err(EgressError::Transport)?;
        match self.http.request::<serde_json::Value>(request).await {
            Ok(response) => response.bytes().await.map_err(|err| EgressError::Decode(err.to_string())),
            Err(err) => Err(self.classify(err).await),
        }
    }

    async fn classify(&self, err: twilight_http::Error) -> EgressError {
        let ErrorType::Response { body, status, .. } = err.kind() else { return EgressError::Transport(err) };
        let status = status.get();
        let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        // NOTE: Discord does not count 429s of shared-scope buckets against the invalid budget.
        if matches!(status, 401 | 403) || (status == 429 && parsed.get("global").is_some()) {
            self.count_invalid().await;
        }
        EgressError::Discord {
            status,
            code: parsed.get("code").and_then(serde_json::Value::as_u64).unwrap_or(0),
            message: parsed.get("message").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
        }
    }

    fn invalid_key(&self) -> (String, u64) {
        let now = unix_millis() / 1000;
        let window = now / INVALID_WINDOW_SECONDS;
        let remaining = (window + 1) * INVALID_WINDOW_SECONDS - now;
        (format!("discord:invalid:{}:{window}", self.config.application_id), remaining)
    }

    async fn check_invalid_budget(&self) -> Result<(), EgressError> {
        let (key, remaining_seconds) = self.invalid_key();
        let count: u64 = match self.cache.get(&key).await {
            Ok(Some(bytes)) => std::str::from_utf8(&bytes).ok().and_then(|t| t.parse().ok()).unwrap_or(0),
            Ok(None) => 0,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the invalid-request budget; continuing");
                0
            }
        };
        if count >= u64::from(self.config.invalid_limit) {
            Err(EgressError::Suspended { remaining_seconds })
        } else {
            Ok(())
        }
    }

    async fn count_invalid(&self) {
        let (key, _) = self.invalid_key();
        match self.cache.increment(&key, Duration::from_secs(INVALID_WINDOW_SECONDS)).await {
            Ok(count) if count == u64::from(self.config.invalid_limit) => {
                tracing::error!(count, "too many invalid discord requests; suspending egress until the window ends");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "cannot count an invalid discord request"),
        }
    }

    /// Takes one request from the bot's shared per-second budget, waiting for the next second
    /// when it is spent. When the cache is down, twilight's per-process limit still applies.
    async fn acquire_global(&self) -> Result<(), EgressError> {
        let deadline = tokio::time::Instant::now() + GLOBAL_WAIT;
        loop {
            let now = unix_millis();
            let key = format!("discord:global:{}:{}", self.config.application_id, now / 1000);
            match self.cache.increment(&key, Duration::from_secs(2)).await {
                Ok(count) if count <= u64::from(self.config.global_per_second) => return Ok(()),
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "shared global limit unavailable; relying on the local one");
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EgressError::GlobalBusy);
            }
            tokio::time::sleep(Duration::from_millis(1000 - now % 1000 + 5)).await;
        }
    }

    /// Posts a message in a channel.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn create_message(&self, channel_id: u64, message: &MessageData) -> Result<MessageRef, EgressError> {
        self.request(Method::Post, &format!("channels/{channel_id}/messages"), Some(message)).await
    }

    /// Edits a message the bot posted.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn edit_message(
        &self,
        channel_id: u64,
        message_id: u64,
        message: &MessageData,
    ) -> Result<MessageRef, EgressError> {
        self.request(Method::Patch, &format!("channels/{channel_id}/messages/{message_id}"), Some(message)).await
    }

    /// Replaces the first response to an interaction (after a deferral).
    ///
    /// # Errors
    ///
    /// See [`Egress::request`]; 10015/50027 when the token expired (15 minutes).
    pub async fn edit_original(&self, token: &str, message: &MessageData) -> Result<MessageRef, EgressError> {
        let path = format!("webhooks/{}/{token}/messages/@original", self.config.application_id);
        self.request(Method::Patch, &path, Some(message)).await
    }

    /// Sends a follow-up message to an interaction.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn create_followup(&self, token: &str, message: &MessageData) -> Result<MessageRef, EgressError> {
        let path = format!("webhooks/{}/{token}", self.config.application_id);
        self.request(Method::Post, &path, Some(message)).await
    }

    /// The registered commands, globally or of one guild.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn commands(&self, guild_id: Option<u64>) -> Result<Vec<serde_json::Value>, EgressError> {
        self.request(Method::Get, &self.commands_path(guild_id), None::<&()>).await
    }

    /// Replaces every command (bulk overwrite) with `body`, a JSON array.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn overwrite_commands(
        &self,
        guild_id: Option<u64>,
        body: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>, EgressError> {
        self.request(Method::Put, &self.commands_path(guild_id), Some(body)).await
    }

    fn commands_path(&self, guild_id: Option<u64>) -> String {
        match guild_id {
            Some(guild) => format!("applications/{}/guilds/{guild}/commands", self.config.application_id),
            None => format!("applications/{}/commands", self.config.application_id),
        }
    }
}
