//! Per-route buckets shared by every replica, for the routes with small limits (a channel's
//! messages: 5 per 5 s), where two replicas each keeping their own count would together exceed
//! Discord's limit and collect 429s.
//!
//! A bucket of `limit` requests per `window` becomes `limit` slot keys in the cache. A request
//! takes a free slot (`set_if_absent`) that expires `window` (plus a margin) later, so no stretch
//! of that length ever holds more than `limit` requests from all replicas together, wherever
//! Discord's own window starts. Limits are learnt from Discord's `X-RateLimit-*` headers and
//! shared through the cache. While a route's limit is unknown, one request at a time (across
//! replicas) goes out to learn it, so every request Discord counts is in a slot; when the cache
//! is down, the per-process bucket engine alone applies.

use std::collections::HashMap;
use std::time::Duration;

use kalcord_cache::SharedCache;
use parking_lot::Mutex;

/// Largest limit shared through slots (bigger buckets are rarely reached by several replicas,
/// and would cost a cache round trip per slot tried).
const MAX_SHARED_LIMIT: u32 = 10;
/// Added to every slot's life: jitter between our clock and Discord's.
const MARGIN: Duration = Duration::from_millis(250);
/// How long a learnt limit is remembered in the cache.
const LIMIT_TTL: Duration = Duration::from_hours(1);
/// Longest a request learning a route's limit holds the others back: shorter than the longest
/// wait of a request, so a probe lost with its process delays the others, never fails them.
const PROBE_TTL: Duration = Duration::from_secs(8);
/// How long a limit learnt here is used before it is read from the cache again.
const LOCAL_TTL: Duration = Duration::from_mins(10);
/// How often a replica waiting for a route's limit looks again.
const PROBE_POLL: Duration = Duration::from_millis(25);

/// What a request holds until its answer comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ticket {
    /// Nothing: the route is not shared (a big bucket, no headers) or the cache is down.
    Free,
    /// A slot of the route's bucket.
    Slot,
    /// The right to learn the route's limit (held under this token): [`SharedBuckets::learn`]
    /// or [`SharedBuckets::forget_probe`] must follow.
    Probe(u64),
}

/// A route's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Known {
    limit: u32,
    window: Duration,
}

/// What a response's headers said about its bucket.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    /// `X-RateLimit-Limit`.
    pub(crate) limit: u32,
    /// `X-RateLimit-Remaining`.
    pub(crate) remaining: u32,
    /// `X-RateLimit-Reset-After`.
    pub(crate) reset_after: Duration,
}

/// The shared buckets of one application.
pub(crate) struct SharedBuckets {
    application_id: u64,
    cache: SharedCache,
    known: Mutex<HashMap<String, (Known, std::time::Instant)>>,
}

/// The bucket a request falls in: method and path, with the ids that are not major parameters
/// (channel, guild, webhook) replaced, e.g. `PATCH channels/1/messages/:id`.
pub(crate) fn route_key(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut major = false;
    let parts: Vec<&str> = path
        .split('/')
        .map(|part| {
            let keep = major || !part.bytes().all(|b| b.is_ascii_digit()) || part.is_empty();
            major = matches!(part, "channels" | "guilds" | "webhooks");
            if keep { part } else { ":id" }
        })
        .collect();
    format!("{method} {}", parts.join("/"))
}

impl SharedBuckets {
    pub(crate) fn new(application_id: u64, cache: SharedCache) -> Self {
        Self { application_id, cache, known: Mutex::new(HashMap::new()) }
    }

    fn limit_key(&self, route: &str) -> String {
        format!("discord:bucket-limit:{}:{route}", self.application_id)
    }

    fn slot_key(&self, route: &str, slot: u32) -> String {
        format!("discord:bucket-slot:{}:{route}:{slot}", self.application_id)
    }

