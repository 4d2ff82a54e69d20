//! The `gateway_shard` section.

use std::time::Duration;

use kalcord_config::{Reader, Section};
use kalcord_runtime::ServiceConfig;

/// Discord's identify window: `max_concurrency` IDENTIFYs per this period.
pub const DISCORD_IDENTIFY_DELAY: Duration = Duration::from_secs(5);

/// Configuration of the `gateway_shard` section.
#[derive(Clone, Debug)]
pub struct Config {
    /// Total number of shards; 0 takes Discord's recommendation from `GET /gateway/bot`.
    pub shards: u32,
    /// This replica's index in `0..replicas`; `None` reads it from a `StatefulSet` host name
    /// (`kalcord-gateway-shard-2` is replica 2), else 0.
    pub replica: Option<u32>,
    /// Replicas sharing the shards; each runs a contiguous range of them.
    pub replicas: u32,
    /// Whether to ask for the privileged `GUILD_MEMBERS` intent (member and role sync).
    pub members_intent: bool,
    /// Gateway URL overriding the one `GET /gateway/bot` returns (e.g. a gateway proxy).
    pub gateway_url: Option<String>,
    /// Period of one identify bucket; Discord's is 5 s. Lower it only against the emulator.
    pub identify_delay: Duration,
    /// How often each shard's session and sequence are saved for a resume after a restart.
    pub persist_interval: Duration,
    /// How long a saved session is kept (Discord keeps a dropped session resumable for a few minutes).
    pub session_ttl: Duration,
    /// Dispatches published to the bus in one pipelined batch at most.
    pub publish_batch: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            shards: 0,
            replica: None,
            replicas: 1,
            members_intent: true,
            gateway_url: None,
            identify_delay: DISCORD_IDENTIFY_DELAY,
            persist_interval: Duration::from_secs(1),
            session_ttl: Duration::from_mins(4),
            publish_batch: 256,
        }
    }
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let defaults = Self::default();
        let config = Self {
            shards: r.get(
                "shards",
                defaults.shards,
                "Total Discord gateway shards; 0 uses Discord's recommendation (set it explicitly when several replicas run).",
            ),
            replica: r.get_opt(
                "replica",
                "This replica's index (0-based); unset reads the StatefulSet ordinal from the host name, else 0.",
            ),
            replicas: r.get("replicas", defaults.replicas, "Gateway-shard replicas sharing the shards (each runs a contiguous range)."),
            members_intent: r.get(
                "members_intent",
                defaults.members_intent,
                "Ask for the privileged GUILD_MEMBERS intent (enable Server Members Intent in the developer portal) for member and role sync.",
            ),
            gateway_url: r.get_opt(
                "gateway_url",
                "Gateway websocket URL overriding the one GET /gateway/bot returns (e.g. ws://127.0.0.1:7101 for the emulator).",
            ),
            identify_delay: r.duration(
                "identify_delay",
                defaults.identify_delay,
                "Period of one identify bucket (max_concurrency IDENTIFYs each); Discord's is 5s, lower only against the emulator.",
            ),
            persist_interval: r.duration(
                "persist_interval",
                defaults.persist_interval,
                "How often each shard saves its session and last published sequence (for RESUME after a restart).",
            ),
            session_ttl: r.duration(
                "session_ttl",
                defaults.session_ttl,
                "How long a saved gateway session is kept; older ones are not tried and the shard identifies afresh (at most 5m, the gateway stream's duplicate window).",
            ),
            publish_batch: r.get(
                "publish_batch",
                defaults.publish_batch,
                "Most dispatches published to JetStream in one pipelined batch.",
            ),
        };
        if config.replicas == 0 {
            r.invalid("replicas", "must be at least 1");
        }
        if config.replica.is_some_and(|replica| replica >= config.replicas) {
            r.invalid("replica", "must be less than gateway_shard.replicas");
        }
        if config.shards == 0 && config.replicas > 1 {
            r.invalid("shards", "must be set explicitly when gateway_shard.replicas is more than 1, so every replica splits the same count");
        }
        if config.session_ttl > kalcord_bus::spec::GATEWAY_DUPLICATE_WINDOW {
            r.invalid(
                "session_ttl",
                "must be at most 5m: replays of an older session would outlive the stream's duplicate window",
            );
        }
        if config.shards != 0 && config.shards < config.replicas {
            r.invalid("shards", "must be at least gateway_shard.replicas (every replica runs one shard or more)");
        }
        if let Some(url) = &config.gateway_url
            && !(url.starts_with("ws://") || url.starts_with("wss://"))
        {
            r.invalid("gateway_url", "must be a ws:// or wss:// URL");
        }
        if config.publish_batch == 0 {
            r.invalid("publish_batch", "must be at least 1");
        }
        if config.persist_interval.is_zero() {
            r.invalid("persist_interval", "must be more than 0s");
        }
        config
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "gateway_shard";
}

impl Config {
    /// This replica's index: configured, else the `StatefulSet` ordinal in `hostname`, else 0.
    ///
    /// # Errors
    ///
    /// The index found when it is not below `replicas` (more pods than configured replicas).
    pub fn replica_index(&self, hostname: Option<&str>) -> Result<u32, u32> {
        let index = self.replica.or_else(|| hostname.and_then(ordinal)).unwrap_or(0);
        if index < self.replicas { Ok(index) } else { Err(index) }
    }
}

/// The ordinal of a `StatefulSet` pod name (`name-3` is 3).
fn ordinal(hostname: &str) -> Option<u32> {
    let (_, tail) = hostname.rsplit_once('-')?;
    tail.parse().ok()
}

/// The shards replica `replica` of `replicas` runs out of `total`: a contiguous range.
#[must_use]
pub fn shard_range(total: u32, replica: u32, replicas: u32) -> std::ops::Range<u32> {
    let replicas = u64::from(replicas.max(1));
    let total64 = u64::from(total);
    let replica = u64::from(replica).min(replicas - 1);
    let bound = |index: u64| u32::try_from(total64 * index / replicas).unwrap_or(total);
    bound(replica)..bound(replica + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_shard_once() {
        for total in 1..=17 {
            for replicas in 1..=total {
                let mut seen = Vec::new();
                for replica in 0..replicas {
                    seen.extend(shard_range(total, replica, replicas));
                }
                assert_eq!(seen, (0..total).collect::<Vec<_>>(), "total {total}, replicas {replicas}");
            }
        }
        assert_eq!(shard_range(4, 0, 2), 0..2);
        assert_eq!(shard_range(4, 1, 2), 2..4);
    }

    #[test]
    fn statefulset_ordinals() {
        let config = Config { replicas: 3, ..Config::default() };
        assert_eq!(config.replica_index(Some("kalcord-gateway-shard-2")), Ok(2));
        assert_eq!(config.replica_index(Some("laptop")), Ok(0));
        assert_eq!(config.replica_index(None), Ok(0));
        assert_eq!(config.replica_index(Some("x-9")), Err(9));
        let fixed = Config { replica: Some(1), replicas: 3, ..Config::default() };
        assert_eq!(fixed.replica_index(Some("kalcord-gateway-shard-2")), Ok(1));
    }
}
