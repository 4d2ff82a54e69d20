#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod app;
mod gateway_events;
mod join;
mod notifications;
mod reply;
pub mod role;
mod roles;
mod sync;
mod tenant;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kalcord_bus::{BusError, Message, Requests};
use kalcord_config::{Reader, Section};
use kalcord_discord::egress::Egress;
use kalcord_proto::subject;
use kalcord_runtime::{CancellationToken, Deps, Needs, Service, ServiceConfig};
use kalcord_tenant::{TenantError, Tenants};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::app::App;

pub use gateway_events::DURABLE as GATEWAY_CONSUMER;

/// Queue group every replica serves in (one replica answers each request).
pub const GROUP: &str = "identity";

/// Subjects served, each a request-reply of `kalcord.v1` messages.
pub const SUBJECTS: &[&str] = &[
    subject::IDENTITY_JOIN,
    subject::IDENTITY_ROLE,
    subject::IDENTITY_ROLES_MAP,
    subject::IDENTITY_ROLES_UNMAP,
    subject::IDENTITY_ROLES_LIST,
    subject::IDENTITY_SETUP,
    subject::IDENTITY_TENANT,
    subject::IDENTITY_SYNC,
    subject::IDENTITY_NOTIFICATIONS,
];

/// Configuration of the `identity` section.
#[derive(Clone, Debug)]
pub struct Config {
    /// Requests handled at once by one replica (all subjects together).
    pub max_in_flight: usize,
    /// How long a guild's role mappings are cached (changes through this service invalidate at once).
    pub mappings_ttl: Duration,
    /// How long "this member's Kaltura user exists" is remembered in the cache.
    pub user_ttl: Duration,
    /// Time limit of one call to Discord (onboarding posts, member pages of a sync).
    pub rest_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_in_flight: 256,
            mappings_ttl: Duration::from_mins(1),
            user_ttl: Duration::from_hours(24 * 7),
            rest_timeout: Duration::from_secs(10),
        }
    }
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let defaults = Self::default();
        Self {
            max_in_flight: r.get(
                "max_in_flight",
                defaults.max_in_flight,
                "Identity requests (joins, role look-ups, setup) one replica handles at once.",
            ),
            mappings_ttl: r.duration(
                "mappings_ttl",
                defaults.mappings_ttl,
                "How long a guild's role mappings are cached; map/unmap invalidate them at once.",
            ),
            user_ttl: r.duration(
                "user_ttl",
                defaults.user_ttl,
                "How long the cache remembers that a member's Kaltura user exists (joins then make no Kaltura call).",
            ),
            rest_timeout: r.duration(
                "rest_timeout",
                defaults.rest_timeout,
                "Time limit of one call to Discord from identity (onboarding posts, each member page of /kaltura sync).",
            ),
        }
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "identity";
}

/// The service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bus refused a subscription.
    #[error("cannot serve the identity subjects")]
    Bus(#[from] BusError),
    /// The Kaltura tenants could not be set up (default partner or tenant secret store).
    #[error("cannot set up the Kaltura tenants")]
    Tenants(#[source] Box<TenantError>),
    /// The runtime gave the service no database.
    #[error("the identity service needs the store")]
    NoStore,
}

impl From<TenantError> for Error {
    fn from(err: TenantError) -> Self {
        Self::Tenants(Box::new(err))
    }
}

/// The identity service, connected and ready to run.
#[derive(Debug)]
pub struct Identity {
    app: Arc<App>,
}

impl Identity {
    /// The service over `deps` with explicit tenants (tests, or a custom tenant secret store).
    ///
    /// # Errors
    ///
    /// [`Error::NoStore`] when `deps` has no store.
    pub fn with_tenants(config: Config, deps: Deps, tenants: Tenants) -> Result<Self, Error> {
        let store = deps.store.clone().ok_or(Error::NoStore)?;
        let egress = if let (Some(egress_config), Some(cache)) =
            (deps.common.discord.egress(config.rest_timeout), &deps.cache)
        {
            Some(Egress::new(egress_config, Arc::clone(cache)))
        } else {
            tracing::warn!(
                "discord.bot_token or discord.application_id is not set: no onboarding posts and no member sync"
            );
            None
        };
        Ok(Self { app: Arc::new(App { cache: deps.cache.clone(), config, deps, egress, store, tenants }) })
    }
}

#[async_trait]
impl Service for Identity {
    const NAME: &'static str = "identity";
    const NEEDS: Needs = Needs { cache: true, store: true };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let store = deps.store.clone().ok_or(Error::NoStore)?;
        let tenants = Tenants::open(&deps.common.kaltura, &deps.common.secrets, store)?;
        Self::with_tenants(config, deps, tenants)
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let mut served = Vec::with_capacity(SUBJECTS.len());
        for subject in SUBJECTS {
            served.push(self.app.deps.bus.serve(subject, GROUP).await?);
        }
        let gateway = gateway_events::bind(&self.app).await?;
        tracing::info!(service = Self::NAME, instance = %self.app.deps.instance, "running");
        let tracker = TaskTracker::new();
        tracker.spawn(gateway_events::run(Arc::clone(&self.app), gateway, shutdown.clone()));
        let permits = Arc::new(Semaphore::new(self.app.config.max_in_flight.max(1)));
        for requests in served {
            tracker.spawn(accept(
                Arc::clone(&self.app),
                requests,
                Arc::clone(&permits),
                tracker.clone(),
                shutdown.clone(),
            ));
        }
        // NOTE: the accept loops and the gateway consumer stop taking work at shutdown; the
        // tracker then waits for the requests and events in flight.
        tracker.close();
        tracker.wait().await;
        Ok(())
    }
}

/// Takes requests of one subject until shutdown, each handled in its own task.
async fn accept(
    app: Arc<App>,
    mut requests: Requests,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit { Ok(permit) => permit, Err(_) => break },
        };
        let request = tokio::select! {
            () = shutdown.cancelled() => break,
            request = requests.next() => match request { Some(request) => request, None => break },
        };
        let app = Arc::clone(&app);
        tracker.spawn(async move {
            let subject = request.subject.clone();
            let span = tracing::info_span!("identity", subject = %subject);
            let answer = tracing::Instrument::instrument(app.handle(&subject, &request.message.payload), span).await;
            if let Err(err) = request.respond(Message::new(answer)).await {
                tracing::warn!(error = %err, subject = %subject, "identity answer not delivered");
            }
            drop(permit);
        });
    }
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the service cannot be built or the bus refuses a subscription.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    Identity::build(config, deps).await?.run(shutdown).await
}