    /// The route's shared limit, if it is known here or to another replica.
    async fn known(&self, route: &str) -> Option<Known> {
        if let Some((known, at)) = self.known.lock().get(route).copied()
            && at.elapsed() < LOCAL_TTL
        {
            return Some(known);
        }
        let bytes = self.cache.get(&self.limit_key(route)).await.ok()??;
        let (limit, window) = std::str::from_utf8(&bytes).ok()?.split_once(' ')?;
        let known = Known { limit: limit.parse().ok()?, window: Duration::from_millis(window.parse().ok()?) };
        self.known.lock().insert(route.to_owned(), (known, std::time::Instant::now()));
        Some(known)
    }

    fn probe_key(&self, route: &str) -> String {
        format!("discord:bucket-probe:{}:{route}", self.application_id)
    }

    /// Takes a slot of the route's bucket, waiting until one frees up (or, while its limit is
    /// unknown, the right to learn it); `Err` with the time waited when `longest` passed first.
    pub(crate) async fn reserve(&self, route: &str, longest: Duration) -> Result<Ticket, Duration> {
        let started = tokio::time::Instant::now();
        let known = loop {
            match self.known(route).await {
                Some(known) if known.limit == 0 || known.limit > MAX_SHARED_LIMIT => return Ok(Ticket::Free),
                Some(known) => break known,
                None => {}
            }
            let token = rand::random::<u64>();
            match self.cache.set_if_absent(&self.probe_key(route), token.to_string().into(), PROBE_TTL).await {
                Ok(true) => return Ok(Ticket::Probe(token)),
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "shared rate limit unavailable; relying on the local one");
                    return Ok(Ticket::Free);
                }
            }
            if started.elapsed() + PROBE_POLL > longest {
                return Err(started.elapsed());
            }
            tokio::time::sleep(PROBE_POLL).await;
        };
        let pause = (known.window / known.limit.max(1)).clamp(Duration::from_millis(20), Duration::from_millis(250));
        // NOTE: replicas start their search at different slots, so they rarely race for one.
        let first = u32::try_from(rand::random::<u64>() % u64::from(known.limit.max(1))).unwrap_or(0);
        loop {
            for offset in 0..known.limit {
                let slot = (first + offset) % known.limit;
                match self.cache.set_if_absent(&self.slot_key(route, slot), "1".into(), known.window + MARGIN).await {
                    Ok(true) => return Ok(Ticket::Slot),
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "shared rate limit unavailable; relying on the local one");
                        return Ok(Ticket::Free);
                    }
                }
            }
            if started.elapsed() + pause > longest {
                return Err(started.elapsed());
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// Lets another request learn the route's limit (this one got no answer); only the probe
    /// `ticket` holds is given back.
    pub(crate) async fn forget_probe(&self, route: &str, ticket: Ticket) {
        let Ticket::Probe(token) = ticket else { return };
        if let Err(err) = self.cache.compare_and_delete(&self.probe_key(route), token.to_string().as_bytes()).await {
            tracing::debug!(error = %err, "cannot release a route's probe; it expires on its own");
        }
    }

    /// Learns from an answer that is not a 429 (`seen`: its bucket headers, `None` when a
    /// success had none): the
    /// route's limit, the requests Discord counted that no slot holds yet (others' made before
    /// the limit was known here), and an exhausted bucket holds every slot until Discord resets it.
    pub(crate) async fn learn(&self, route: &str, seen: Option<Seen>, ticket: Ticket) {
        let before = self.known.lock().get(route).map(|(known, _)| *known);
        let Some(seen) = seen else {
            if before.is_none() {
                // NOTE: no bucket headers: the route is not shared (remembered, so no more probes).
                self.remember(route, Known { limit: 0, window: Duration::ZERO }).await;
            }
            self.forget_probe(route, ticket).await;
            return;
        };
        let fresh = seen.remaining + 1 == seen.limit;
        let window = match before {
            Some(known) if !fresh && known.limit != 0 => known.window.max(seen.reset_after),
            _ => seen.reset_after,
        };
        let known = Known { limit: seen.limit, window: window.max(Duration::from_millis(100)) };
        let shared = known.limit > 0 && known.limit <= MAX_SHARED_LIMIT;
        let ttl = seen.reset_after + MARGIN;
        if shared && seen.remaining == 0 {
            self.hold(route, known.limit, ttl).await;
        } else if shared && matches!(ticket, Ticket::Probe(_)) {
            let used = seen.limit.saturating_sub(seen.remaining).min(seen.limit);
            for slot in 0..used {
                let _ = self.cache.set_if_absent(&self.slot_key(route, slot), "1".into(), ttl).await;
            }
        }
        if before != Some(known) {
            self.remember(route, known).await;
        }
        self.forget_probe(route, ticket).await;
    }

    async fn remember(&self, route: &str, known: Known) {
        self.known.lock().insert(route.to_owned(), (known, std::time::Instant::now()));
        let text = format!("{} {}", known.limit, known.window.as_millis());
        if let Err(err) = self.cache.set(&self.limit_key(route), text.into(), LIMIT_TTL).await {
            tracing::debug!(error = %err, "cannot share a route's rate limit");
        }
    }

    /// Holds every slot of the route for `ttl` (an exhausted bucket, or a 429): Discord's own
    /// bucket opens again then, whatever the slots' earlier lives.
    pub(crate) async fn hold(&self, route: &str, limit: u32, ttl: Duration) {
        let limit = if limit == 0 { self.known(route).await.map_or(0, |known| known.limit) } else { limit };
        if limit > MAX_SHARED_LIMIT {
            return;
        }
        for slot in 0..limit {
            if let Err(err) = self.cache.set(&self.slot_key(route, slot), "1".into(), ttl).await {
                tracing::debug!(error = %err, "cannot hold a shared bucket");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn routes_keep_their_major_ids_only() {
        assert_eq!(route_key("POST", "channels/123/messages"), "POST channels/123/messages");
        assert_eq!(route_key("PATCH", "channels/123/messages/456"), "PATCH channels/123/messages/:id");
        assert_eq!(route_key("PATCH", "guilds/9/scheduled-events/77?x=1"), "PATCH guilds/9/scheduled-events/:id");
        assert_eq!(route_key("GET", "guilds/9/members"), "GET guilds/9/members");
    }

    #[tokio::test]
    async fn no_window_holds_more_than_the_limit() {
        let cache: SharedCache = Arc::new(kalcord_cache::MemoryCache::new("buckets", 100));
        let (a, b) = (SharedBuckets::new(1, Arc::clone(&cache)), SharedBuckets::new(1, cache));
        let route = "POST channels/1/messages";
        // An unknown limit: one request learns it while the others wait.
        let probe = a.reserve(route, Duration::from_secs(1)).await.unwrap();
        assert!(matches!(probe, Ticket::Probe(_)), "{probe:?}");
        assert!(b.reserve(route, Duration::from_millis(100)).await.is_err(), "waits for the probe");
        let window = Duration::from_millis(400);
        a.learn(route, Some(Seen { limit: 5, remaining: 4, reset_after: window }), probe).await;
        for _ in 0..4 {
            assert_eq!(b.reserve(route, Duration::from_millis(100)).await, Ok(Ticket::Slot));
        }
        assert!(a.reserve(route, Duration::from_millis(100)).await.is_err(), "5 in the window already");
        assert_eq!(a.reserve(route, Duration::from_secs(5)).await, Ok(Ticket::Slot), "free once the window passed");
        // Routes without headers, or with big buckets, are not shared.
        let other = "GET guilds/1/members";
        let probe = a.reserve(other, Duration::from_secs(1)).await.unwrap();
        a.learn(other, None, probe).await;
        assert_eq!(b.reserve(other, Duration::from_millis(10)).await, Ok(Ticket::Free));
    }
}
