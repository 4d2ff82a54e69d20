#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod app;
mod meeting_events;
mod post;
mod scheduled_event;
mod sync;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kalcord_bus::BusError;
use kalcord_config::{Reader, Section};
use kalcord_discord::egress::Egress;
use kalcord_runtime::{CancellationToken, Deps, Needs, Service, ServiceConfig};

use crate::app::App;

pub use meeting_events::DURABLE as MEETING_EVENTS_CONSUMER;

/// Configuration of the `notifications` section.
#[derive(Clone, Debug)]
pub struct Config {
    /// Time an event may take before it is delivered again (posts can wait out rate limits).
    pub ack_wait: Duration,
    /// Events one replica posts at once.
    pub concurrency: usize,
    /// Deliveries of an event before it goes to the dead-letter subject.
    pub max_deliveries: u32,
    /// Longest delay before a failed post is tried again.
    pub max_retry_delay: Duration,
    /// Time limit of one call to Discord.
    pub rest_timeout: Duration,
    /// Delay before the first retry of a failed post (doubled on each further failure).
    pub retry_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_mins(2),
            concurrency: 16,
            max_deliveries: 50,
            max_retry_delay: Duration::from_mins(1),
            rest_timeout: Duration::from_secs(10),
            retry_delay: Duration::from_secs(2),
        }
    }
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let defaults = Self::default();
        let config = Self {
            ack_wait: r.duration(
                "ack_wait",
                defaults.ack_wait,
                "Time a meeting event may take to post before it is delivered again (to this or another replica).",
            ),
            concurrency: r.get("concurrency", defaults.concurrency, "Meeting events one replica posts at once."),
            max_deliveries: r.get(
                "max_deliveries",
                defaults.max_deliveries,
                "Deliveries of a meeting event before it is moved to the dead-letter subject (dlq.meetings.events.*).",
            ),
            max_retry_delay: r.duration(
                "max_retry_delay",
                defaults.max_retry_delay,
                "Longest delay before a post Discord failed (5xx, 429, timeout) is tried again.",
            ),
            rest_timeout: r.duration("rest_timeout", defaults.rest_timeout, "Time limit of one call to Discord."),
            retry_delay: r.duration(
                "retry_delay",
                defaults.retry_delay,
                "Delay before a failed post is first tried again; doubled on each further failure.",
            ),
        };
        if config.concurrency == 0 {
            r.invalid("concurrency", "must be at least 1");
        }
        if config.max_deliveries == 0 {
            r.invalid("max_deliveries", "must be at least 1");
        }
        config
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "notifications";
}

/// The service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bus refused the consumer.
    #[error("cannot consume meeting events")]
    Bus(#[from] BusError),
    /// The runtime gave the service no database.
    #[error("the notifications service needs the store")]
    NoStore,
}

/// The notifications service, connected and ready to run.
#[derive(Debug)]
pub struct Notifications {
    /// `None` without a bot token: nothing can be posted, events wait on the bus.
    app: Option<Arc<App>>,
    deps: Deps,
}

#[async_trait]
impl Service for Notifications {
    const NAME: &'static str = "notifications";
    const NEEDS: Needs = Needs { cache: true, store: true };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let store = deps.store.clone().ok_or(Error::NoStore)?;
        let app = if let (Some(egress_config), Some(cache)) =
            (deps.common.discord.egress(config.rest_timeout), &deps.cache)
        {
            let egress = Egress::new(egress_config, Arc::clone(cache));
            // NOTE: the owner column holds 64 characters; the per-call counter is appended.
            let instance: String = deps.instance.chars().take(20).collect();
            let lease_owner = format!("{instance}:{}", uuid::Uuid::new_v4().simple());
            let leases = std::sync::atomic::AtomicU64::new(0);
            Some(Arc::new(App { config, deps: deps.clone(), egress, lease_owner, leases, store }))
        } else {
            tracing::warn!("discord.bot_token or discord.application_id is not set: no channel posts");
            None
        };
        Ok(Self { app, deps })
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        tracing::info!(service = Self::NAME, instance = %self.deps.instance, "running");
        let Some(app) = self.app else {
            shutdown.cancelled().await;
            return Ok(());
        };
        let consumer = meeting_events::bind(&app).await?;
        meeting_events::run(app, consumer, shutdown).await;
        Ok(())
    }
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the service cannot be built or the bus refuses the consumer.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    Notifications::build(config, deps).await?.run(shutdown).await
}
