//! Guilds (tenants).

use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set,
};
use serde_json::{Map, Value};

use crate::{
    StoreError,
    entity::guild::{self, ActiveModel, Column, Model},
};

/// Locale of a new guild.
pub const DEFAULT_LOCALE: &str = "en-US";

/// Inserts a guild with default settings (locale `en-US`, no flags, no custom fields).
///
/// Fails with [`StoreError::Conflict`] when the guild exists; see [`ensure`] for the
/// join-time upsert.
pub async fn create<C>(db: &C, id: i64, name: &str) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    Ok(new_guild(id, name).insert(db).await?)
}

/// Inserts the guild, or refreshes its name when it exists (Discord `GUILD_CREATE`).
pub async fn ensure<C>(db: &C, id: i64, name: &str) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let mut row = new_guild(id, name);
    let now = crate::now();
    row.created_at = Set(now);
    row.updated_at = Set(now);
    guild::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Id).update_columns([Column::Name, Column::UpdatedAt]).to_owned())
        .exec_without_returning(db)
        .await?;
    get(db, id).await?.ok_or_else(|| StoreError::NotFound { entity: "guild", id: id.to_string() })
}

/// The guild, if it exists.
pub async fn get<C>(db: &C, id: i64) -> Result<Option<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(guild::Entity::find_by_id(id).one(db).await?)
}

/// All guilds, by id.
pub async fn list<C>(db: &C) -> Result<Vec<Model>, StoreError>
where
    C: ConnectionTrait,
{
    Ok(guild::Entity::find().order_by_asc(Column::Id).all(db).await?)
}

/// Writes the changed columns of `changes` (`updated_at` is set automatically).
///
/// Typical use: `let mut g = get(..).into_active_model(); g.locale = Set(..); update(db, g)`.
pub async fn update<C>(db: &C, changes: ActiveModel) -> Result<Model, StoreError>
where
    C: ConnectionTrait,
{
    let id = super::key(&changes.id);
    changes.update(db).await.map_err(super::update_err("guild", id))
}

/// Deletes the guild and, by cascade, its role mappings, meetings, participants and
/// recordings. Returns whether it existed.
pub async fn delete<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = guild::Entity::delete_by_id(id).exec(db).await?;
    Ok(result.rows_affected > 0)
}

/// What recording the bot's arrival in a guild found (see [`bot_joined`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The guild was unknown, or known only from [`order_presence_event`]: this is the first
    /// join seen.
    New,
    /// The bot had been removed and is back: the row is active again, settings kept.
    Returned,
    /// The bot was known to be in the guild already (a reconnect, or a duplicate event).
    Known,
}

/// Records that the bot is in the guild (Discord `GUILD_CREATE`): inserts it, reactivates it
/// when the bot had been removed (keeping every setting), or refreshes its name.
///
/// Each step is a single conditional statement, so when two replicas record the same arrival
/// at once exactly one of them sees [`JoinOutcome::New`] or [`JoinOutcome::Returned`].
pub async fn bot_joined<C>(db: &C, id: i64, name: &str) -> Result<JoinOutcome, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let mut row = new_guild(id, name);
    row.active = Set(true);
    row.bot_joined_at = Set(Some(now));
    row.created_at = Set(now);
    row.updated_at = Set(now);
    if insert_if_absent(db, row).await? {
        return Ok(JoinOutcome::New);
    }
    // NOTE: a row only [`order_presence_event`] has stored (inactive, never seen leaving) is a
    // guild whose first join is this one.
    let first = guild::Entity::update_many()
        .col_expr(Column::Active, Expr::value(true))
        .col_expr(Column::BotJoinedAt, Expr::value(Some(now)))
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.eq(false))
        .filter(Column::BotLeftAt.is_null())
        .exec(db)
        .await?;
    if first.rows_affected > 0 {
        return Ok(JoinOutcome::New);
    }
    let returned = guild::Entity::update_many()
        .col_expr(Column::Active, Expr::value(true))
        .col_expr(Column::BotJoinedAt, Expr::value(Some(now)))
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.eq(false))
        .exec(db)
        .await?;
    if returned.rows_affected > 0 {
        return Ok(JoinOutcome::Returned);
    }
    // NOTE: a guild first stored by a command (before the bot's arrival was ever seen) gets its
    // join time now; an existing one is kept.
    guild::Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::BotJoinedAt, Expr::col(Column::BotJoinedAt).if_null(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(JoinOutcome::Known)
}

