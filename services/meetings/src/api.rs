//! What the service answers, callable without the bus: one method per `meetings.*` subject.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use kalcord_bus::{BusExt as _, SharedBus};
use kalcord_kaltura::{Client, Room, RoomKind, RoomSpec, Schedule, Webinar, WebinarSpec};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    Actor, AttachMessageRequest, AuditVerifyReply, AuditVerifyRequest, CreateMeetingRequest, EndMeetingRequest,
    GetMeetingRequest, ListMeetingsReply, ListMeetingsRequest, MeetingReply, MeetingRole, RoleReply, RoleRequest,
    UpdateMeetingRequest, meeting_reply,
};
use kalcord_store::audit::{self, NewAuditEntry};
use kalcord_store::entity::{MeetingKind, MeetingStatus, audit_log, meeting};
use kalcord_store::repo::{guilds, meetings};
use kalcord_store::{Backend, Store, StoreError};
use kalcord_tenant::Tenants;
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
use sea_orm::{
    ColumnTrait as _, Condition, DatabaseTransaction, EntityTrait as _, IntoActiveModel as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, SqliteTransactionMode, TransactionOptions,
    TransactionTrait as _,
};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::convert::{self, Cursor};
use crate::event::{self, Change, EventKind};
use crate::failure::{Failure, ONLY_HOSTS_MESSAGE, code};
use crate::lifecycle::{self, Transition};
use crate::validate;

mod recording;
mod recording_poll;
mod reminder;

pub use recording::{Applied, WebhookError};
pub use recording_poll::Polled;

/// Default page size of `meetings.list`.
pub const DEFAULT_PAGE: u32 = 25;
/// Largest page size of `meetings.list`.
pub const MAX_PAGE: u32 = 100;
/// Discord's `MANAGE_GUILD` permission bit.
pub const MANAGE_GUILD: u64 = 1 << 5;
/// Discord's `ADMINISTRATOR` permission bit.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// How often `attach_message` retries after a concurrent update.
const ATTACH_ATTEMPTS: u32 = 3;

/// The acting member, checked: ids fit the store's columns.
#[derive(Clone, Debug)]
struct Who {
    actor: Actor,
    guild: i64,
    user: i64,
}

impl Who {
    fn audit_actor(&self) -> String {
        format!("discord:{}", self.actor.user_id)
    }
}

/// Kaltura objects created for a meeting, kept to undo them when the row is not written.
#[derive(Debug)]
enum Created {
    Room(Room),
    Webinar(Webinar),
}

impl Created {
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::Room(room) => Some(room.resource.id.to_string()),
            Self::Webinar(_) => None,
        }
    }

    fn event_id(&self) -> Option<String> {
        match self {
            Self::Room(room) => room.event.as_ref().map(|event| event.id.to_string()),
            Self::Webinar(webinar) => Some(webinar.event.id.to_string()),
        }
    }

    fn entry_id(&self) -> Option<String> {
        match self {
            Self::Room(_) => None,
            Self::Webinar(webinar) => Some(webinar.entry.id.clone()),
        }
    }

    /// Deletes what was created; failures are logged (an orphan room is harmless).
    async fn undo(&self, client: &Client) {
        let result = match self {
            Self::Room(room) => client.delete_room(room).await,
            Self::Webinar(webinar) => client.delete_webinar(webinar).await,
        };
        match result {
            Ok(()) => tracing::info!(
                resource = ?self.resource_id(),
                entry = ?self.entry_id(),
                "kaltura objects of an unsaved meeting deleted"
            ),
            Err(err) => tracing::warn!(error = %err, "cannot delete the kaltura objects of an unsaved meeting"),
        }
    }
}

/// The meetings logic over a bus (for `identity.role`), a store and the guilds' Kaltura
/// partners. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MeetingsApi {
    bus: SharedBus,
    identity_timeout: Duration,
    relay: Arc<Notify>,
    store: Store,
    tenants: Tenants,
}

impl MeetingsApi {
    /// The API; `identity_timeout` bounds each `identity.role` question.
    #[must_use]
    pub fn new(bus: SharedBus, store: Store, tenants: Tenants, identity_timeout: Duration) -> Self {
        Self { bus, identity_timeout, relay: Arc::new(Notify::new()), store, tenants }
    }

