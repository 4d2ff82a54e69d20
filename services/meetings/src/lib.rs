#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

pub mod api;
pub mod convert;
pub mod event;
pub mod failure;
pub mod lifecycle;
pub mod relay;
pub mod validate;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::{self, BoxStream};
use kalcord_bus::{BusError, Message, Request, Requests};
use kalcord_cache::SharedCache;
use kalcord_config::{Reader, Section};
use kalcord_proto::subject;
use kalcord_runtime::{CancellationToken, Deps, Needs, Service, ServiceConfig};
use kalcord_tenant::{TenantError, Tenants};
use tokio_util::task::TaskTracker;

pub use api::{Applied, MeetingsApi, Polled, WebhookError};
pub use failure::Failure;
pub use relay::Relay;

/// Every subject the service answers, in the queue group [`Meetings::NAME`].
pub const SUBJECTS: &[&str] = &[
    subject::MEETINGS_CREATE,
    subject::MEETINGS_GET,
    subject::MEETINGS_LIST,
    subject::MEETINGS_UPDATE,
    subject::MEETINGS_END,
    subject::MEETINGS_CANCEL,
    subject::MEETINGS_ATTACH_MESSAGE,
    subject::MEETINGS_AUDIT_VERIFY,
];

/// Default time before a scheduled meeting's start that its reminder is sent.
pub const DEFAULT_REMINDER_LEAD: Duration = Duration::from_mins(15);
/// Longest reminder lead time accepted.
pub const MAX_REMINDER_LEAD: Duration = Duration::from_hours(7 * 24);

/// Configuration of the `meetings` section.
#[derive(Clone, Debug)]
pub struct Config {
    /// Requests one replica handles at once.
    pub max_in_flight: usize,
    /// How long to wait for the identity service's answer about a member's meeting role.
    pub identity_timeout: Duration,
    /// How long published meeting events stay in the outbox before they are deleted.
    pub outbox_retention: Duration,
    /// How often the outbox is swept for events not published yet (e.g. written by a replica
    /// that stopped before publishing them).
    pub outbox_sweep: Duration,
    /// How long before a scheduled meeting's start its reminder is sent, in guilds that chose no
    /// lead of their own; zero reminds only the guilds that chose one.
    pub reminder_lead: Duration,
    /// How often the store is polled for meetings whose start time came or due a reminder.
    pub reminder_poll: Duration,
    /// How often Kaltura is asked for new recordings of partners that send no notifications
    /// (zero: never).
    pub recording_poll: Duration,
    /// How long after a meeting ended its recordings are still looked for.
    pub recording_poll_window: Duration,
    /// A partner that sent no signed notification for this long has its recordings polled.
    pub notification_quiet: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            identity_timeout: Duration::from_millis(1500),
            outbox_retention: Duration::from_hours(7 * 24),
            outbox_sweep: Duration::from_secs(2),
            reminder_lead: DEFAULT_REMINDER_LEAD,
            reminder_poll: Duration::from_secs(10),
            recording_poll: Duration::from_mins(5),
            recording_poll_window: Duration::from_hours(3 * 24),
            notification_quiet: Duration::from_hours(24),
        }
    }
}

