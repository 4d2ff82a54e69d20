//! Discord's rate limits: per-route buckets (split by top-level resource), the global 50/s per bot, and the
//! invalid-request guard (401/403/429 per 10 minutes, Cloudflare's ban).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use sha2::{Digest as _, Sha256};

use crate::config::{BucketLimit, RateLimitConfig};

/// Message of the ban answer.
const BAN_MESSAGE: &str = "You are being blocked from accessing our API temporarily due to exceeding our rate limits \
                           frequently. Please read our docs at https://discord.com/developers/docs/topics/rate-limits \
                           to prevent this moving forward.";

/// Built-in bucket sizes (Discord's observed values) for routes the configuration does not list.
const BUILT_IN: &[(&str, &str, u32, u64)] = &[
    ("POST", "/channels/{channel_id}/messages", 5, 5_000),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", 5, 5_000),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", 5, 1_000),
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", 10, 10_000),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", 10, 10_000),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", 5, 2_000),
    ("POST", "/guilds/{guild_id}/scheduled-events", 10, 10_000),
];

/// The route a request is counted on.
#[derive(Clone, Debug)]
pub(crate) struct RouteKey {
    pub method: String,
    pub template: &'static str,
    /// Top-level resource (`channels/1`, `guilds/2`, `webhooks/3/token`).
    pub major: String,
    /// Interaction and webhook routes are not bound to the global limit.
    pub exempt_global: bool,
}

/// `X-RateLimit-*` values of a bucket.
#[derive(Clone, Debug)]
pub(crate) struct BucketHeaders {
    pub limit: u32,
    pub remaining: u32,
    pub reset_unix: f64,
    pub reset_after: f64,
    pub bucket: String,
}

/// A 429 to answer.
#[derive(Clone, Debug)]
pub(crate) struct Limited {
    pub retry_after: f64,
    pub global: bool,
    pub message: &'static str,
    pub bucket: Option<BucketHeaders>,
}

/// Outcome of counting a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    Allow(BucketHeaders),
    Limited(Limited),
}

#[derive(Debug)]
struct Window {
    limit: u32,
    used: u32,
    started: Instant,
    length: Duration,
}

impl Window {
    fn new(limit: BucketLimit) -> Self {
        Self { limit: limit.limit, used: 0, started: Instant::now(), length: limit.window }
    }

    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.started) >= self.length {
            self.started = now;
            self.used = 0;
        }
    }

    fn reset_after(&self, now: Instant) -> f64 {
        (self.started + self.length).saturating_duration_since(now).as_secs_f64()
    }
}

#[derive(Debug, Default)]
struct LimiterState {
    buckets: HashMap<(String, String, String), Window>,
    global: HashMap<String, Window>,
    invalid: HashMap<String, VecDeque<Instant>>,
    bans: HashMap<String, Instant>,
}

/// Every counter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    config: RateLimitConfig,
    state: Mutex<LimiterState>,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// Opaque bucket id of a route (the same for every top-level resource).
pub(crate) fn bucket_id(method: &str, template: &str) -> String {
    hex::encode(&Sha256::digest(format!("{method} {template}").as_bytes())[..16])
}

