//! Every unique constraint is enforced and reported as a conflict.

use kalcord_store::{
    StoreError,
    audit::{self, NewAuditEntry},
    entity::{MeetingKind, MeetingRole, audit_log},
    repo::{guilds, identity_links, meetings, participants, recordings, role_mappings},
};
use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _, NotSet, TransactionTrait as _};

use crate::common::{GUILD, OTHER_GUILD, OTHER_USER, TestDb, USER, assert_conflict, backend_tests};

backend_tests!(
    Migrated: guild_id_is_unique,
    role_mapping_is_unique_per_guild_and_role,
    identity_link_is_unique_both_ways,
    meeting_idempotency_key_is_unique_per_guild,
    create_idempotent_returns_the_existing_meeting,
    participant_is_unique_per_meeting_and_user,
    recording_entry_id_is_unique,
    audit_seq_is_unique,
    foreign_key_violation_is_not_a_conflict,
);

fn meeting(guild_id: i64, key: Option<&str>) -> meetings::NewMeeting {
    let mut new = meetings::NewMeeting::new(guild_id, MeetingKind::MeetingRoom, "Sync", USER);
    new.idempotency_key = key.map(str::to_owned);
    new
}

async fn guild_id_is_unique(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    assert_conflict(guilds::create(db.conn(), GUILD, "Two").await);
    Ok(())
}

async fn role_mapping_is_unique_per_guild_and_role(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    guilds::create(db.conn(), OTHER_GUILD, "Two").await?;
    let new = |guild_id, meeting_role| role_mappings::NewRoleMapping {
        guild_id,
        discord_role_id: 77,
        meeting_role,
        priority: 0,
    };
    role_mappings::create(db.conn(), new(GUILD, MeetingRole::Host)).await?;
    assert_conflict(role_mappings::create(db.conn(), new(GUILD, MeetingRole::Attendee)).await);
    role_mappings::create(db.conn(), new(OTHER_GUILD, MeetingRole::Attendee)).await?;
    Ok(())
}

async fn identity_link_is_unique_both_ways(db: &TestDb) -> anyhow::Result<()> {
    identity_links::link(db.conn(), USER, "alice", None).await?;
    assert_conflict(identity_links::link(db.conn(), USER, "alice2", None).await);
    assert_conflict(identity_links::link(db.conn(), OTHER_USER, "alice", None).await);
    identity_links::link(db.conn(), OTHER_USER, "bob", None).await?;
    Ok(())
}

async fn meeting_idempotency_key_is_unique_per_guild(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    guilds::create(db.conn(), OTHER_GUILD, "Two").await?;
    meetings::create(db.conn(), meeting(GUILD, Some("k1"))).await?;
    assert_conflict(meetings::create(db.conn(), meeting(GUILD, Some("k1"))).await);
    meetings::create(db.conn(), meeting(OTHER_GUILD, Some("k1"))).await?;
    // Meetings without a key never collide.
    meetings::create(db.conn(), meeting(GUILD, None)).await?;
    meetings::create(db.conn(), meeting(GUILD, None)).await?;
    Ok(())
}

async fn create_idempotent_returns_the_existing_meeting(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    let (first, created) = meetings::create_idempotent(db.conn(), meeting(GUILD, Some("k1"))).await?;
    assert!(created);
    let (again, created) = meetings::create_idempotent(db.conn(), meeting(GUILD, Some("k1"))).await?;
    assert!(!created);
    assert_eq!(again, first);

    // Inside a transaction too (a raised error would abort a PostgreSQL transaction).
    let txn = db.conn().begin().await?;
    let (in_txn, created) = meetings::create_idempotent(&txn, meeting(GUILD, Some("k1"))).await?;
    assert!(!created);
    let (fresh, created) = meetings::create_idempotent(&txn, meeting(GUILD, Some("k2"))).await?;
    assert!(created);
    txn.commit().await?;
    assert_eq!(in_txn, first);
    assert_eq!(meetings::get(db.conn(), fresh.id).await?, Some(fresh));
    Ok(())
}

async fn participant_is_unique_per_meeting_and_user(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    let one = meetings::create(db.conn(), meeting(GUILD, None)).await?;
    let two = meetings::create(db.conn(), meeting(GUILD, None)).await?;
    participants::add(db.conn(), one.id, USER, MeetingRole::Host).await?;
    assert_conflict(participants::add(db.conn(), one.id, USER, MeetingRole::Attendee).await);
    participants::add(db.conn(), two.id, USER, MeetingRole::Attendee).await?;
    Ok(())
}

async fn recording_entry_id_is_unique(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "One").await?;
    let one = meetings::create(db.conn(), meeting(GUILD, None)).await?;
    let two = meetings::create(db.conn(), meeting(GUILD, None)).await?;
    recordings::create(db.conn(), one.id, "0_entry").await?;
    assert_conflict(recordings::create(db.conn(), two.id, "0_entry").await);
    Ok(())
}

async fn audit_seq_is_unique(db: &TestDb) -> anyhow::Result<()> {
    let first = audit::append(db.conn(), NewAuditEntry::new("system", "test.first")).await?;
    // Every column as stored (so `seq` 1 again), under a new id.
    let mut duplicate: audit_log::ActiveModel = first.into_active_model().reset_all();
    duplicate.id = NotSet;
    assert_conflict(duplicate.insert(db.conn()).await.map_err(StoreError::from));
    Ok(())
}

async fn foreign_key_violation_is_not_a_conflict(db: &TestDb) -> anyhow::Result<()> {
    let err = meetings::create(db.conn(), meeting(GUILD, None)).await;
    match err {
        Err(err) => assert!(!err.is_conflict(), "{err:?}"),
        Ok(model) => anyhow::bail!("inserted a meeting of a missing guild: {model:?}"),
    }
    Ok(())
}
