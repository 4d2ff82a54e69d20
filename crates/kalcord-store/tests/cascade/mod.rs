//! Foreign keys cascade: deleting a guild or a meeting removes what hangs off it.

use kalcord_store::{
    audit::{self, NewAuditEntry},
    entity::{MeetingKind, MeetingRole, participant, prelude::*, recording, role_mapping},
    repo::{guilds, meetings, participants, recordings, role_mappings},
};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use uuid::Uuid;

use crate::common::{GUILD, OTHER_GUILD, OTHER_USER, TestDb, USER, backend_tests};

backend_tests!(Migrated: deleting_a_guild_cascades, deleting_a_meeting_cascades);

/// A guild with a role mapping and two meetings, each with participants and a recording.
async fn populate(db: &TestDb, guild_id: i64) -> anyhow::Result<Vec<Uuid>> {
    guilds::create(db.conn(), guild_id, "Guild").await?;
    role_mappings::create(
        db.conn(),
        role_mappings::NewRoleMapping {
            guild_id,
            discord_role_id: 5,
            meeting_role: MeetingRole::Moderator,
            priority: 1,
        },
    )
    .await?;
    let mut ids = Vec::new();
    for n in 0..2 {
        let new = meetings::NewMeeting::new(guild_id, MeetingKind::Webinar, format!("M{n}"), USER);
        let meeting = meetings::create(db.conn(), new).await?;
        participants::add(db.conn(), meeting.id, USER, MeetingRole::Host).await?;
        participants::add(db.conn(), meeting.id, OTHER_USER, MeetingRole::Attendee).await?;
        recordings::create(db.conn(), meeting.id, &format!("{guild_id}_{n}")).await?;
        ids.push(meeting.id);
    }
    Ok(ids)
}

async fn children(db: &TestDb, meeting_ids: &[Uuid]) -> anyhow::Result<(u64, u64)> {
    let ids = meeting_ids.iter().copied();
    let participants =
        Participant::find().filter(participant::Column::MeetingId.is_in(ids.clone())).count(db.conn()).await?;
    let recordings = Recording::find().filter(recording::Column::MeetingId.is_in(ids)).count(db.conn()).await?;
    Ok((participants, recordings))
}

async fn deleting_a_guild_cascades(db: &TestDb) -> anyhow::Result<()> {
    let doomed = populate(db, GUILD).await?;
    let kept = populate(db, OTHER_GUILD).await?;
    audit::append(db.conn(), NewAuditEntry::new("system", "guild.delete").guild(GUILD)).await?;
    assert_eq!(children(db, &doomed).await?, (4, 2));

    assert!(guilds::delete(db.conn(), GUILD).await?);

    assert_eq!(guilds::get(db.conn(), GUILD).await?, None);
    assert!(role_mappings::list_for_guild(db.conn(), GUILD).await?.is_empty());
    for id in &doomed {
        assert_eq!(meetings::get(db.conn(), *id).await?, None);
    }
    assert_eq!(children(db, &doomed).await?, (0, 0));

    // The other guild is untouched, and the audit log outlives the guild.
    assert_eq!(children(db, &kept).await?, (4, 2));
    assert_eq!(RoleMapping::find().filter(role_mapping::Column::GuildId.eq(OTHER_GUILD)).count(db.conn()).await?, 1);
    assert_eq!(AuditLog::find().count(db.conn()).await?, 1);
    audit::verify_chain(db.conn()).await?;
    Ok(())
}

async fn deleting_a_meeting_cascades(db: &TestDb) -> anyhow::Result<()> {
    let ids = populate(db, GUILD).await?;
    assert!(meetings::delete(db.conn(), ids[0]).await?);
    assert_eq!(children(db, &ids[..1]).await?, (0, 0));
    assert_eq!(children(db, &ids[1..]).await?, (2, 1));
    assert!(guilds::get(db.conn(), GUILD).await?.is_some());
    Ok(())
}
