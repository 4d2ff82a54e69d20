//! A meeting's Discord objects kept in step with the meeting, from the snapshots its events
//! carry: the announcement message (edited as the meeting goes live, changes or ends) and the
//! Discord scheduled event mirroring a scheduled meeting (created, updated, started, completed or
//! cancelled with it).
//!
//! One replica at a time works on a meeting (a lease in `meeting_sync`), and each object records
//! the meeting version it shows, so an older event delivered late never undoes a newer one. A
//! scheduled event is marked `creating` before it is created: after a crash between Discord's
//! answer and the record, the next attempt finds the event by its location instead of creating
//! a second one.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kalcord_discord::egress::{EgressError, Method};
use kalcord_proto::v1::Meeting;
use kalcord_store::entity::meeting_sync::{EventState, Model as Synced};
use kalcord_store::entity::{guild, meeting};
use kalcord_store::repo::meeting_syncs::{self, Progress};
use sea_orm::{EntityTrait as _, PaginatorTrait as _};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::App;
use crate::meeting_events::{EventError, permanent};
use crate::scheduled_event::{self, status};

/// How long one replica may hold a meeting; renewed before every call to Discord.
const LEASE: Duration = Duration::from_mins(3);
/// Longest one call to Discord may take (rate-limit waits and retries included) under the
/// lease: well inside it, so a lease never runs out while its holder is still calling.
const CALL_LIMIT: Duration = Duration::from_mins(1);
/// Discord refuses events starting in the past; one starting sooner than this is not created.
const CREATE_AHEAD_MS: i64 = 60_000;

/// What a call to Discord came to.
enum Answer<T> {
    /// Done.
    Done(T),
    /// Refused for good (the object is gone, or the bot may not touch it).
    Refused(EgressError),
}

fn answer<T>(result: Result<T, EgressError>) -> Result<Answer<T>, EventError> {
    match result {
        Ok(value) => Ok(Answer::Done(value)),
        Err(err) if permanent(&err) => Ok(Answer::Refused(err)),
        Err(err) => Err(EventError::Discord(err)),
    }
}

impl App {
    /// Brings the announcement and scheduled event of `meeting` up to its version.
    pub(crate) async fn sync_meeting(&self, meeting: &Meeting, guild: &guild::Model) -> Result<(), EventError> {
        let Ok(id) = Uuid::parse_str(&meeting.id) else { return Err(EventError::Malformed("meeting id")) };
        let db = self.store.connection();
        if meeting.version <= 0 || meeting::Entity::find_by_id(id).count(db).await? == 0 {
            tracing::debug!(meeting = %id, "no such meeting (deleted, or not from the meetings service); nothing to keep in step");
            return Ok(());
        }
        // NOTE: one owner per call, not per replica: two events of the same meeting handled at
        // once by one replica must not both hold the lease.
        let owner = format!("{}:{}", self.lease_owner, self.leases.fetch_add(1, Ordering::Relaxed));
        let Some(synced) = meeting_syncs::acquire(db, id, guild.id, &owner, LEASE).await? else {
            let until = meeting_syncs::get(db, id).await?.and_then(|row| row.lease_until);
            let wait =
                until.map_or(Duration::ZERO, |until| (until - kalcord_store::now()).to_std().unwrap_or_default());
            return Err(EventError::Busy(wait));
        };
        let work = Work { app: self, guild: guild.id, id, owner: &owner };
        let result = work.sync(meeting, guild, &synced).await;
        if let Err(err) = meeting_syncs::release(db, id, &owner).await {
            tracing::warn!(meeting = %id, error = %err, "meeting lease not released; it expires on its own");
        }
        result
    }
}

/// One call's work on one meeting, under its lease.
struct Work<'a> {
    app: &'a App,
    guild: i64,
    id: Uuid,
    owner: &'a str,
}