    /// What wakes the outbox relay after a change with its event commits.
    #[must_use]
    pub fn relay_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.relay)
    }

    /// Wakes the relay: an event was just committed to the outbox.
    fn wake_relay(&self) {
        self.relay.notify_one();
    }

    /// Answers one request on `subject` (a `meetings.*` subject) with the encoded reply;
    /// an unreadable payload gets an `invalid` error.
    pub async fn handle(&self, subject: &str, payload: &[u8]) -> Vec<u8> {
        match subject {
            subject::MEETINGS_CREATE => match decode(payload) {
                Ok(request) => self.create(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_GET => match decode(payload) {
                Ok(request) => self.get(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_LIST => match decode(payload) {
                Ok(request) => self.list(request).await,
                Err(failure) => ListMeetingsReply { error: Some(failure.into()), ..ListMeetingsReply::default() },
            }
            .encode_to_vec(),
            subject::MEETINGS_UPDATE => match decode(payload) {
                Ok(request) => self.update(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_END => match decode(payload) {
                Ok(request) => self.end(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_CANCEL => match decode(payload) {
                Ok(request) => self.cancel(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_ATTACH_MESSAGE => match decode(payload) {
                Ok(request) => self.attach_message(request).await,
                Err(failure) => failed(failure),
            }
            .encode_to_vec(),
            subject::MEETINGS_AUDIT_VERIFY => match decode(payload) {
                Ok(request) => self.verify_audit(request).await,
                Err(failure) => AuditVerifyReply { error: Some(failure.into()), ..AuditVerifyReply::default() },
            }
            .encode_to_vec(),
            other => {
                tracing::warn!(subject = other, "request on a subject the meetings service does not serve");
                failed(Failure::invalid("subject", "This request is not something the meetings service answers."))
                    .encode_to_vec()
            }
        }
    }

    /// `meetings.create`: creates the Kaltura objects, then the meeting (idempotently).
    pub async fn create(&self, request: CreateMeetingRequest) -> MeetingReply {
        match self.try_create(request).await {
            Ok((model, replayed)) => {
                MeetingReply { result: Some(meeting_reply::Result::Meeting(convert::meeting(&model))), replayed }
            }
            Err(failure) => failed(failure),
        }
    }

    /// `meetings.get`: a meeting of the actor's guild.
    pub async fn get(&self, request: GetMeetingRequest) -> MeetingReply {
        let result = async {
            let who = who(request.actor.as_ref())?;
            self.start_due(who.guild).await;
            self.load(who.guild, &request.meeting_id).await
        };
        answer(result.await)
    }

    /// `meetings.list`: the actor's guild's meetings, newest first, a page at a time.
    pub async fn list(&self, request: ListMeetingsRequest) -> ListMeetingsReply {
        if let Ok(who) = who(request.actor.as_ref()) {
            self.start_due(who.guild).await;
        }
        match self.try_list(&request).await {
            Ok((models, next)) => ListMeetingsReply {
                meetings: models.iter().map(convert::meeting).collect(),
                next_cursor: next.map(|cursor| cursor.encode()).unwrap_or_default(),
                error: None,
            },
            Err(failure) => ListMeetingsReply { error: Some(failure.into()), ..ListMeetingsReply::default() },
        }
    }

    /// `meetings.update`: changes the fields that are set, while the meeting is not over.
    pub async fn update(&self, request: UpdateMeetingRequest) -> MeetingReply {
        answer(self.try_update(request).await)
    }

    /// `meetings.end`: a LIVE meeting ends.
    pub async fn end(&self, request: EndMeetingRequest) -> MeetingReply {
        answer(self.transition(request, Transition::End).await)
    }

    /// `meetings.cancel`: a SCHEDULED meeting is cancelled (and its Kaltura event too).
    pub async fn cancel(&self, request: EndMeetingRequest) -> MeetingReply {
        answer(self.transition(request, Transition::Cancel).await)
    }

    /// `meetings.attach_message`: records where the meeting was announced.
    pub async fn attach_message(&self, request: AttachMessageRequest) -> MeetingReply {
        answer(self.try_attach(request).await)
    }

    /// `meetings.audit.verify`: checks the audit log's hash chain (needs Manage Server).
    pub async fn verify_audit(&self, request: AuditVerifyRequest) -> AuditVerifyReply {
        match self.try_verify(request).await {
            Ok(reply) => reply,
            Err(failure) => AuditVerifyReply { error: Some(failure.into()), ..AuditVerifyReply::default() },
        }
    }

    async fn try_create(&self, request: CreateMeetingRequest) -> Result<(meeting::Model, bool), Failure> {
        let who = who(request.actor.as_ref())?;
        let now = kalcord_store::now();
        let mut failures = Vec::new();
        let kind = keep(validate::kind(request.kind), &mut failures);
        let title = keep(validate::title(&request.title), &mut failures);
        let description = keep(validate::description(&request.description), &mut failures);
        let start = keep(validate::scheduled_start(request.scheduled_start_unix_ms, now), &mut failures);
        let duration = keep(validate::duration(request.duration_minutes), &mut failures);
        let key = keep(validate::idempotency_key(&request.idempotency_key), &mut failures);
        let values = keep(validate::custom_fields_json(&request.custom_fields_json), &mut failures);
        let channel = keep(snowflake("channel_id", request.channel_id), &mut failures);
        let (
            Some(kind),
            Some(title),
            Some(description),
            Some(start),
            Some(duration),
            Some(key),
            Some(values),
            Some(channel),
        ) = (kind, title, description, start, duration, key, values, channel)
        else {
            return Err(invalid_all(failures));
        };

        if !self.has_host_role(&who.actor).await? {
            return Err(Failure::forbidden(ONLY_HOSTS_MESSAGE));
        }
        let db = self.store.connection();
        if let Some(existing) =
            meetings::find_by_idempotency_key(db, who.guild, &key).await.map_err(|err| Failure::store(&err))?
        {
            tracing::debug!(meeting = %existing.id, "meeting creation replayed");
            return Ok((existing, true));
        }
        let guild = self.ensure_guild(who.guild).await?;
        validate::custom_fields(&validate::field_definitions(&guild.custom_field_definitions), &values)?;

        let (client, _) = self.tenants.client(who.actor.guild_id).await.map_err(|err| Failure::from_tenant(&err))?;
        let begins = start.unwrap_or(now);
        let schedule =
            Schedule { start: begins.timestamp(), end: (begins + TimeDelta::minutes(i64::from(duration))).timestamp() };
        let reference = reference_id(who.guild, &key);
        let created = create_in_kaltura(&client, kind, &title, description.as_deref(), schedule, reference)
            .await
            .map_err(|err| Failure::from_kaltura(&err))?;

        let new = meetings::NewMeeting {
            guild_id: who.guild,
            kind,
            title: title.clone(),
            description,
            scheduled_start: start,
            scheduled_end: Some(begins + TimeDelta::minutes(i64::from(duration))),
            host_discord_user_id: who.user,
            custom_fields: values,
            idempotency_key: Some(key),
        };
        let saved = self.save_new(&who, new, start.is_none(), channel, &created, duration).await;
        match saved {
            Ok((model, true)) => Ok((model, false)),
            Ok((winner, false)) => {
                tracing::info!(meeting = %winner.id, "lost a creation race on the idempotency key; undoing kaltura objects");
                created.undo(&client).await;
                Ok((winner, true))
            }
            Err(failure) => {
                created.undo(&client).await;
                Err(failure)
            }
        }
    }

    /// Inserts the meeting with its Kaltura ids and the audit entry in one transaction; the
    /// flag says whether this call created it (else the returned row is the race's winner).
    async fn save_new(
        &self,
        who: &Who,
        new: meetings::NewMeeting,
        live: bool,
        channel: Option<i64>,
        created: &Created,
        duration: u32,
    ) -> Result<(meeting::Model, bool), Failure> {
        let txn = self.begin().await?;
        let result = async {
            let (row, inserted) = meetings::create_idempotent(&txn, new).await?;
            if !inserted {
                return Ok((row, false));
            }
            let mut changes = row.into_active_model();
            changes.kaltura_resource_id = Set(created.resource_id());
            changes.kaltura_event_id = Set(created.event_id());
            changes.kaltura_entry_id = Set(created.entry_id());
            changes.discord_channel_id = Set(channel);
            if live {
                changes.status = Set(MeetingStatus::Live);
                changes.actual_start = Set(Some(kalcord_store::now()));
            }
            let row = meetings::update(&txn, changes).await?;
            let details = json!({
                "kind": row.kind,
                "title": row.title,
                "status": row.status,
                "scheduled_start_unix_ms": row.scheduled_start.map(|at| at.timestamp_millis()),
                "duration_minutes": duration,
                "kaltura_resource_id": row.kaltura_resource_id,
                "kaltura_event_id": row.kaltura_event_id,
                "kaltura_entry_id": row.kaltura_entry_id,
            });
            audit::append(&txn, entry(who, "meeting.create", row.id, details)).await?;
            let kind = if live { EventKind::Started } else { EventKind::Scheduled };
            event::record(&txn, kind, &row, Change { actor_user_id: Some(who.user), ..Change::default() }).await?;
            Ok::<_, StoreError>((row, true))
        }
        .await;
        let saved = finish(txn, result).await?;
        if saved.1 {
            self.wake_relay();
        }
        Ok(saved)
    }

    async fn try_list(&self, request: &ListMeetingsRequest) -> Result<(Vec<meeting::Model>, Option<Cursor>), Failure> {
        use meeting::Column;

        let who = who(request.actor.as_ref())?;
        let mut query = meeting::Entity::find().filter(Column::GuildId.eq(who.guild));
        let mut statuses = Vec::with_capacity(request.statuses.len());
        for &value in &request.statuses {
            statuses.push(
                convert::stored_status(value)
                    .ok_or_else(|| Failure::invalid("statuses", "One of the statuses is not a meeting status."))?,
            );
        }
        if !statuses.is_empty() {
            query = query.filter(Column::Status.is_in(statuses));
        }
        if request.from_unix_ms != 0 {
            let from = instant("from_unix_ms", request.from_unix_ms)?;
            query = query.filter(
                Condition::any()
                    .add(Column::ScheduledStart.gte(from))
                    .add(Condition::all().add(Column::ScheduledStart.is_null()).add(Column::ActualStart.gte(from))),
            );
        }
        if request.to_unix_ms != 0 {
            let to = instant("to_unix_ms", request.to_unix_ms)?;
            query = query.filter(
                Condition::any()
                    .add(Column::ScheduledStart.lt(to))
                    .add(Condition::all().add(Column::ScheduledStart.is_null()).add(Column::ActualStart.lt(to))),
            );
        }
        let needle = request.title_contains.trim();
        if !needle.is_empty() {
            let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
            query = query
                .filter(Expr::expr(Func::lower(Expr::col(Column::Title))).like(LikeExpr::new(pattern).escape('\\')));
        }
        if request.channel_id != 0 {
            let channel = snowflake("channel_id", request.channel_id)?.unwrap_or_default();
            query = query.filter(Column::DiscordChannelId.eq(channel));
        }
        if !request.cursor.is_empty() {
            let cursor = Cursor::decode(&request.cursor).ok_or_else(|| {
                Failure::invalid("cursor", "This page link is not valid any more; start the list again.")
            })?;
            query = query.filter(
                Condition::any()
                    .add(Column::CreatedAt.lt(cursor.created_at))
                    .add(Condition::all().add(Column::CreatedAt.eq(cursor.created_at)).add(Column::Id.lt(cursor.id))),
            );
        }
        let limit = match request.limit {
            0 => DEFAULT_PAGE,
            limit => Ord::min(limit, MAX_PAGE),
        };
        let mut models = query
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(u64::from(limit) + 1)
            .all(self.store.connection())
            .await
            .map_err(|err| Failure::store(&err.into()))?;
        let page = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if models.len() > page {
            models.truncate(page);
            models.last().map(Cursor::after)
        } else {
            None
        };
        Ok((models, next))
    }

    async fn try_update(&self, request: UpdateMeetingRequest) -> Result<meeting::Model, Failure> {
        let who = who(request.actor.as_ref())?;
        let model = self.load(who.guild, &request.meeting_id).await?;
        self.authorize_for(&who, &model, "Only the meeting's host or members with the host role can change it.")
            .await?;
        editable(model.status)?;
        if request.expected_version != 0 && request.expected_version != model.version {
            return Err(stale());
        }

        let mut failures = Vec::new();
        let mut noted = Map::new();
        let mut changes = model.clone().into_active_model();
        if let Some(text) = &request.title {
            match validate::title(text) {
                Ok(title) if title != model.title => {
                    noted.insert("title".into(), json!(title));
                    changes.title = Set(title);
                }
                Ok(_) => {}
                Err(failure) => failures.push(failure),
            }
        }
        if let Some(text) = &request.description {
            match validate::description(text) {
                Ok(description) if description != model.description => {
                    noted.insert("description".into(), json!(description.is_some()));
                    changes.description = Set(description);
                }
                Ok(_) => {}
                Err(failure) => failures.push(failure),
            }
        }
        let mut start = model.scheduled_start.or(model.actual_start);
        if let Some(unix_ms) = request.scheduled_start_unix_ms {
            if model.status != MeetingStatus::Scheduled {
                failures.push(Failure::invalid(
                    "scheduled_start_unix_ms",
                    "The meeting has already started; its start time cannot move.",
                ));
            } else if unix_ms == 0 {
                failures.push(Failure::invalid("scheduled_start_unix_ms", "Give the new start time."));
            } else {
                match validate::scheduled_start(unix_ms, kalcord_store::now()) {
                    Ok(at) => start = at,
                    Err(failure) => failures.push(failure),
                }
            }
        }
        let old_length = match (model.scheduled_start.or(model.actual_start), model.scheduled_end) {
            (Some(begins), Some(ends)) if ends > begins => ends - begins,
            _ => TimeDelta::minutes(i64::from(validate::DEFAULT_DURATION_MINUTES)),
        };
        let mut length = old_length;
        if let Some(minutes) = request.duration_minutes {
            if minutes == 0 {
                failures.push(Failure::invalid("duration_minutes", "Give the new duration in minutes."));
            } else {
                match validate::duration(minutes) {
                    Ok(minutes) => length = TimeDelta::minutes(i64::from(minutes)),
                    Err(failure) => failures.push(failure),
                }
            }
        }
        if let Some(text) = &request.custom_fields_json {
            match self.custom_fields(who.guild, text).await {
                Ok(values) if values != model.custom_fields => {
                    noted.insert("custom_fields".into(), json!(true));
                    changes.custom_fields = Set(values);
                }
                Ok(_) => {}
                Err(failure) => failures.push(failure),
            }
        }
        if let Some(failure) = Failure::combine(failures) {
            return Err(failure);
        }
        let new_start = start.filter(|_| model.status == MeetingStatus::Scheduled).or(model.scheduled_start);
        if new_start != model.scheduled_start {
            noted.insert("scheduled_start_unix_ms".into(), json!(new_start.map(|at| at.timestamp_millis())));
            changes.scheduled_start = Set(new_start);
            // NOTE: a moved meeting is reminded again before its new start.
            changes.reminder_sent_at = Set(None);
        }
        let new_end = start.map(|begins| begins + length);
        if new_end.is_some() && new_end != model.scheduled_end {
            noted.insert("scheduled_end_unix_ms".into(), json!(new_end.map(|at| at.timestamp_millis())));
            changes.scheduled_end = Set(new_end);
        }
        if noted.is_empty() {
            return Ok(model);
        }

        self.save_update(&who, changes, noted).await
    }

    /// Writes an update with its audit entry and its event in one transaction.
    async fn save_update(
        &self,
        who: &Who,
        changes: meeting::ActiveModel,
        noted: Map<String, Value>,
    ) -> Result<meeting::Model, Failure> {
        let fields: Vec<String> = noted.keys().cloned().collect();
        let txn = self.begin().await?;
        let result = async {
            let row = meetings::update(&txn, changes).await?;
            audit::append(&txn, entry(who, "meeting.update", row.id, Value::Object(noted))).await?;
            event::record(
                &txn,
                EventKind::Updated,
                &row,
                Change { actor_user_id: Some(who.user), fields, ..Change::default() },
            )
            .await?;
            Ok::<_, StoreError>(row)
        }
        .await;
        let row = finish(txn, result).await?;
        self.wake_relay();
        Ok(row)
    }

    /// Custom field values checked against the guild's definitions.
    async fn custom_fields(&self, guild: i64, text: &str) -> Result<Value, Failure> {
        let values = validate::custom_fields_json(text)?;
        let row = guilds::get(self.store.connection(), guild).await.map_err(|err| Failure::store(&err))?;
        let definitions = row.map(|row| validate::field_definitions(&row.custom_field_definitions)).unwrap_or_default();
        validate::custom_fields(&definitions, &values)?;
        Ok(Value::Object(values))
    }

    async fn transition(&self, request: EndMeetingRequest, transition: Transition) -> Result<meeting::Model, Failure> {
        let who = who(request.actor.as_ref())?;
        self.start_due(who.guild).await;
        let model = self.load(who.guild, &request.meeting_id).await?;
        let refusal = match transition {
            Transition::Cancel => "Only the meeting's host or members with the host role can cancel it.",
            Transition::End | Transition::Start => "Only the meeting's host or members with the host role can end it.",
        };
        self.authorize_for(&who, &model, refusal).await?;
        let status = lifecycle::next(model.status, transition)?;
        let from = model.status;
        let txn = self.begin().await?;
        let result = async {
            let row = meetings::set_status(&txn, model, status).await?;
            let details = json!({ "from": from, "to": row.status });
            audit::append(&txn, entry(&who, transition.action(), row.id, details)).await?;
            let change = Change { actor_user_id: Some(who.user), ..Change::default() };
            event::record(&txn, EventKind::from(transition), &row, change).await?;
            Ok::<_, StoreError>(row)
        }
        .await;
        let row = finish(txn, result).await?;
        self.wake_relay();
        if transition == Transition::Cancel {
            self.cancel_in_kaltura(&row).await;
        }
        Ok(row)
    }

    /// Scheduled meetings of `guild` whose start time has come go LIVE (audited as the system), so
    /// listing, joining by channel and ending see them as they are. Failures are logged: the next
    /// call tries again.
    async fn start_due(&self, guild: i64) {
        let due = meeting::Entity::find()
            .filter(meeting::Column::GuildId.eq(guild))
            .filter(meeting::Column::Status.eq(MeetingStatus::Scheduled))
            .filter(meeting::Column::ScheduledStart.lte(Utc::now()))
            .limit(START_DUE_BATCH)
            .all(self.store.connection())
            .await;
        match due {
            Ok(due) => {
                self.go_live(due).await;
            }
            Err(err) => tracing::warn!(guild, error = %err, "cannot look for meetings due to start"),
        }
    }

    /// Every scheduled meeting whose start time has come by `now` goes LIVE with its `started`
    /// event: the start time is a persisted schedule, read from the store at each poll, so a start
    /// that came while no replica ran is applied at the next one, once (a version-checked update).
    /// Returns how many this call started.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn start_due_meetings(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let due = meeting::Entity::find()
            .filter(meeting::Column::Status.eq(MeetingStatus::Scheduled))
            .filter(meeting::Column::ScheduledStart.lte(now))
            .order_by_asc(meeting::Column::ScheduledStart)
            .limit(START_DUE_BATCH)
            .all(self.store.connection())
            .await?;
        Ok(self.go_live(due).await)
    }

    /// Takes each meeting LIVE (audited as the system, with its `started` event); returns how
    /// many went live here (another replica may start one first).
    async fn go_live(&self, due: Vec<meeting::Model>) -> u64 {
        let mut started = 0;
        for model in due {
            let (id, guild) = (model.id, model.guild_id);
            let Ok(txn) = self.begin().await else { return started };
            let result = async {
                let row = meetings::set_status(&txn, model, MeetingStatus::Live).await?;
                let entry = NewAuditEntry::new(SYSTEM_ACTOR, Transition::Start.action())
                    .guild(guild)
                    .target(id.to_string())
                    .details(json!({ "from": MeetingStatus::Scheduled, "to": MeetingStatus::Live, "why": "start time reached" }));
                audit::append(&txn, entry).await?;
                event::record(&txn, EventKind::Started, &row, Change::default()).await?;
                Ok::<_, StoreError>(row)
            }
            .await;
            match finish(txn, result).await {
                Ok(_) => {
                    started += 1;
                    self.wake_relay();
                    tracing::info!(guild, meeting = %id, "a scheduled meeting reached its start time and is live");
                }
                // NOTE: another replica may have started it first (stale version): nothing to do.
                Err(failure) => tracing::debug!(guild, meeting = %id, code = failure.code, "not started here"),
            }
        }
        started
    }

    /// Cancels the meeting's Kaltura event; a failure is logged (the meeting stays cancelled).
    async fn cancel_in_kaltura(&self, row: &meeting::Model) {
        let Some(event) = row.kaltura_event_id.as_deref().and_then(|id| id.parse::<i64>().ok()) else { return };
        let guild = u64::try_from(row.guild_id).unwrap_or_default();
        match self.tenants.client(guild).await {
            Ok((client, _)) => {
                if let Err(err) = client.cancel_event(event).await {
                    tracing::warn!(meeting = %row.id, event, error = %err, "cannot cancel the kaltura event");
                }
            }
            Err(err) => tracing::warn!(meeting = %row.id, error = %err, "cannot reach kaltura to cancel the event"),
        }
    }

    async fn try_attach(&self, request: AttachMessageRequest) -> Result<meeting::Model, Failure> {
        let who = who(request.actor.as_ref())?;
        let channel = snowflake("channel_id", request.channel_id)?;
        let message = snowflake("message_id", request.message_id)?;
        let (Some(channel), Some(message)) = (channel, message) else {
            return Err(Failure::invalid("channel_id,message_id", "Both the channel and the message are needed."));
        };
        for _ in 0..ATTACH_ATTEMPTS {
            let model = self.load(who.guild, &request.meeting_id).await?;
            if model.discord_channel_id == Some(channel) && model.discord_message_id == Some(message) {
                return Ok(model);
            }
            if lifecycle::is_final(model.status) {
                return Err(Failure::conflict("This meeting is over; its announcement can no longer change."));
            }
            // NOTE: only the first announcement is recorded by anyone in the guild (the bot does it right
            // after posting); moving it elsewhere afterwards takes the host role.
            if model.discord_message_id.is_some() {
                self.authorize_for(&who, &model, ONLY_HOSTS_MESSAGE).await?;
            }
            let mut changes = model.into_active_model();
            changes.discord_channel_id = Set(Some(channel));
            changes.discord_message_id = Set(Some(message));
            match meetings::update(self.store.connection(), changes).await {
                Ok(row) => return Ok(row),
                Err(StoreError::StaleVersion { .. }) => {}
                Err(err) if err.is_not_found() => return Err(Failure::not_found()),
                Err(err) => return Err(Failure::store(&err)),
            }
        }
        Err(stale())
    }

    async fn try_verify(&self, request: AuditVerifyRequest) -> Result<AuditVerifyReply, Failure> {
        let who = who(request.actor.as_ref())?;
        let permissions = who.actor.permissions;
        if !who.actor.is_owner && permissions & (MANAGE_GUILD | ADMINISTRATOR) == 0 {
            return Err(Failure::forbidden("Checking the audit log needs the Manage Server permission."));
        }
        let db = self.store.connection();
        // NOTE: the chain spans every guild, so all of it is checked, but the answer only speaks of the
        // caller's guild: its row count, and the broken row only when it is one of its own.
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::GuildId.eq(who.guild))
            .count(db)
            .await
            .map_err(|err| Failure::store(&err.into()))?;
        match audit::verify_chain(db).await {
            Ok(()) => Ok(AuditVerifyReply { rows, intact: true, ..AuditVerifyReply::default() }),
            Err(StoreError::AuditChainBroken { seq }) => {
                let broken = audit_log::Entity::find()
                    .filter(audit_log::Column::Seq.eq(seq))
                    .one(db)
                    .await
                    .map_err(|err| Failure::store(&err.into()))?;
                tracing::warn!(seq, "audit chain verification found a broken link");
                let own = broken.filter(|row| row.guild_id == Some(who.guild));
                Ok(AuditVerifyReply {
                    rows,
                    intact: false,
                    first_broken_id: own.map_or_else(
                        || "an entry of another server (the operator can run `kalcord audit verify`)".to_owned(),
                        |row| row.id.to_string(),
                    ),
                    error: None,
                })
            }
            Err(err) => Err(Failure::store(&err)),
        }
    }

    /// The meeting when it belongs to `guild`; `not_found` otherwise (existence elsewhere is
    /// never revealed).
    async fn load(&self, guild: i64, id: &str) -> Result<meeting::Model, Failure> {
        let Ok(id) = Uuid::parse_str(id.trim()) else { return Err(Failure::not_found()) };
        match meetings::get(self.store.connection(), id).await {
            Ok(Some(model)) if model.guild_id == guild => Ok(model),
            Ok(_) => Err(Failure::not_found()),
            Err(err) => Err(Failure::store(&err)),
        }
    }

    /// The meeting's own host may act on it; anyone else needs the host role.
    async fn authorize_for(&self, who: &Who, model: &meeting::Model, refusal: &str) -> Result<(), Failure> {
        if model.host_discord_user_id == who.user || self.has_host_role(&who.actor).await? {
            Ok(())
        } else {
            Err(Failure::forbidden(refusal))
        }
    }

    /// Asks the identity service whether the actor has the host meeting role.
    async fn has_host_role(&self, actor: &Actor) -> Result<bool, Failure> {
        let request = RoleRequest { actor: Some(actor.clone()) };
        let reply: RoleReply =
            self.bus.request_proto(subject::IDENTITY_ROLE, &request, self.identity_timeout).await.map_err(|err| {
                tracing::warn!(error = %err, "identity.role did not answer");
                Failure::internal("Your meeting role cannot be checked right now; please try again in a moment.")
            })?;
        if let Some(error) = reply.error.filter(|error| !error.code.is_empty()) {
            tracing::debug!(code = %error.code, "identity.role answered with an error");
            return Err(Failure { code: known_code(&error.code), message: error.message, field: error.field });
        }
        Ok(reply.role == i32::from(MeetingRole::Host))
    }

    /// The guild's row, created (without a name; the gateway fills it in) when missing.
    async fn ensure_guild(&self, guild: i64) -> Result<kalcord_store::entity::guild::Model, Failure> {
        let db = self.store.connection();
        if let Some(row) = guilds::get(db, guild).await.map_err(|err| Failure::store(&err))? {
            return Ok(row);
        }
        match guilds::create(db, guild, "").await {
            Ok(row) => Ok(row),
            Err(err) if err.is_conflict() => guilds::get(db, guild)
                .await
                .map_err(|err| Failure::store(&err))?
                .ok_or_else(|| Failure::internal("Something went wrong on our side; please try again.")),
            Err(err) => Err(Failure::store(&err)),
        }
    }

    /// A write transaction; on SQLite it takes the write lock up front (`BEGIN IMMEDIATE`),
    /// so it never fails half-way on a lock upgrade.
    async fn begin(&self) -> Result<DatabaseTransaction, Failure> {
        self.store.connection().begin_with_options(self.txn_options()).await.map_err(|err| Failure::store(&err.into()))
    }

    /// Options of a write transaction (see [`Self::begin`]).
    fn txn_options(&self) -> TransactionOptions {
        TransactionOptions {
            sqlite_transaction_mode: (self.store.backend() == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        }
    }
}

/// Commits when `result` is a success worth keeping, rolls back otherwise.
async fn finish<T>(txn: DatabaseTransaction, result: Result<T, StoreError>) -> Result<T, Failure>
where
    T: Committable,
{
    match result {
        Ok(value) if value.commit() => {
            txn.commit().await.map_err(|err| Failure::store(&err.into()))?;
            Ok(value)
        }
        Ok(value) => {
            if let Err(err) = txn.rollback().await {
                tracing::warn!(error = %err, "rollback failed");
            }
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(match err {
                StoreError::StaleVersion { .. } => stale(),
                StoreError::NotFound { .. } => Failure::not_found(),
                other => Failure::store(&other),
            })
        }
    }
}

/// Whether a transaction's result is to be committed.
trait Committable {
    fn commit(&self) -> bool;
}

impl Committable for meeting::Model {
    fn commit(&self) -> bool {
        true
    }
}

impl Committable for (meeting::Model, bool) {
    fn commit(&self) -> bool {
        self.1
    }
}

async fn create_in_kaltura(
    client: &Client,
    kind: MeetingKind,
    title: &str,
    description: Option<&str>,
    schedule: Schedule,
    reference_id: String,
) -> Result<Created, kalcord_kaltura::KalturaError> {
    let room_kind = match kind {
        MeetingKind::VirtualClassroom => RoomKind::VirtualClassroom,
        MeetingKind::MeetingRoom => RoomKind::MeetingRoom,
        MeetingKind::Webinar => {
            let spec = WebinarSpec {
                description: description.map(str::to_owned),
                name: title.to_owned(),
                owner_id: None,
                reference_id,
                schedule,
                record: false,
            };
            return client.create_webinar(&spec).await.map(Created::Webinar);
        }
    };
    let spec = RoomSpec {
        description: description.map(str::to_owned),
        kind: room_kind,
        name: title.to_owned(),
        owner_id: None,
        reference_id,
        schedule: Some(schedule),
        auto_record: false,
    };
    client.create_room(&spec).await.map(Created::Room)
}

/// Most scheduled meetings started per call of [`MeetingsApi::start_due`].
const START_DUE_BATCH: u64 = 20;
/// Audit actor of what kalcord does on its own.
const SYSTEM_ACTOR: &str = "kalcord";
/// Characters of the idempotency key a Kaltura reference id carries.
const REFERENCE_KEY_CHARS: usize = 64;

/// The reference Kaltura objects carry: the guild and the idempotency key (bounded).
fn reference_id(guild: i64, key: &str) -> String {
    let key: String = key.chars().take(REFERENCE_KEY_CHARS).collect();
    format!("kalcord:{guild}:{key}")
}

fn entry(who: &Who, action: &str, target: Uuid, details: Value) -> NewAuditEntry {
    NewAuditEntry::new(who.audit_actor(), action).guild(who.guild).target(target.to_string()).details(details)
}

fn decode<T: kalcord_proto::Message + Default>(payload: &[u8]) -> Result<T, Failure> {
    T::decode(payload).map_err(|_| Failure::invalid("payload", "The request could not be read."))
}

fn failed(failure: Failure) -> MeetingReply {
    MeetingReply { result: Some(meeting_reply::Result::Error(failure.into())), replayed: false }
}

fn answer(result: Result<meeting::Model, Failure>) -> MeetingReply {
    match result {
        Ok(model) => {
            MeetingReply { result: Some(meeting_reply::Result::Meeting(convert::meeting(&model))), replayed: false }
        }
        Err(failure) => failed(failure),
    }
}

/// The value, or `None` with the failure kept for the combined answer.
fn keep<T>(result: Result<T, Failure>, failures: &mut Vec<Failure>) -> Option<T> {
    result.map_err(|failure| failures.push(failure)).ok()
}

fn invalid_all(failures: Vec<Failure>) -> Failure {
    Failure::combine(failures).unwrap_or_else(|| Failure::invalid("", "The request is not valid."))
}

fn stale() -> Failure {
    Failure::conflict("This meeting was changed by someone else in the meantime; look at it again and retry.")
}

fn editable(status: MeetingStatus) -> Result<(), Failure> {
    match status {
        MeetingStatus::Ended => Err(Failure::conflict(crate::failure::ALREADY_ENDED_MESSAGE)),
        MeetingStatus::Cancelled => Err(Failure::conflict("This meeting was cancelled.")),
        MeetingStatus::Scheduled | MeetingStatus::Live => Ok(()),
    }
}

/// The actor, required, with ids that fit the store.
fn who(actor: Option<&Actor>) -> Result<Who, Failure> {
    let Some(actor) = actor else { return Err(Failure::invalid("actor", "The acting member is missing.")) };
    let guild = i64::try_from(actor.guild_id).ok().filter(|id| *id > 0);
    let user = i64::try_from(actor.user_id).ok().filter(|id| *id > 0);
    match (guild, user) {
        (Some(guild), Some(user)) => Ok(Who { actor: actor.clone(), guild, user }),
        (None, _) => Err(Failure::invalid("actor.guild_id", "Meetings live in a server; this came from outside one.")),
        (_, None) => Err(Failure::invalid("actor.user_id", "The acting member is missing.")),
    }
}

/// An optional snowflake (0: none).
fn snowflake(field: &str, id: u64) -> Result<Option<i64>, Failure> {
    if id == 0 {
        return Ok(None);
    }
    i64::try_from(id).map(Some).map_err(|_| Failure::invalid(field, "This is not a valid Discord id."))
}

fn instant(field: &str, unix_ms: i64) -> Result<DateTime<Utc>, Failure> {
    DateTime::from_timestamp_millis(unix_ms).ok_or_else(|| Failure::invalid(field, "This is not a valid date."))
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The stable code matching `text`, `internal` for anything unknown.
fn known_code(text: &str) -> &'static str {
    [
        code::INVALID,
        code::FORBIDDEN,
        code::NOT_FOUND,
        code::CONFLICT,
        code::NOT_CONFIGURED,
        code::KALTURA_UNAVAILABLE,
        code::KALTURA_REFUSED,
    ]
    .into_iter()
    .find(|known| *known == text)
    .unwrap_or(code::INTERNAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn actors_need_a_guild_and_a_user() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(who(None).unwrap_err().field, "actor");
        let outside = Actor { user_id: 1, ..Actor::default() };
        assert_eq!(who(Some(&outside)).unwrap_err().field, "actor.guild_id");
        let member = Actor { guild_id: 1, user_id: 2, ..Actor::default() };
        assert_eq!(who(Some(&member)).map(|who| who.audit_actor()).unwrap(), "discord:2");
    }

    #[test]
    fn unknown_identity_codes_become_internal() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(known_code("forbidden"), code::FORBIDDEN);
        assert_eq!(known_code("weird"), code::INTERNAL);
    }
}
