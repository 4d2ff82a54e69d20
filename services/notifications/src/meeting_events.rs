//! Meeting events (`meetings.events.>`, stream `MEETINGS_EVENTS`) posted to the guild's
//! notification channel, each exactly once.
//!
//! Each post is claimed in `notification_post` (key: the event id) before it is sent, and sent
//! with a Discord `nonce` derived from that key and `enforce_nonce`, so a redelivery after a
//! crash between sending and marking gets Discord's first message back instead of a second
//! post. A post already `sent` (or `failed`) is acknowledged without a call to Discord.
//!
//! Discord errors that may pass (5xx, 429, timeouts) put the event back with a growing delay;
//! after the consumer's `max_deliveries` it lands on the dead-letter subject. A channel that is
//! gone or closed to the bot (403, 404) fails the post for good: logged, marked, acknowledged.

use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::spec::{self, ConsumerSpec, StreamSpec};
use kalcord_bus::{BusError, Consumer, Delivery};
use kalcord_discord::egress::{EgressError, MessageRef, Method};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::MeetingEvent;
use kalcord_store::StoreError;
use kalcord_store::entity::guild;
use kalcord_store::entity::notification_post::{self, PostState};
use kalcord_store::entity::participant;
use kalcord_store::repo::guilds;
use kalcord_store::repo::notification_posts::{self, NewPost};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::post::{self, Extra};

/// Durable consumer every notifications replica shares.
pub const DURABLE: &str = "notifications-meetings";
/// Stream of meeting events.
const STREAM: &str = "MEETINGS_EVENTS";

/// What became of one event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Posted now.
    Posted,
    /// Posted before (a redelivery) or given up before: nothing sent.
    Done,
    /// Nothing to post (kind, no channel, inactive guild).
    Skipped,
    /// Discord refused it for good; marked `failed`.
    Failed,
}

/// Why an event was not handled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    /// The payload is not a meeting event; a retry cannot help.
    #[error("malformed meeting event: {0}")]
    Malformed(&'static str),
    /// The store failed (retried).
    #[error("store unavailable")]
    Store(#[from] StoreError),
    /// Discord failed for now (retried).
    #[error("discord unavailable")]
    Discord(#[source] EgressError),
    /// Another replica is bringing the same meeting up to date; its lease ends within this
    /// (retried then).
    #[error("the meeting is being updated by another replica")]
    Busy(Duration),
    /// A call to Discord took too long (rate limits); retried.
    #[error("discord too slow")]
    Slow,
}

impl From<sea_orm::DbErr> for EventError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Store(err.into())
    }
}

/// Binds the consumer of meeting events (declaring the stream when the bus has not).
///
/// # Errors
///
/// When the bus refuses the stream or the consumer.
pub(crate) async fn bind(app: &App) -> Result<Consumer, BusError> {
    let stream = spec::streams()
        .into_iter()
        .find(|stream| stream.name == STREAM)
        .unwrap_or_else(|| StreamSpec::new(STREAM, &[subject::MEETINGS_EVENTS]));
    app.deps.bus.ensure_stream(&stream).await?;
    let mut consumer = ConsumerSpec::new(STREAM, DURABLE, subject::MEETINGS_EVENTS);
    consumer.ack_wait = app.config.ack_wait;
    consumer.max_deliveries = app.config.max_deliveries;
    app.deps.bus.consume(&consumer).await
}

/// Posts meeting events until `shutdown`; the events in flight are finished first.
pub(crate) async fn run(app: Arc<App>, consumer: Consumer, shutdown: CancellationToken) {
    let concurrency = app.config.concurrency;
    kalcord_bus::worker::drive(consumer, shutdown, concurrency, |delivery| {
        let app = Arc::clone(&app);
        async move { handle(&app, delivery).await }
    })
    .await;
}

/// Handles one delivery and settles it: ack, term (malformed) or nak with a delay.
async fn handle(app: &App, delivery: Delivery) {
    let span = tracing::info_span!("meeting_event", subject = %delivery.subject, sequence = delivery.sequence, attempt = delivery.attempt);
    delivery.message.follow(&span);
    let outcome = tracing::Instrument::instrument(app.meeting_event(&delivery.message.payload), span).await;
    match outcome {
        Ok(_) => settle(delivery.ack().await, "ack"),
        Err(EventError::Malformed(reason)) => {
            tracing::warn!(subject = %delivery.subject, sequence = delivery.sequence, reason, "malformed meeting event dropped");
            settle(delivery.term().await, "term");
        }
        Err(err) => {
            let delay = app.retry_delay(delivery.attempt, &err);
            tracing::warn!(
                subject = %delivery.subject, attempt = delivery.attempt, delay_ms = delay.as_millis(),
                error = %kalcord_runtime::chain(&err), "meeting event not posted; retrying"
            );
            settle(delivery.nak(Some(delay)).await, "nak");
        }
    }
}

fn settle(result: Result<(), BusError>, what: &'static str) {
    if let Err(err) = result {
        // NOTE: an unsettled event comes back after ack_wait; the claimed row and the nonce
        // keep it from posting twice.
        tracing::warn!(error = %err, what, "meeting event not settled");
    }
}

/// Whether Discord's refusal is for good (the channel is gone or closed to the bot, or the
/// body is refused): retrying would only spend the invalid-request budget.
pub(crate) fn permanent(err: &EgressError) -> bool {
    matches!(err, EgressError::Discord { status, .. } if (400..500).contains(status) && *status != 429 && *status != 401)
}