impl Section for Config {
    fn read(r: &mut Reader<'_>) -> Self {
        let defaults = Self::default();
        let config = Self {
            identity_timeout: r.duration(
                "identity_timeout",
                defaults.identity_timeout,
                "How long to wait for the identity service to tell a member's meeting role (identity.role).",
            ),
            max_in_flight: r.get(
                "max_in_flight",
                defaults.max_in_flight,
                "Meeting requests one replica handles at once.",
            ),
            outbox_retention: r.duration(
                "outbox_retention",
                defaults.outbox_retention,
                "How long published meeting events stay in the event outbox before they are deleted.",
            ),
            outbox_sweep: r.duration(
                "outbox_sweep",
                defaults.outbox_sweep,
                "How often the event outbox is swept for meeting events not published yet (e.g. left by a stopped replica).",
            ),
            reminder_lead: r.duration(
                "reminder_lead",
                defaults.reminder_lead,
                "How long before a scheduled meeting's start its reminder event is sent, unless the server chose its own lead with /kaltura notifications (0s: only servers that chose one get reminders).",
            ),
            reminder_poll: r.duration(
                "reminder_poll",
                defaults.reminder_poll,
                "How often the store is polled for scheduled meetings whose start time came (they go live) or that are due a reminder.",
            ),
            recording_poll: r.duration(
                "recording_poll",
                defaults.recording_poll,
                "How often Kaltura is asked (media.list) for new recordings of partners that send kalcord no notifications (0s: never).",
            ),
            recording_poll_window: r.duration(
                "recording_poll_window",
                defaults.recording_poll_window,
                "How long after a meeting ended its recordings are still looked for by polling.",
            ),
            notification_quiet: r.duration(
                "notification_quiet",
                defaults.notification_quiet,
                "A Kaltura partner that sent no signed notification for this long has its recordings polled instead.",
            ),
        };
        if config.reminder_lead > MAX_REMINDER_LEAD {
            r.invalid("reminder_lead", "must be at most 7 days");
        }
        if config.reminder_poll.is_zero() {
            r.invalid("reminder_poll", "must be longer than 0s");
        }
        if config.identity_timeout.is_zero() {
            r.invalid("identity_timeout", "must be longer than 0s");
        }
        if config.outbox_sweep.is_zero() {
            r.invalid("outbox_sweep", "must be longer than 0s");
        }
        config
    }
}

impl ServiceConfig for Config {
    const SECTION: &'static str = "meetings";
}

/// The service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bus refused a subscription.
    #[error("cannot serve the meetings subjects")]
    Bus(#[from] BusError),
    /// The default Kaltura partner's client cannot be built.
    #[error("cannot set up the Kaltura partners")]
    Tenant(#[from] TenantError),
}

/// The meetings service, connected and ready to run.
#[derive(Debug)]
pub struct Meetings {
    api: Arc<MeetingsApi>,
    config: Config,
    deps: Deps,
}

impl Meetings {
    /// The logic the service serves, for callers that skip the bus.
    #[must_use]
    pub fn api(&self) -> &MeetingsApi {
        &self.api
    }
}

#[async_trait]
impl Service for Meetings {
    const NAME: &'static str = "meetings";
    const NEEDS: Needs = Needs { cache: true, store: true };
    type Config = Config;
    type Error = Error;

    async fn build(config: Config, deps: Deps) -> Result<Self, Error> {
        let store = deps.store().clone();
        let tenants = Tenants::open(&deps.common.kaltura, &deps.common.secrets, store.clone())?;
        let api = MeetingsApi::new(deps.bus.clone(), store, tenants, config.identity_timeout);
        Ok(Self { api: Arc::new(api), config, deps })
    }

    async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        tracing::info!(service = Self::NAME, instance = %self.deps.instance, "running");
        // NOTE: the relay outlives `shutdown` until the requests in flight are done, so their
        // events still go out; the guard stops it on every other way out.
        let relay_stop = CancellationToken::new();
        let _relay_guard = relay_stop.clone().drop_guard();
        let relay = Relay::new(
            self.deps.bus.clone(),
            self.deps.store().clone(),
            self.api.relay_signal(),
            self.config.outbox_sweep,
            self.config.outbox_retention,
        );
        let relay = tokio::spawn(relay.run(relay_stop.clone()));
        let reminders = tokio::spawn(remind(
            Arc::clone(&self.api),
            self.config.reminder_lead,
            self.config.reminder_poll,
            relay_stop.clone(),
        ));
        let recordings = tokio::spawn(poll_recordings(
            Arc::clone(&self.api),
            self.deps.cache.clone(),
            self.config.clone(),
            relay_stop.clone(),
        ));
        let consumer = webhook::bind(&self.deps.bus).await?;
        let webhooks = tokio::spawn(webhook::run(Arc::clone(&self.api), consumer, shutdown.clone()));
        let mut streams: Vec<BoxStream<'static, Request>> = Vec::with_capacity(SUBJECTS.len());
        for subject in SUBJECTS {
            let requests = self.deps.bus.serve(subject, Self::NAME).await?;
            streams.push(into_stream(requests));
        }
        let mut requests = stream::select_all(streams);
        let tracker = TaskTracker::new();
        let permits = Arc::new(tokio::sync::Semaphore::new(self.config.max_in_flight.max(1)));
        loop {
            let request = tokio::select! {
                () = shutdown.cancelled() => break,
                request = requests.next() => match request { Some(request) => request, None => break },
            };
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
            let api = Arc::clone(&self.api);
            tracker.spawn(async move {
                let subject = request.subject.clone();
                let reply = api.handle(&subject, request.message.payload.as_ref()).await;
                if let Err(err) = request.respond(Message::new(reply)).await {
                    tracing::warn!(subject = %subject, error = %err, "meetings answer not delivered");
                }
                drop(permit);
            });
        }
        // NOTE: stop taking requests, then finish the ones in flight.
        drop(requests);
        tracker.close();
        tracker.wait().await;
        if let Err(err) = webhooks.await {
            tracing::warn!(error = %err, "the kaltura notification task failed");
        }
        relay_stop.cancel();
        if let Err(err) = reminders.await {
            tracing::warn!(error = %err, "the reminder task failed");
        }
        if let Err(err) = recordings.await {
            tracing::warn!(error = %err, "the recording poll task failed");
        }
        if let Err(err) = relay.await {
            tracing::warn!(error = %err, "the outbox relay task failed");
        }
        Ok(())
    }
}

