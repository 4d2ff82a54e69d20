#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod config;
pub mod dispatch;
pub mod queue;
pub mod runner;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kalcord_discord::egress::{Egress, EgressError, Method};
use kalcord_runtime::{CancellationToken, CheckResult, Deps, Needs, Probe, Service};
use serde::Deserialize;
use tokio_util::task::TaskTracker;
use twilight_gateway::Intents;

pub use config::{Config, DISCORD_IDENTIFY_DELAY, shard_range};

/// Longest pause between two `GET /gateway/bot` attempts at start-up.
const MAX_BOOT_DELAY: Duration = Duration::from_secs(30);

/// The service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The replica index is not below `gateway_shard.replicas`.
    #[error(
        "this is replica {index} but gateway_shard.replicas is {replicas}: raise gateway_shard.replicas to the number of pods"
    )]
    Replica {
        /// Index found (configured or from the host name).
        index: u32,
        /// Configured replicas.
        replicas: u32,
    },
}

/// `GET /gateway/bot`.
#[derive(Debug, Deserialize)]
struct GatewayBot {
    url: String,
    shards: u32,
    session_start_limit: SessionStartLimit,
}

#[derive(Debug, Deserialize)]
struct SessionStartLimit {
    remaining: u32,
    max_concurrency: u32,
    reset_after: u64,
}

/// Intents kalcord identifies with.
#[must_use]
pub fn intents(members: bool) -> Intents {
    let base = Intents::GUILDS | Intents::GUILD_SCHEDULED_EVENTS | Intents::GUILD_VOICE_STATES;
    if members { base | Intents::GUILD_MEMBERS } else { base }
}

/// The gateway-shard service, connected and ready to run.
#[derive(Debug)]
pub struct GatewayShard {
    config: Config,
    deps: Deps,
    egress: Option<Egress>,
    replica: u32,
    status: status::ShardStatus,
    disabled: Option<&'static str>,
}

/// `/readyz` of a replica without a bot token: ready, and saying why nothing connects.
#[derive(Debug)]
struct Disabled(&'static str);

impl Probe for Disabled {
    fn checks(&self) -> Vec<CheckResult> {
        vec![CheckResult { name: "gateway".into(), ok: true, detail: self.0.to_owned() }]
    }
}

#[async_trait]
impl Service for GatewayShard {
    const NAME: &'static str = "gateway-shard";
    const NEEDS: Needs = Needs { cache: true, store: false };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let hostname = std::env::var("HOSTNAME").ok();
        let replica = config
            .replica_index(hostname.as_deref())
            .map_err(|index| Error::Replica { index, replicas: config.replicas })?;
        let egress = match (deps.common.discord.egress(Duration::from_secs(10)), &deps.cache) {
            (Some(egress), Some(cache)) => Some(Egress::new(egress, Arc::clone(cache))),
            _ => None,
        };
        let disabled = egress.is_none().then_some("disabled: discord.bot_token or discord.application_id is not set");
        Ok(Self { config, deps, egress, replica, status: status::ShardStatus::default(), disabled })
    }

    fn probe(&self) -> Option<Arc<dyn Probe>> {
        Some(match self.disabled {
            Some(why) => Arc::new(Disabled(why)),
            None => Arc::new(self.status.clone()),
        })
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let (Some(egress), Some(cache), Some(token)) =
            (self.egress.clone(), self.deps.cache.clone(), self.deps.common.discord.bot_token.clone())
        else {
            tracing::warn!("discord.bot_token or discord.application_id is not set: no gateway connection");
            shutdown.cancelled().await;
            return Ok(());
        };
        let Some(bot) = self.gateway_bot(&egress, &shutdown).await else { return Ok(()) };
        let total = if self.config.shards == 0 { bot.shards.max(1) } else { self.config.shards };
        let mine = shard_range(total, self.replica, self.config.replicas);
        let limit = &bot.session_start_limit;
        if u64::from(limit.remaining) < u64::try_from(mine.len()).unwrap_or(u64::MAX) {
            // NOTE: running out of IDENTIFYs terminates every session and resets the bot token
            // (discord-api.md §3.1), so the shards wait for the budget to reset.
            let wait = Duration::from_millis(limit.reset_after);
            let problem = format!(
                "Discord's daily identify budget is spent ({} left for {} shards); waiting {}s for it to reset",
                limit.remaining,
                mine.len(),
                wait.as_secs()
            );
            tracing::error!(%problem, "gateway shards not started");
            self.status.set_startup(Some(problem));
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => self.status.set_startup(None),
            }
        }
        let gateway_url = self.config.gateway_url.clone().unwrap_or(bot.url);
        tracing::info!(
            replica = self.replica,
            replicas = self.config.replicas,
            total,
            first = mine.start,
            last = mine.end.saturating_sub(1),
            max_concurrency = limit.max_concurrency,
            "starting gateway shards"
        );
        let queue = queue::CacheQueue::new(Arc::clone(&cache), limit.max_concurrency, self.config.identify_delay);
        let shared = Arc::new(runner::Shared {
            bus: Arc::clone(&self.deps.bus),
            cache,
            config: self.config.clone(),
            token,
            intents: intents(self.config.members_intent),
            gateway_url,
            total,
            queue,
            status: self.status.clone(),
        });
        let tracker = TaskTracker::new();
        for id in mine {
            tracker.spawn(runner::run(Arc::clone(&shared), id, shutdown.clone()));
        }
        tracker.close();
        tracker.wait().await;
        // NOTE: shards closed for good (bad token, disallowed intents) end before shutdown; the
        // process stays up so /readyz keeps saying why.
        shutdown.cancelled().await;
        Ok(())
    }
}

impl GatewayShard {
    /// `GET /gateway/bot`, retried with backoff until it answers or shutdown.
    async fn gateway_bot(&self, egress: &Egress, shutdown: &CancellationToken) -> Option<GatewayBot> {
        let mut delay = Duration::from_secs(1);
        loop {
            let result: Result<GatewayBot, EgressError> = egress.request(Method::Get, "gateway/bot", None::<&()>).await;
            match result {
                Ok(bot) => {
                    self.status.set_startup(None);
                    return Some(bot);
                }
                Err(err) => {
                    let problem = format!("GET /gateway/bot failed: {err}");
                    tracing::warn!(%problem, "cannot start the gateway shards yet");
                    self.status.set_startup(Some(problem));
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_BOOT_DELAY);
        }
    }
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the service cannot be built.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    GatewayShard::build(config, deps).await?.run(shutdown).await
}
