//! Migrations: apply from empty, and re-applying is a no-op.

use kalcord_store::{
    entity::prelude::*,
    migration::Migrator,
    repo::{guilds, meetings},
};
use sea_orm::{EntityTrait, IntoActiveModel as _, PaginatorTrait as _, Set};
use sea_orm_migration::MigratorTrait as _;

use crate::common::{GUILD, TestDb, USER, backend_tests};

backend_tests!(
    Empty: migrations_apply_to_an_empty_database;
    Migrated: migrate_again_is_a_no_op;
    Empty: replicas_migrating_at_once_all_succeed;
    Migrated: guild_time_zone_migrates_down_and_up;
    Migrated: guild_presence_migrates_down_and_up;
);

/// Migrations of the schema.
fn migrations() -> usize {
    Migrator::migrations().len()
}

/// Migrations after `m20261122_000008_guild_time_zone` (rolled back to remove its column).
const AFTER_TIME_ZONE: u32 = 7;

async fn table_count<E>(db: &TestDb, _entity: E) -> anyhow::Result<u64>
where
    E: EntityTrait,
    E::Model: Sync,
{
    Ok(E::find().count(db.conn()).await?)
}

async fn assert_all_tables_empty(db: &TestDb) -> anyhow::Result<()> {
    assert_eq!(table_count(db, Guild).await?, 0);
    assert_eq!(table_count(db, RoleMapping).await?, 0);
    assert_eq!(table_count(db, IdentityLink).await?, 0);
    assert_eq!(table_count(db, Meeting).await?, 0);
    assert_eq!(table_count(db, Participant).await?, 0);
    assert_eq!(table_count(db, Recording).await?, 0);
    assert_eq!(table_count(db, AuditLog).await?, 0);
    assert_eq!(table_count(db, EventOutbox).await?, 0);
    assert_eq!(table_count(db, NotificationPost).await?, 0);
    Ok(())
}

async fn migrations_apply_to_an_empty_database(db: &TestDb) -> anyhow::Result<()> {
    assert!(table_count(db, Guild).await.is_err(), "the database should start without tables");
    assert_eq!(Migrator::get_pending_migrations(db.conn()).await?.len(), migrations());

    db.store.migrate().await?;

    assert!(Migrator::get_pending_migrations(db.conn()).await?.is_empty());
    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations());
    assert_all_tables_empty(db).await
}

async fn migrate_again_is_a_no_op(db: &TestDb) -> anyhow::Result<()> {
    let guild = guilds::create(db.conn(), GUILD, "Guild").await?;
    let meeting =
        meetings::create(db.conn(), meetings::NewMeeting::new(GUILD, MeetingKind::Webinar, "Town hall", USER)).await?;

    db.store.migrate().await?;
    db.store.migrate().await?;

    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations());
    assert_eq!(guilds::get(db.conn(), GUILD).await?, Some(guild));
    assert_eq!(meetings::get(db.conn(), meeting.id).await?, Some(meeting));

    // A second store (another process, say) sees the schema as current too.
    let other = kalcord_store::Store::connect(&db.url).await?;
    other.migrate().await?;
    other.close().await?;
    Ok(())
}

async fn replicas_migrating_at_once_all_succeed(db: &TestDb) -> anyhow::Result<()> {
    // NOTE: four "replicas" start together against one empty database, as pods do after a
    // deployment; each must come up, and the schema must be applied exactly once.
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(kalcord_store::Store::connect(&db.url).await?);
    }
    let results = futures::future::join_all(replicas.iter().map(kalcord_store::Store::migrate)).await;
    for result in results {
        result?;
    }
    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations());
    assert_all_tables_empty(db).await?;
    for replica in replicas {
        replica.close().await?;
    }
    Ok(())
}

async fn guild_time_zone_migrates_down_and_up(db: &TestDb) -> anyhow::Result<()> {
    let guild = guilds::create(db.conn(), GUILD, "Guild").await?;
    assert_eq!(guild.time_zone, None, "a new guild has no time zone (UTC)");
    let mut changes = guild.into_active_model();
    changes.time_zone = Set(Some("Europe/Paris".to_owned()));
    let guild = guilds::update(db.conn(), changes).await?;
    assert_eq!(guilds::get(db.conn(), GUILD).await?.and_then(|g| g.time_zone).as_deref(), Some("Europe/Paris"));

    // Down (through the later migrations): the column goes, the guild stays.
    Migrator::down(db.conn(), Some(AFTER_TIME_ZONE + 1)).await?;
    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations() - AFTER_TIME_ZONE as usize - 1);
    assert!(guilds::get(db.conn(), GUILD).await.is_err(), "the entity's time_zone column should be gone");

    // Up again: the guild comes back with no time zone.
    db.store.migrate().await?;
    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations());
    let back = guilds::get(db.conn(), GUILD).await?.ok_or_else(|| anyhow::anyhow!("guild lost"))?;
    assert_eq!(back.time_zone, None);
    assert_eq!((back.id, back.name), (guild.id, guild.name));
    Ok(())
}

async fn guild_presence_migrates_down_and_up(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    assert!(guilds::bot_left(db.conn(), GUILD).await?);
    assert!(!guilds::is_active(db.conn(), GUILD).await?);

    // Down (through the event outbox): the columns go, the guild stays.
    Migrator::down(db.conn(), Some(AFTER_TIME_ZONE)).await?;
    assert_eq!(Migrator::get_applied_migrations(db.conn()).await?.len(), migrations() - AFTER_TIME_ZONE as usize);
    assert!(EventOutbox::find().count(db.conn()).await.is_err(), "the outbox table should be gone");
    assert!(guilds::get(db.conn(), GUILD).await.is_err(), "the entity's presence columns should be gone");

    // Up again: rows from before the migration count as active, with no presence history.
    db.store.migrate().await?;
    let back = guilds::get(db.conn(), GUILD).await?.ok_or_else(|| anyhow::anyhow!("guild lost"))?;
    assert!(back.active);
    assert_eq!((back.bot_joined_at, back.bot_left_at, back.onboarded_at), (None, None, None));
    assert_eq!(back.name, "Guild");
    Ok(())
}
