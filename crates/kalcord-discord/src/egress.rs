//! The Discord REST egress: per-route buckets from `X-RateLimit-*` headers (twilight's own bucket engine,
//! `twilight-http-ratelimiting`), every 429 waited out for its `retry_after` and counted, the bot's global
//! 50 requests per second shared by every replica through the cache (Redis, or memory standalone), and a guard that
//! stops well before Cloudflare's 10,000 invalid requests per 10 minutes. Routes with small buckets (a channel's
//! messages) are also counted across replicas ([`crate::bucket`]), so several replicas posting to one channel
//! together stay within its limit.
//!
//! NOTE: requests go out on reqwest rather than `twilight_http::Client`: twilight-http 0.18 retries every 429 at
//! once and never reports it (`ResponseFuture`: "automatically and immediately retried"; a `global` scope completes
//! the permit with no headers, so nothing waits), which is the retry storm Discord bans tokens for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use kalcord_cache::SharedCache;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use serde::de::DeserializeOwned;
pub use twilight_http_ratelimiting::Method;
use twilight_http_ratelimiting::{Endpoint, RateLimitHeaders, RateLimiter};

use crate::bucket::{Seen, SharedBuckets, Ticket, route_key};
use crate::response::MessageData;

/// Default global limit of one bot, requests per second (Discord's).
pub const DEFAULT_GLOBAL_PER_SECOND: u32 = 50;
/// Default ceiling of invalid (401/403/429) requests per 10 minutes: half of Cloudflare's ban.
pub const DEFAULT_INVALID_LIMIT: u32 = 5_000;
/// Longest wait for a global permit, or for a 429's `retry_after`, before giving up.
const LONGEST_WAIT: Duration = Duration::from_secs(10);
/// Length of the invalid-request window.
const INVALID_WINDOW_SECONDS: u64 = 600;
/// Attempts of one request (429s and, for idempotent methods, 5xx answers are retried).
const ATTEMPTS: u32 = 4;
/// Discord's production API.
const DISCORD_API: &str = "https://discord.com/api/v10/";
/// Discord asks bots to identify themselves this way.
const BOT_USER_AGENT: &str =
    concat!("DiscordBot (https://github.com/kalcord/kalcord, ", env!("CARGO_PKG_VERSION"), ")");

