#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

pub mod actor;
pub mod client;
mod dispatch;
mod fallback;
pub mod handler;
pub mod handlers;
pub mod route;
pub mod when;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kalcord_bus::{BusError, Message};
use kalcord_config::{Reader, Section};
use kalcord_discord::egress::Egress;
use kalcord_proto::Message as _;
use kalcord_proto::v1::{InteractionReply, InteractionRequest};
use kalcord_runtime::{CancellationToken, Deps, Needs, Service, ServiceConfig};
use tokio_util::task::TaskTracker;

use crate::handler::{App, Registry};

/// Bus subject served.
pub const SUBJECT: &str = "interactions.handle";

/// Configuration of the `interactions` section.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long before the edge's deadline an answer must be ready to go back inline.
    pub answer_margin: Duration,
    /// Interactions handled at once by one replica.
    pub max_in_flight: usize,
    /// Timeout of Discord REST calls (follow-ups).
    pub rest_timeout: Duration,
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        Self {
            answer_margin: r.duration("answer_margin", Duration::from_millis(500), "How long before the edge's deadline an answer must be ready to be returned inline; later answers become follow-ups."),
            max_in_flight: r.get("max_in_flight", 256, "Interactions one replica handles at once."),
            rest_timeout: r.duration("rest_timeout", Duration::from_secs(10), "Timeout of Discord REST calls made for follow-ups."),
        }
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "interactions";
}

/// The service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bus refused the subscription.
    #[error("cannot serve {SUBJECT}")]
    Bus(#[from] BusError),
}

/// The interactions service, connected and ready to run.
#[derive(Debug)]
pub struct Interactions {
    app: Arc<App>,
    config: Config,
    registry: Arc<Registry>,
}

impl Interactions {
    /// The service with a custom handler registry (tests, or additional handlers).
    #[must_use]
    pub fn with_registry(config: Config, deps: Deps, registry: Registry) -> Self {
        let discord = &deps.common.discord;
        let egress = if let (Some(egress_config), Some(cache)) = (discord.egress(config.rest_timeout), &deps.cache) {
            Some(Egress::new(egress_config, Arc::clone(cache)))
        } else {
            tracing::warn!(
                "discord.bot_token or discord.application_id is not set: deferred interactions cannot be answered"
            );
            None
        };
        Self { app: Arc::new(App { deps, egress }), config, registry: Arc::new(registry) }
    }
}

#[async_trait]
impl Service for Interactions {
    const NAME: &'static str = "interactions";
    const NEEDS: Needs = Needs { cache: true, store: false };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        Ok(Self::with_registry(config, deps, handlers::registry()))
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let mut requests = self.app.deps.bus.serve(SUBJECT, Self::NAME).await?;
        let tracker = TaskTracker::new();
        let permits = Arc::new(tokio::sync::Semaphore::new(self.config.max_in_flight.max(1)));
        loop {
            let request = tokio::select! {
                () = shutdown.cancelled() => break,
                request = requests.next() => match request { Some(request) => request, None => break },
            };
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
            let (app, registry, margin, tasks) =
                (Arc::clone(&self.app), Arc::clone(&self.registry), self.config.answer_margin, tracker.clone());
            tracker.spawn(async move {
                let answer = match InteractionRequest::decode(request.message.payload.as_ref()) {
                    Ok(decoded) => dispatch::dispatch(app, &registry, decoded, margin, &tasks).await,
                    Err(_) => fallback::unreadable(),
                };
                let reply = InteractionReply { response: answer.to_json() };
                if let Err(err) = request.respond(Message::new(reply.encode_to_vec())).await {
                    tracing::warn!(error = %err, "interaction answer not delivered to the edge");
                }
                drop(permit);
            });
        }
        // NOTE: stop taking interactions, then finish the ones in flight and their follow-ups.
        drop(requests);
        tracker.close();
        tracker.wait().await;
        Ok(())
    }
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the bus refuses the subscription.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    Interactions::build(config, deps).await?.run(shutdown).await
}