impl Work<'_> {
    async fn sync(&self, meeting: &Meeting, guild: &guild::Model, synced: &Synced) -> Result<(), EventError> {
        if meeting.version > synced.announcement_version {
            self.sync_announcement(meeting).await?;
        }
        if meeting.version > synced.event_version {
            self.sync_event(meeting, guild, synced).await?;
        }
        Ok(())
    }

    /// Records progress; a lost lease stops the work (another replica carries on).
    async fn record(&self, progress: Progress) -> Result<(), EventError> {
        if meeting_syncs::record(self.app.store.connection(), self.id, self.owner, progress).await? {
            Ok(())
        } else {
            Err(EventError::Busy(Duration::ZERO))
        }
    }

    /// One call to Discord: the lease renewed first (a lost one stops the work), the call bounded
    /// by [`CALL_LIMIT`] so it ends while the lease still holds.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer<Value>, EventError> {
        let db = self.app.store.connection();
        if meeting_syncs::acquire(db, self.id, self.guild, self.owner, LEASE).await?.is_none() {
            return Err(EventError::Busy(Duration::ZERO));
        }
        match tokio::time::timeout(CALL_LIMIT, self.app.egress.request::<Value>(method, path, body)).await {
            Ok(result) => answer(result),
            Err(_) => Err(EventError::Slow),
        }
    }

    /// Edits the message that announced the meeting (`/meeting start|schedule`) to show it as it
    /// is now: buttons while it can be joined, none once it is over.
    async fn sync_announcement(&self, meeting: &Meeting) -> Result<(), EventError> {
        let (channel, message) = (meeting.discord_channel_id, meeting.discord_message_id);
        if channel != 0 && message != 0 {
            let view = serde_json::to_value(kalcord_view::announcement(meeting)).unwrap_or_default();
            let path = format!("channels/{channel}/messages/{message}");
            if let Answer::Refused(err) = self.call(Method::Patch, &path, Some(&view)).await? {
                tracing::info!(meeting = %self.id, error = %err, "the announcement of a meeting can no longer be edited");
            }
        }
        self.record(Progress { announcement_version: Some(meeting.version), ..Progress::default() }).await
    }

    /// Creates, updates or moves the status of the meeting's scheduled event.
    async fn sync_event(&self, meeting: &Meeting, guild: &guild::Model, synced: &Synced) -> Result<(), EventError> {
        let done = |state: Option<EventState>| Progress {
            event_version: Some(meeting.version),
            event_state: state,
            ..Progress::default()
        };
        let scheduled = meeting.scheduled_start_unix_ms > 0;
        let Some(target) = scheduled_event::target_status(meeting) else { return self.record(done(None)).await };
        if !scheduled || synced.event_state == EventState::Gone {
            return self.record(done(None)).await;
        }
        let location =
            scheduled_event::location(self.app.deps.common.discord.launch_url(guild_id(guild), &meeting.id), meeting);
        let mut linked = synced.event_id.zip(synced.event_status);
        if linked.is_none() && synced.event_state == EventState::Creating {
            linked = self.find_event(guild.id, &location).await?;
            if let Some((event, current)) = linked {
                tracing::info!(meeting = %self.id, event, "found the scheduled event created before an interruption");
                let found = Progress {
                    event_id: Some(Some(event)),
                    event_status: Some(Some(current)),
                    event_state: Some(EventState::Linked),
                    ..Progress::default()
                };
                self.record(found).await?;
            }
        }
        let Some((event, current)) = linked else {
            if !guild.scheduled_events || target != status::SCHEDULED {
                return self.record(done(Some(EventState::None))).await;
            }
            return self.create_event(meeting, guild.id, &location).await;
        };
        let path = format!("guilds/{}/scheduled-events/{event}", guild.id);
        if target == status::SCHEDULED && current == status::SCHEDULED {
            let fields = scheduled_event::fields(meeting, &location);
            if let Answer::Refused(err) = self.call(Method::Patch, &path, Some(&fields)).await? {
                return self.event_refused(meeting, &err).await;
            }
        }
        let mut now = current;
        let mut looked = false;
        loop {
            let mut refused = None;
            for step in scheduled_event::steps(now, target) {
                match self.call(Method::Patch, &path, Some(&json!({ "status": step }))).await? {
                    Answer::Done(_) => {
                        now = step;
                        // NOTE: each step is recorded, so a retry goes on from where this one got.
                        self.record(Progress { event_status: Some(Some(now)), ..Progress::default() }).await?;
                    }
                    Answer::Refused(err) => {
                        refused = Some(err);
                        break;
                    }
                }
            }
            let Some(err) = refused else { break };
            // NOTE: refused: the event moved in Discord (someone changed it by hand); read where
            // it is and try once more from there.
            let found = if looked { None } else { self.event_status(&path).await? };
            match found {
                Some(status) if status != now => {
                    looked = true;
                    now = status;
                    self.record(Progress { event_status: Some(Some(now)), ..Progress::default() }).await?;
                }
                _ => return self.event_refused(meeting, &err).await,
            }
        }
        tracing::debug!(meeting = %self.id, event, status = now, "scheduled event in step");
        self.record(Progress { event_status: Some(Some(now)), ..done(None) }).await
    }

    /// The status Discord shows for the event at `path`, if it can be read.
    async fn event_status(&self, path: &str) -> Result<Option<i16>, EventError> {
        match self.call(Method::Get, path, None).await? {
            Answer::Done(event) => Ok(event["status"].as_i64().and_then(|status| i16::try_from(status).ok())),
            Answer::Refused(_) => Ok(None),
        }
    }

    /// Creates the event, marked `creating` first.
    async fn create_event(&self, meeting: &Meeting, guild: i64, location: &str) -> Result<(), EventError> {
        let done = Progress { event_version: Some(meeting.version), ..Progress::default() };
        if meeting.scheduled_start_unix_ms < kalcord_store::now().timestamp_millis() + CREATE_AHEAD_MS {
            tracing::debug!(meeting = %self.id, "starts too soon for a scheduled event");
            return self.record(done).await;
        }
        self.record(Progress { event_state: Some(EventState::Creating), ..Progress::default() }).await?;
        let path = format!("guilds/{guild}/scheduled-events");
        let body = scheduled_event::create_body(meeting, location);
        match self.call(Method::Post, &path, Some(&body)).await? {
            Answer::Done(created) => {
                let event = created["id"].as_str().and_then(|id| id.parse::<i64>().ok());
                let Some(event) = event else {
                    return Err(EventError::Discord(EgressError::Decode("a scheduled event without an id".to_owned())));
                };
                tracing::info!(meeting = %self.id, guild_id = guild, event, "scheduled event created");
                let linked = Progress {
                    event_id: Some(Some(event)),
                    event_status: Some(Some(status::SCHEDULED)),
                    event_state: Some(EventState::Linked),
                    ..done
                };
                self.record(linked).await
            }
            Answer::Refused(err) => {
                tracing::warn!(meeting = %self.id, guild_id = guild, error = %err, "discord refused the scheduled event; check the bot's Create Events permission");
                self.record(Progress { event_state: Some(EventState::None), ..done }).await
            }
        }
    }

    /// An event Discord refuses to change: gone (deleted by someone) or no longer ours to move.
    async fn event_refused(&self, meeting: &Meeting, err: &EgressError) -> Result<(), EventError> {
        let gone = matches!(err, EgressError::Discord { status: 404, .. });
        tracing::info!(meeting = %self.id, error = %err, gone, "the scheduled event of a meeting can no longer be changed");
        let state = if gone { Some(EventState::Gone) } else { None };
        self.record(Progress { event_version: Some(meeting.version), event_state: state, ..Progress::default() }).await
    }

    /// The guild's event at `location` (id, status), if Discord has one.
    async fn find_event(&self, guild: i64, location: &str) -> Result<Option<(i64, i16)>, EventError> {
        let path = format!("guilds/{guild}/scheduled-events");
        match self.call(Method::Get, &path, None).await? {
            Answer::Done(events) => Ok(scheduled_event::find(&events, location)),
            Answer::Refused(_) => Ok(None),
        }
    }
}

fn guild_id(guild: &guild::Model) -> u64 {
    u64::try_from(guild.id).unwrap_or_default()
}