/// How to reach Discord.
#[derive(Clone, Debug)]
pub struct EgressConfig {
    /// `host:port` of a Discord-compatible API over plain HTTP (the emulator); `None` for discord.com.
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
    /// Discord kept answering 429, or asked for a longer wait than we are willing to make.
    #[error("discord rate limited this request (retry after {retry_after_ms} ms, global: {global})")]
    RateLimited {
        /// Discord's `retry_after`, milliseconds.
        retry_after_ms: u64,
        /// Whether it was the bot's global limit.
        global: bool,
    },
    /// Discord refused the bot token earlier (401); nothing more is sent with it.
    #[error("the discord bot token was refused; check discord.bot_token")]
    InvalidToken,
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
    /// The request did not complete (connection, timeout); the URL is left out (webhook URLs carry tokens).
    #[error("discord request failed")]
    Transport(#[source] reqwest::Error),
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
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    buckets: SharedBuckets,
    cache: SharedCache,
    config: EgressConfig,
    http: reqwest::Client,
    limiter: RateLimiter,
    token_refused: AtomicBool,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("base", &self.inner.base)
            .field("application_id", &self.inner.config.application_id)
            .finish_non_exhaustive()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Interaction callbacks and webhooks are not bound by the global limit and carry their own token.
fn exempt(path: &str) -> bool {
    path.starts_with("webhooks/") || path.starts_with("interactions/")
}

/// `path` for logs: the token of `webhooks/{app}/{token}/...` and
/// `interactions/{id}/{token}/...` (it lets anyone answer as the bot for 15 minutes) is hidden.
fn loggable(path: &str) -> String {
    if !exempt(path) {
        return path.to_owned();
    }
    path.split('/')
        .enumerate()
        .map(|(index, part)| if index == 2 { "[token]" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// What a 429 said.
#[derive(Debug, PartialEq)]
struct TooMany {
    retry_after: Duration,
    global: bool,
    shared: bool,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn seconds(text: &str) -> Option<Duration> {
    text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// Per-route bucket state from a response's headers (absent when Discord sent none).
fn bucket_headers(headers: &HeaderMap) -> Option<RateLimitHeaders> {
    let bucket = header(headers, RateLimitHeaders::BUCKET)?;
    let limit = header(headers, RateLimitHeaders::LIMIT)?.parse().ok()?;
    let remaining = header(headers, RateLimitHeaders::REMAINING)?.parse().ok()?;
    let reset_after = seconds(header(headers, RateLimitHeaders::RESET_AFTER)?)?;
    Some(RateLimitHeaders {
        bucket: bucket.as_bytes().to_vec(),
        limit,
        remaining,
        reset_at: StdInstant::now() + reset_after,
    })
}

/// The bucket a response reports, for the shared buckets.
fn seen(headers: &HeaderMap) -> Option<Seen> {
    Some(Seen {
        limit: header(headers, RateLimitHeaders::LIMIT)?.parse().ok()?,
        remaining: header(headers, RateLimitHeaders::REMAINING)?.parse().ok()?,
        reset_after: seconds(header(headers, RateLimitHeaders::RESET_AFTER)?)?,
    })
}

/// Reads a 429: `retry_after` from the body (seconds, fractional) or `Retry-After`, the scope from
/// `X-RateLimit-Scope` or the body's `global`.
fn too_many(headers: &HeaderMap, body: &serde_json::Value) -> TooMany {
    let retry_after = body
        .get("retry_after")
        .and_then(serde_json::Value::as_f64)
        .and_then(|s| seconds(&s.to_string()))
        .or_else(|| headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(seconds))
        .unwrap_or(Duration::from_secs(1));
    let scope = header(headers, RateLimitHeaders::SCOPE);
    let global = scope == Some("global")
        || header(headers, "x-ratelimit-global").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || body.get("global").and_then(serde_json::Value::as_bool).unwrap_or(false);
    TooMany { retry_after: retry_after.max(Duration::from_millis(50)), global, shared: scope == Some("shared") }
}

fn idempotent(method: Method) -> bool {
    !matches!(method, Method::Post)
}

impl Egress {
    /// Builds the client (inside a Tokio runtime: the bucket engine runs as a task).
    ///
    /// # Panics
    ///
    /// When the TLS backend cannot start (no rustls crypto provider installed).
    #[must_use]
    pub fn new(config: EgressConfig, cache: SharedCache) -> Self {
        let base = config.api_base.as_ref().map_or_else(|| DISCORD_API.to_owned(), |b| format!("http://{b}/api/v10/"));
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .expect("the HTTP client builds (rustls provider installed at start-up)");
        let local_global = u16::try_from(config.global_per_second.max(1)).unwrap_or(u16::MAX);
        let limiter = RateLimiter::new(local_global);
        let buckets = SharedBuckets::new(config.application_id, Arc::clone(&cache));
        let inner = Inner { base, buckets, cache, config, http, limiter, token_refused: AtomicBool::new(false) };
        Self { inner: Arc::new(inner) }
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
        let body = body.map(serde_json::to_vec).transpose().map_err(|err| EgressError::Decode(err.to_string()))?;
        let bytes = self.send(method, path, body).await?;
        let bytes = if bytes.is_empty() { b"null".to_vec() } else { bytes };
        serde_json::from_slice(&bytes).map_err(|err| EgressError::Decode(err.to_string()))
    }

    async fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, EgressError> {
        let inner = &self.inner;
        let exempt = exempt(path);
        let route = path.split('?').next().unwrap_or(path).to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.check_invalid_budget().await?;
            if !exempt {
                if inner.token_refused.load(Ordering::Relaxed) {
                    return Err(EgressError::InvalidToken);
                }
                self.wait_global_block().await?;
                self.acquire_global().await?;
            }
            let permit = inner.limiter.acquire(Endpoint { method, path: route.clone() }).await;
            let shared = route_key(method.name(), &route);
            let ticket = match self.ticket(exempt, &shared).await {
                Ok(ticket) => ticket,
                Err(err) => {
                    permit.complete(None);
                    return Err(err);
                }
            };
            let mut request = inner
                .http
                .request(
                    reqwest::Method::from_bytes(method.name().as_bytes()).unwrap_or_default(),
                    format!("{}{path}", inner.base),
                )
                .header(USER_AGENT, BOT_USER_AGENT);
            // NOTE: webhook routes are authorised by their token; sending the bot token there would make an expired
            // interaction token's 401 (50027) look like a refused bot token.
            if !exempt {
                request = request.header(AUTHORIZATION, format!("Bot {}", inner.config.bot_token.expose()));
            }
            if let Some(body) = &body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    inner.buckets.forget_probe(&shared, ticket).await;
                    permit.complete(None);
                    return Err(EgressError::Transport(err.without_url()));
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes.to_vec(),
                Err(err) => {
                    inner.buckets.forget_probe(&shared, ticket).await;
                    permit.complete(bucket_headers(&headers));
                    return Err(EgressError::Transport(err.without_url()));
                }
            };
            if !exempt {
                self.note_bucket(&shared, status, &headers, ticket).await;
            }
            if (200..300).contains(&status) {
                permit.complete(bucket_headers(&headers));
                return Ok(bytes);
            }
            let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if status == 429 {
                let limit = too_many(&headers, &parsed);
                if !limit.global && !exempt {
                    inner.buckets.hold(&shared, 0, limit.retry_after).await;
                }
                self.wait_out_429(permit, &headers, &parsed, &route, attempt, exempt).await?;
                continue;
            }
            permit.complete(bucket_headers(&headers));
            if matches!(status, 401 | 403) {
                self.count_invalid().await;
            }
            if status == 401 && !exempt {
                tracing::error!("discord refused the bot token (401); check discord.bot_token");
                inner.token_refused.store(true, Ordering::Relaxed);
            }
            if status >= 500 && idempotent(method) && attempt < ATTEMPTS {
                let backoff = Duration::from_millis(250 << (attempt - 1));
                tracing::warn!(path = %loggable(&route), status, attempt, "discord failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                continue;
            }
            return Err(EgressError::Discord {
                status,
                code: parsed.get("code").and_then(serde_json::Value::as_u64).unwrap_or(0),
                message: parsed.get("message").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
            });
        }
    }

    /// The shared bucket's ticket for a request on `shared` (none for exempt routes).
    async fn ticket(&self, exempt: bool, shared: &str) -> Result<Ticket, EgressError> {
        if exempt {
            return Ok(Ticket::Free);
        }
        self.inner.buckets.reserve(shared, LONGEST_WAIT).await.map_err(|waited| EgressError::RateLimited {
            retry_after_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            global: false,
        })
    }

    /// Tells the shared buckets what an answer said.
    async fn note_bucket(&self, shared: &str, status: u16, headers: &HeaderMap, ticket: Ticket) {
        let buckets = &self.inner.buckets;
        // NOTE: a 429's reset is its retry_after, not the bucket's window; an error without
        // headers says nothing about the route.
        match (status, seen(headers)) {
            (429, _) | (400.., None) => buckets.forget_probe(shared, ticket).await,
            (_, seen) => buckets.learn(shared, seen, ticket).await,
        }
    }

    /// Handles a 429: counts it, holds the route's bucket or every replica (global), and waits; an error when
    /// the request should not be tried again.
    async fn wait_out_429(
        &self,
        permit: twilight_http_ratelimiting::Permit,
        headers: &HeaderMap,
        parsed: &serde_json::Value,
        route: &str,
        attempt: u32,
        exempt: bool,
    ) -> Result<(), EgressError> {
        let limit = too_many(headers, parsed);
        // NOTE: Discord does not count 429s of shared-scope buckets against the invalid budget.
        if !limit.shared {
            self.count_invalid().await;
        }
        tracing::warn!(
            path = %loggable(route), global = limit.global, retry_after_ms = limit.retry_after.as_millis(), attempt,
            "discord rate limited a request; waiting"
        );
        let retry_after_ms = u64::try_from(limit.retry_after.as_millis()).unwrap_or(u64::MAX);
        if limit.global {
            permit.complete(None);
            self.block_globally(limit.retry_after).await;
        } else {
            // The bucket engine holds this route's queue until the reset.
            let bucket = header(headers, RateLimitHeaders::BUCKET).unwrap_or(route).as_bytes().to_vec();
            permit.complete(Some(RateLimitHeaders {
                bucket,
                limit: 0,
                remaining: 0,
                reset_at: StdInstant::now() + limit.retry_after,
            }));
        }
        if attempt >= ATTEMPTS || limit.retry_after > LONGEST_WAIT {
            return Err(EgressError::RateLimited { retry_after_ms, global: limit.global });
        }
        if limit.global || exempt {
            tokio::time::sleep(limit.retry_after).await;
        }
        Ok(())
    }

    fn global_block_key(&self) -> String {
        format!("discord:global-blocked:{}", self.inner.config.application_id)
    }

    /// Tells every replica that the bot is globally limited until `retry_after` from now.
    async fn block_globally(&self, retry_after: Duration) {
        let until = unix_millis() + u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
        let ttl = retry_after + Duration::from_secs(1);
        if let Err(err) = self.inner.cache.set(&self.global_block_key(), until.to_string().into(), ttl).await {
            tracing::warn!(error = %err, "cannot share a global rate limit; other replicas may hit it too");
        }
    }

    /// Waits while a replica reported a global 429.
    async fn wait_global_block(&self) -> Result<(), EgressError> {
        let until = match self.inner.cache.get(&self.global_block_key()).await {
            Ok(Some(bytes)) => std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<u64>().ok()).unwrap_or(0),
            Ok(None) => return Ok(()),
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the shared global rate limit; continuing");
                return Ok(());
            }
        };
        let wait = Duration::from_millis(until.saturating_sub(unix_millis()));
        if wait > LONGEST_WAIT {
            return Err(EgressError::GlobalBusy);
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn invalid_key(&self) -> (String, u64) {
        let now = unix_millis() / 1000;
        let window = now / INVALID_WINDOW_SECONDS;
        let remaining = (window + 1) * INVALID_WINDOW_SECONDS - now;
        (format!("discord:invalid:{}:{window}", self.inner.config.application_id), remaining)
    }

    async fn check_invalid_budget(&self) -> Result<(), EgressError> {
        let (key, remaining_seconds) = self.invalid_key();
        let count: u64 = match self.inner.cache.get(&key).await {
            Ok(Some(bytes)) => std::str::from_utf8(&bytes).ok().and_then(|t| t.parse().ok()).unwrap_or(0),
            Ok(None) => 0,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the invalid-request budget; continuing");
                0
            }
        };
        if count >= u64::from(self.inner.config.invalid_limit) {
            Err(EgressError::Suspended { remaining_seconds })
        } else {
            Ok(())
        }
    }

    async fn count_invalid(&self) {
        let (key, _) = self.invalid_key();
        match self.inner.cache.increment(&key, Duration::from_secs(INVALID_WINDOW_SECONDS)).await {
            Ok(count) if count == u64::from(self.inner.config.invalid_limit) => {
                tracing::error!(count, "too many invalid discord requests; suspending egress until the window ends");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "cannot count an invalid discord request"),
        }
    }

    /// Takes one request from the bot's shared per-second budget, waiting for the next second
    /// when it is spent. When the cache is down, the per-process limit still applies.
    async fn acquire_global(&self) -> Result<(), EgressError> {
        let deadline = tokio::time::Instant::now() + LONGEST_WAIT;
        loop {
            let now = unix_millis();
            let key = format!("discord:global:{}:{}", self.inner.config.application_id, now / 1000);
            match self.inner.cache.increment(&key, Duration::from_secs(2)).await {
                Ok(count) if count <= u64::from(self.inner.config.global_per_second) => return Ok(()),
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
        let path = format!("webhooks/{}/{token}/messages/@original", self.inner.config.application_id);
        self.request(Method::Patch, &path, Some(message)).await
    }

    /// Deletes the first response to an interaction (e.g. a public "thinking…" whose answer turned
    /// out to be private).
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn delete_original(&self, token: &str) -> Result<(), EgressError> {
        let path = format!("webhooks/{}/{token}/messages/@original", self.inner.config.application_id);
        self.request::<serde_json::Value>(Method::Delete, &path, None::<&()>).await.map(drop)
    }

    /// Sends a follow-up message to an interaction.
    ///
    /// # Errors
    ///
    /// See [`Egress::request`].
    pub async fn create_followup(&self, token: &str, message: &MessageData) -> Result<MessageRef, EgressError> {
        let path = format!("webhooks/{}/{token}", self.inner.config.application_id);
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
            Some(guild) => format!("applications/{}/guilds/{guild}/commands", self.inner.config.application_id),
            None => format!("applications/{}/commands", self.inner.config.application_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn interaction_tokens_never_reach_the_logs() {
        assert_eq!(loggable("webhooks/1/secret-token/messages/@original"), "webhooks/1/[token]/messages/@original");
        assert_eq!(loggable("interactions/2/secret-token/callback"), "interactions/2/[token]/callback");
        assert_eq!(loggable("channels/3/messages"), "channels/3/messages");
    }
}