/// Records that the bot was removed from the guild (Discord `GUILD_DELETE` without
/// `unavailable`): the guild turns inactive and keeps every setting. Returns whether it was
/// active (`false` for an unknown guild or a repeated removal).
pub async fn bot_left<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let result = guild::Entity::update_many()
        .col_expr(Column::Active, Expr::value(false))
        .col_expr(Column::BotLeftAt, Expr::value(Some(now)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Orders the bot's join and removal events of a guild: records `sequence` (the event's position
/// on the bus) and returns `true` when it is not older than any such event applied so far (a
/// redelivery of the same event applies again: handlers are idempotent); `false` for an older
/// event delivered late (then it must be ignored).
///
/// An unknown guild gets a row holding `sequence`: inactive, with neither join nor removal
/// recorded, until [`bot_joined`] (which counts it as [`JoinOutcome::New`]) in the same
/// transaction. So a removal applied before the guild's first join was seen outlives that
/// join's late delivery, and of two events racing on a new guild the second waits for (or
/// orders itself after) the first.
///
/// Call it in the transaction that applies the event: on PostgreSQL the row stays locked until
/// commit, so two replicas applying events of one guild take turns.
pub async fn order_presence_event<C>(db: &C, id: i64, sequence: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let mut row = new_guild(id, "");
    row.active = Set(false);
    row.presence_seq = Set(Some(sequence));
    row.created_at = Set(now);
    row.updated_at = Set(now);
    // NOTE: on PostgreSQL this insert waits for a concurrent, uncommitted insert of the same
    // guild; the guarded update below then sees that row (a new statement, a new snapshot).
    if insert_if_absent(db, row).await? {
        return Ok(true);
    }
    let result = guild::Entity::update_many()
        .col_expr(Column::PresenceSeq, Expr::value(Some(sequence)))
        .filter(Column::Id.eq(id))
        .filter(sea_orm::Condition::any().add(Column::PresenceSeq.is_null()).add(Column::PresenceSeq.lte(sequence)))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Claims the guild's onboarding: sets `onboarded_at` when it is unset and the guild is
/// active. Returns whether this caller won (then it posts the setup guide; nobody else does).
pub async fn claim_onboarding<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let now = crate::now();
    let result = guild::Entity::update_many()
        .col_expr(Column::OnboardedAt, Expr::value(Some(now)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::OnboardedAt.is_null())
        .filter(Column::Active.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Gives a claim back (the guide could not be posted for now), so a retry can claim it again.
/// Returns whether there was a claim.
pub async fn release_onboarding<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let result = guild::Entity::update_many()
        .col_expr(Column::OnboardedAt, Expr::value(None::<chrono::DateTime<chrono::Utc>>))
        .col_expr(Column::UpdatedAt, Expr::value(crate::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::OnboardedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Whether the bot is in the guild, so kalcord may post there. An unknown guild counts as
/// active (guilds configured before kalcord followed the bot's membership have no record of
/// it); only a guild the bot was seen leaving is inactive.
///
/// Everything that posts on its own (announcements, reminders, recordings, onboarding) checks
/// this first; answers to a member's command need not.
pub async fn is_active<C>(db: &C, id: i64) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
{
    let active: Option<bool> =
        guild::Entity::find_by_id(id).select_only().column(Column::Active).into_tuple().one(db).await?;
    Ok(active.unwrap_or(true))
}

/// Inserts `row` unless a guild with its id exists; whether it did.
async fn insert_if_absent<C: ConnectionTrait>(db: &C, row: guild::ActiveModel) -> Result<bool, StoreError> {
    let inserted = guild::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

fn new_guild(id: i64, name: &str) -> ActiveModel {
    ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        kaltura_partner_id: Set(None),
        kaltura_service_url: Set(None),
        kaltura_kaf_host: Set(None),
        notification_channel_id: Set(None),
        locale: Set(DEFAULT_LOCALE.to_owned()),
        time_zone: Set(None),
        feature_flags: Set(Value::Object(Map::new())),
        custom_field_definitions: Set(Value::Array(Vec::new())),
        active: Set(true),
        bot_joined_at: Set(None),
        bot_left_at: Set(None),
        onboarded_at: Set(None),
        presence_seq: Set(None),
        reminder_minutes: Set(None),
        mention_role_id: Set(None),
        scheduled_events: Set(true),
        muted_posts: Set(String::new()),
        ..Default::default()
    }
}
