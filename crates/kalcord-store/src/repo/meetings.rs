//! Meetings, with idempotent creation and optimistic concurrency.

use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, IntoActiveModel as _, NotSet, QueryFilter as _,
    QueryOrder as _, Set, TryInsertResult,
    sea_query::{Expr, ExprTrait as _},
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    StoreError,
    entity::{
        MeetingKind, MeetingStatus,
        meeting::{self, ActiveModel, Column, Model},
    },
};

/// A meeting to create; it starts `SCHEDULED`, at version 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    /// Owning guild.
    pub guild_id: i64,
    /// Kind of Kaltura room.
    pub kind: MeetingKind,
    /// Title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// Planned start.
    pub scheduled_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Planned end.
    pub scheduled_end: Option<chrono::DateTime<chrono::Utc>>,
    /// The hosting Discord user.
    pub host_discord_user_id: i64,
    /// Values of the guild's custom fields (a JSON object).
    pub custom_fields: Map<String, Value>,
    /// Makes creation idempotent within the guild (e.g. the Discord interaction id).
    pub idempotency_key: Option<String>,
}

impl NewMeeting {
    /// A meeting with only the required fields set.
    #[must_use]
    pub fn new(guild_id: i64, kind: MeetingKind, title: impl Into<String>, host: i64) -> Self {
        Self {
            guild_id,
            kind,
            title: title.into(),
            description: None,
            scheduled_start: None,
            scheduled_end: None,
            host_discord_user_id: host,
            custom_fields: Map::new(),
            idempotency_key: None,
        }
    }
}

/// Inserts a meeting; [`StoreError::Conflict`] when its idempotency key is taken.
pub async fn create<C>(db: &C, new: NewMeeting) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    Ok(meeting::Entity::insert(new_row(new, Uuid::now_v7())?).exec_with_returning(db).await?)
}

/// Inserts a meeting unless one with the same idempotency key exists in the guild, which
/// is then returned instead. The flag tells whether the meeting was created.
///
/// Safe inside a PostgreSQL transaction: a duplicate key does not raise an error.
pub async fn create_idempotent<C>(db: &C, new: NewMeeting) -> Result<(Model, bool), StoreError>
where
    C: ConnectionTrait,
{
    let Some(key) = new.idempotency_key.clone() else {
        return Ok((create(db, new).await?, true));
    };
    let guild_id = new.guild_id;
    let id = Uuid::now_v7();
    let row = new_row(new, id)?;
    // NOTE: without RETURNING: with DO NOTHING, sea-orm 2.0.4 reports a skipped insert that
    // used RETURNING as "record not found" rather than as a conflict.
    let inserted = meeting::Entity::insert(row)
        .on_conflict_do_nothing_on([Column::GuildId, Column::IdempotencyKey])
        .exec_without_returning(db)
        .await?;
    if matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0)
        && let Some(model) = get(db, id).await?
    {
        return Ok((model, true));
    }
    find_by_idempotency_key(db, guild_id, &key)
        .await?
        .map(|model| (model, false))
        .ok_or_else(|| StoreError::Conflict { message: format!("meeting idempotency key {key} in guild {guild_id}") })
}

/// The meeting, if it exists.
pub async fn get<C>(db: &C, id: Uuid) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(meeting::Entity::find_by_id(id).one(db).await?)
}

/// The guild's meeting created with `key`, if any.
pub async fn find_by_idempotency_key<C>(db: &C, guild_id: i64, key: &str) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(meeting::Entity::find()
        .filter(Column::GuildId.eq(guild_id))
        .filter(Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// The guild's meetings in `status`, by planned start then creation.
pub async fn list_by_status<C>(db: &C, guild_id: i64, status: MeetingStatus) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(meeting::Entity::find()
        .filter(Column::GuildId.eq(guild_id))
        .filter(Column::Status.eq(status))
        .order_by_asc(Column::ScheduledStart)
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Writes the changed (`Set`) columns of `changes` if the row is still at the version
/// `changes` carries, and bumps the version.
///
/// Start from a fetched model: `let mut m = model.into_active_model(); m.title = Set(..);`.
/// Fails with [`StoreError::StaleVersion`] when someone else updated the meeting since, and
/// [`StoreError::NotFound`] when it is gone.
pub async fn update<C>(db: &C, mut changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let (Some(&id), Some(&expected)) = (changes.id.try_as_ref(), changes.version.try_as_ref()) else {
        return Err(StoreError::InvalidInput("meeting update needs the id and the version it is based on".to_owned()));
    };
    changes.id = NotSet;
    changes.version = NotSet;
    changes.updated_at = Set(crate::now());
    let updated = meeting::Entity::update_many()
        .set(changes)
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .exec_with_returning(db)
        .await?;
    if let Some(model) = updated.into_iter().next() {
        return Ok(model);
    }
    let id_text = id.to_string();
    if get(db, id).await?.is_some() {
        Err(StoreError::StaleVersion { entity: "meeting", id: id_text, expected })
    } else {
        Err(StoreError::NotFound { entity: "meeting", id: id_text })
    }
}

/// Moves the meeting to `status` (checked against its version), stamping `actual_start`
/// when it goes live and `actual_end` when it ends.
pub async fn set_status<C>(db: &C, model: Model, status: MeetingStatus) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let mut changes = model.into_active_model();
    match status {
        MeetingStatus::Live => changes.actual_start = Set(Some(now)),
        MeetingStatus::Ended => changes.actual_end = Set(Some(now)),
        MeetingStatus::Scheduled | MeetingStatus::Cancelled => {}
    }
    changes.status = Set(status);
    update(db, changes).await
}

/// Deletes the meeting (and, by cascade, its participants and recordings); returns whether
/// it existed.
pub async fn delete<C>(db: &C, id: Uuid) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = meeting::Entity::delete_by_id(id).exec(db).await?;
    Ok(result.rows_affected > 0)
}

fn new_row(new: NewMeeting, id: Uuid) -> Result<ActiveModel, StoreError> {
    if new.title.trim().is_empty() {
        return Err(StoreError::InvalidInput("meeting title must not be empty".to_owned()));
    }
    let now = crate::now();
    Ok(ActiveModel {
        id: Set(id),
        guild_id: Set(new.guild_id),
        kind: Set(new.kind),
        title: Set(new.title),
        description: Set(new.description),
        scheduled_start: Set(new.scheduled_start.map(crate::time::truncate)),
        scheduled_end: Set(new.scheduled_end.map(crate::time::truncate)),
        actual_start: Set(None),
        actual_end: Set(None),
        status: Set(MeetingStatus::Scheduled),
        host_discord_user_id: Set(new.host_discord_user_id),
        kaltura_resource_id: Set(None),
        kaltura_event_id: Set(None),
        kaltura_entry_id: Set(None),
        discord_channel_id: Set(None),
        discord_message_id: Set(None),
        discord_scheduled_event_id: Set(None),
        custom_fields: Set(Value::Object(new.custom_fields)),
        idempotency_key: Set(new.idempotency_key),
        reminder_sent_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
}