/// Polls for meetings whose start time came and for due reminders every `poll` until `stop`
/// (see [`MeetingsApi::start_due_meetings`] and [`MeetingsApi::send_due_reminders`]).
#[tracing::instrument(name = "reminders", skip_all)]
async fn remind(api: Arc<MeetingsApi>, lead: Duration, poll: Duration, stop: CancellationToken) {
    if lead.is_zero() {
        tracing::info!("meeting reminders go out only in servers that chose a lead (meetings.reminder_lead = 0s)");
    }
    loop {
        match api.start_due_meetings(kalcord_store::now()).await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "scheduled meetings started"),
            Err(err) => tracing::warn!(error = %err, "cannot look for meetings due to start; retrying"),
        }
        match api.send_due_reminders(kalcord_store::now(), lead).await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "meeting reminders written"),
            Err(err) => tracing::warn!(error = %err, "cannot look for meetings due a reminder; retrying"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

fn into_stream(requests: Requests) -> BoxStream<'static, Request> {
    stream::unfold(requests, |mut requests| async move { requests.next().await.map(|request| (request, requests)) })
        .boxed()
}

/// Builds the service and runs it until `shutdown` is cancelled.
///
/// # Errors
///
/// When the Kaltura partners cannot be set up or the bus refuses a subscription.
pub async fn run(config: Config, deps: Deps, shutdown: CancellationToken) -> Result<(), Error> {
    Meetings::build(config, deps).await?.run(shutdown).await
}

/// Cache key the replicas take in turn, so one of them polls Kaltura per interval.
const RECORDING_POLL_TURN: &str = "meetings:recording-poll";

/// Polls Kaltura for recordings every `config.recording_poll` until `stop` (see
/// [`MeetingsApi::poll_recordings`]); with a shared cache, one replica per interval.
#[tracing::instrument(name = "recording_poll", skip_all)]
async fn poll_recordings(api: Arc<MeetingsApi>, cache: Option<SharedCache>, config: Config, stop: CancellationToken) {
    let every = config.recording_poll;
    if every.is_zero() {
        tracing::info!("recordings are found through Kaltura notifications only (meetings.recording_poll = 0s)");
        return;
    }
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let my_turn = match &cache {
            Some(cache) => cache.set_if_absent(RECORDING_POLL_TURN, "1".into(), every).await.unwrap_or(true),
            None => true,
        };
        if !my_turn {
            continue;
        }
        match api.poll_recordings(kalcord_store::now(), config.recording_poll_window, config.notification_quiet).await {
            Ok(polled) if polled.recorded > 0 => tracing::info!(
                meetings = polled.meetings,
                recorded = polled.recorded,
                "recordings found by polling Kaltura"
            ),
            Ok(polled) => tracing::debug!(meetings = polled.meetings, "no new recording in Kaltura"),
            Err(err) => {
                tracing::warn!(error = %kalcord_runtime::chain(&err), "cannot poll Kaltura for recordings; retrying");
            }
        }
    }
}