impl App {
    /// Handles one encoded meeting event: its post (when the guild wants it), then the
    /// meeting's announcement and scheduled event.
    pub(crate) async fn meeting_event(&self, payload: &[u8]) -> Result<Outcome, EventError> {
        let event = MeetingEvent::decode(payload).map_err(|_| EventError::Malformed("not a MeetingEvent"))?;
        let meeting = event.meeting.as_ref().ok_or(EventError::Malformed("no meeting"))?;
        let guild =
            i64::try_from(meeting.guild_id).ok().filter(|id| *id > 0).ok_or(EventError::Malformed("guild id"))?;
        let key = event.event_id.as_str();
        if key.is_empty() || key.len() > 128 {
            return Err(EventError::Malformed("event id"));
        }
        let db = self.store.connection();
        let Some(guild) = guilds::get(db, guild).await? else {
            tracing::debug!(guild_id = guild, kind = %event.kind, "unknown guild; not posted");
            return Ok(Outcome::Skipped);
        };
        if !guild.active {
            // NOTE: the bot was removed: nothing is posted there, now or on a redelivery.
            if notification_posts::get(db, key).await?.is_some() {
                notification_posts::mark_failed(db, key).await?;
            }
            tracing::info!(guild_id = guild.id, kind = %event.kind, "guild inactive; not posted");
            return Ok(Outcome::Skipped);
        }
        let outcome = self.post_event(&event, &guild).await?;
        if post::changes_the_meeting(&event) {
            self.sync_meeting(meeting, &guild).await?;
        }
        Ok(outcome)
    }

    /// Posts the event in the guild's channel once, unless the guild turned its kind off or has
    /// no channel.
    async fn post_event(&self, event: &MeetingEvent, guild: &guild::Model) -> Result<Outcome, EventError> {
        let key = event.event_id.as_str();
        let db = self.store.connection();
        let claimed = notification_posts::get(db, key).await?;
        if claimed.as_ref().is_some_and(|row| row.state != PostState::Pending) {
            return Ok(Outcome::Done);
        }
        let row = if let Some(row) = claimed {
            // NOTE: claimed before a crash: it may have reached Discord, so it is finished
            // (the nonce makes a second send return the first message) whatever changed since.
            row
        } else if !post::posts(event) || guild.mutes(&event.kind) {
            return Ok(Outcome::Skipped);
        } else if let Some(channel_id) = guild.notification_channel_id {
            let new =
                NewPost { idempotency_key: key.to_owned(), guild_id: guild.id, channel_id, kind: event.kind.clone() };
            notification_posts::claim(db, new).await?
        } else {
            tracing::debug!(guild_id = guild.id, kind = %event.kind, "no notification channel; not posted");
            return Ok(Outcome::Skipped);
        };
        if row.state != PostState::Pending {
            return Ok(Outcome::Done);
        }
        let mention = guild.mention_role_id.and_then(|role| u64::try_from(role).ok());
        self.send(event, &row, mention).await
    }

    /// Sends a claimed post and settles its row: `sent`, `failed` (refused for good), or left
    /// `pending` for the retry.
    async fn send(
        &self,
        event: &MeetingEvent,
        row: &notification_post::Model,
        mention: Option<u64>,
    ) -> Result<Outcome, EventError> {
        let extra = Extra { joined: self.joined(event).await?, mention };
        let Some(message) = post::render(event, extra) else { return Ok(Outcome::Skipped) };
        let key = row.idempotency_key.as_str();
        let body = post::body(&message, &post::nonce(key));
        let path = format!("channels/{}/messages", row.channel_id);
        let db = self.store.connection();
        let (guild, channel, kind) = (row.guild_id, row.channel_id, &event.kind);
        match self.egress.request::<MessageRef>(Method::Post, &path, Some(&body)).await {
            Ok(sent) => {
                let message_id = sent.id.parse::<i64>().unwrap_or_default();
                notification_posts::mark_sent(db, key, message_id).await?;
                tracing::info!(guild_id = guild, channel_id = channel, %kind, message_id, "posted");
                Ok(Outcome::Posted)
            }
            Err(err) if permanent(&err) => {
                tracing::warn!(
                    guild_id = guild, channel_id = channel, %kind, error = %err,
                    "discord refused the post for good; check the notification channel and the bot's permissions there"
                );
                notification_posts::mark_failed(db, key).await?;
                Ok(Outcome::Failed)
            }
            Err(err) => Err(EventError::Discord(err)),
        }
    }

    /// For `ended`: how many members joined the meeting (one count query).
    async fn joined(&self, event: &MeetingEvent) -> Result<Option<u64>, EventError> {
        if event.kind != "ended" {
            return Ok(None);
        }
        let Some(id) = event.meeting.as_ref().and_then(|meeting| uuid::Uuid::parse_str(&meeting.id).ok()) else {
            return Ok(None);
        };
        let count = participant::Entity::find()
            .filter(participant::Column::MeetingId.eq(id))
            .count(self.store.connection())
            .await?;
        Ok(Some(count))
    }

    /// Delay before the `attempt`th delivery comes back: doubling from `retry_delay` up to
    /// `max_retry_delay`, and never shorter than Discord's `retry_after`.
    pub(crate) fn retry_delay(&self, attempt: u32, err: &EventError) -> Duration {
        let doubled = self.config.retry_delay.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let delay = doubled.min(self.config.max_retry_delay);
        match err {
            EventError::Discord(EgressError::RateLimited { retry_after_ms, .. }) => {
                delay.max(Duration::from_millis(*retry_after_ms))
            }
            // NOTE: the holder usually gives the meeting back within a few calls, so look again
            // soon, backing off (half a second, doubling) but never past the end of its lease: a
            // crashed holder's lease runs out long before the deliveries do.
            EventError::Busy(until) => {
                let backoff = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(10));
                if until.is_zero() {
                    backoff.min(Duration::from_secs(2))
                } else {
                    backoff.min(*until + Duration::from_millis(100))
                }
            }
            _ => delay,
        }
    }
}