impl RateLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Self { config, state: Mutex::new(LimiterState::default()) }
    }

    /// The bucket size of a route.
    pub(crate) fn limit_of(&self, method: &str, template: &str) -> BucketLimit {
        if let Some(found) = self.config.routes.iter().find(|route| route.method == method && route.route == template) {
            return found.limit;
        }
        BUILT_IN
            .iter()
            .find(|(m, t, _, _)| *m == method && *t == template)
            .map_or(self.config.default_bucket, |(_, _, limit, ms)| {
                BucketLimit::new(*limit, Duration::from_millis(*ms))
            })
    }

    /// Counts a request of `who` (a token key) on `route`.
    pub(crate) fn check(&self, who: &str, is_bot: bool, route: &RouteKey) -> Verdict {
        let now = Instant::now();
        let mut state = self.state.lock();
        if let Some(until) = state.bans.get(who).copied() {
            if until > now {
                let retry_after = until.duration_since(now).as_secs_f64();
                return Verdict::Limited(Limited { retry_after, global: true, message: BAN_MESSAGE, bucket: None });
            }
            state.bans.remove(who);
        }
        if is_bot
            && !route.exempt_global
            && let Some(limited) = self.check_global(&mut state, who, now)
        {
            return Verdict::Limited(limited);
        }
        let limit = self.limit_of(&route.method, route.template);
        let bucket = bucket_id(&route.method, route.template);
        let key = (who.to_owned(), bucket.clone(), route.major.clone());
        let window = state.buckets.entry(key).or_insert_with(|| Window::new(limit));
        window.roll(now);
        let reset_after = window.reset_after(now);
        let mut headers = BucketHeaders {
            limit: window.limit,
            remaining: 0,
            reset_unix: unix_now() + reset_after,
            reset_after,
            bucket,
        };
        if window.used >= window.limit {
            let message = "You are being rate limited.";
            return Verdict::Limited(Limited {
                retry_after: reset_after,
                global: false,
                message,
                bucket: Some(headers),
            });
        }
        window.used += 1;
        headers.remaining = window.limit - window.used;
        Verdict::Allow(headers)
    }

    /// Counts a request against the global limit of a bot token.
    fn check_global(&self, state: &mut LimiterState, who: &str, now: Instant) -> Option<Limited> {
        if self.config.global_per_second == 0 {
            return None;
        }
        let per_second = BucketLimit::new(self.config.global_per_second, Duration::from_secs(1));
        let window = state.global.entry(who.to_owned()).or_insert_with(|| Window::new(per_second));
        window.roll(now);
        if window.used >= window.limit {
            let retry_after = window.reset_after(now);
            return Some(Limited { retry_after, global: true, message: "You are being rate limited.", bucket: None });
        }
        window.used += 1;
        None
    }

    /// Counts an answer towards the invalid-request guard (401, 403 and non-shared 429).
    pub(crate) fn record_status(&self, who: &str, status: u16) {
        if !matches!(status, 401 | 403 | 429) || self.config.invalid_request_limit == 0 {
            return;
        }
        let now = Instant::now();
        let mut state = self.state.lock();
        if state.bans.get(who).is_some_and(|until| *until > now) {
            return;
        }
        let window = self.config.invalid_window;
        let seen = state.invalid.entry(who.to_owned()).or_default();
        seen.push_back(now);
        while seen.front().is_some_and(|at| now.duration_since(*at) > window) {
            seen.pop_front();
        }
        if seen.len() >= usize::try_from(self.config.invalid_request_limit).unwrap_or(usize::MAX) {
            seen.clear();
            state.bans.insert(who.to_owned(), now + self.config.ban_duration);
        }
    }

    /// Invalid requests counted in the current window for `who`.
    pub(crate) fn invalid_count(&self, who: &str) -> usize {
        self.state.lock().invalid.get(who).map_or(0, VecDeque::len)
    }

    /// Forgets every counter and ban.
    pub(crate) fn reset(&self) {
        *self.state.lock() = LimiterState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(major: &str) -> RouteKey {
        RouteKey {
            method: "POST".to_owned(),
            template: "/channels/{channel_id}/messages",
            major: major.to_owned(),
            exempt_global: false,
        }
    }

    #[test]
    fn buckets_split_by_major_parameter() {
        let limiter = RateLimiter::new(RateLimitConfig::default());
        for remaining in (0..5).rev() {
            let Verdict::Allow(headers) = limiter.check("bot:a", true, &route("channels/1")) else { panic!("allowed") };
            assert_eq!(headers.remaining, remaining);
        }
        assert!(matches!(
            limiter.check("bot:a", true, &route("channels/1")),
            Verdict::Limited(Limited { global: false, .. })
        ));
        assert!(matches!(limiter.check("bot:a", true, &route("channels/2")), Verdict::Allow(_)));
    }

    #[test]
    fn invalid_requests_ban() {
        let config = RateLimitConfig { invalid_request_limit: 3, ..RateLimitConfig::default() };
        let limiter = RateLimiter::new(config);
        for _ in 0..3 {
            limiter.record_status("bot:a", 401);
        }
        let Verdict::Limited(ban) = limiter.check("bot:a", true, &route("channels/1")) else { panic!("banned") };
        assert!(ban.global && ban.retry_after > 3000.0);
    }
}
