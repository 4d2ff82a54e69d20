//! Meeting sync rows: one lease holder at a time, progress recorded only under the lease, rows
//! go with their meeting; a guild's notification preferences round-trip.

use std::time::Duration;

use kalcord_store::entity::MeetingKind;
use kalcord_store::entity::guild::{POST_KINDS, muted_posts};
use kalcord_store::entity::meeting_sync::EventState;
use kalcord_store::repo::meeting_syncs::{self, Progress};
use kalcord_store::repo::{guilds, meetings};
use sea_orm::{IntoActiveModel as _, Set};

use crate::common::{GUILD, TestDb, USER, backend_tests};

backend_tests!(
    Migrated: one_replica_holds_a_meeting_at_a_time,
    progress_needs_the_lease_and_rows_go_with_their_meeting,
    notification_preferences_round_trip,
    a_partners_last_notice_is_kept,
);

const LONG: Duration = Duration::from_secs(60);

async fn meeting(db: &TestDb) -> anyhow::Result<uuid::Uuid> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let new = meetings::NewMeeting::new(GUILD, MeetingKind::VirtualClassroom, "Maths", USER);
    Ok(meetings::create(db.conn(), new).await?.id)
}

async fn one_replica_holds_a_meeting_at_a_time(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let id = meeting(db).await?;
    let first =
        meeting_syncs::acquire(conn, id, GUILD, "a", LONG).await?.ok_or_else(|| anyhow::anyhow!("not taken"))?;
    assert_eq!((first.event_state, first.event_version, first.announcement_version), (EventState::None, 0, 0));
    assert_eq!(meeting_syncs::acquire(conn, id, GUILD, "b", LONG).await?, None, "held by a");
    assert!(meeting_syncs::acquire(conn, id, GUILD, "a", LONG).await?.is_some(), "the holder renews it");
    meeting_syncs::release(conn, id, "b").await?;
    assert_eq!(meeting_syncs::acquire(conn, id, GUILD, "b", LONG).await?, None, "only the holder releases");
    meeting_syncs::release(conn, id, "a").await?;
    assert!(meeting_syncs::acquire(conn, id, GUILD, "b", LONG).await?.is_some(), "free after release");

    // An expired lease is taken over.
    meeting_syncs::release(conn, id, "b").await?;
    assert!(meeting_syncs::acquire(conn, id, GUILD, "c", Duration::from_millis(1)).await?.is_some());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(meeting_syncs::acquire(conn, id, GUILD, "d", LONG).await?.is_some(), "c's lease expired");
    Ok(())
}

async fn progress_needs_the_lease_and_rows_go_with_their_meeting(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let id = meeting(db).await?;
    meeting_syncs::acquire(conn, id, GUILD, "a", LONG).await?;
    let progress = Progress {
        announcement_version: Some(3),
        event_id: Some(Some(1_190_000_000_000_000_001)),
        event_status: Some(Some(1)),
        event_state: Some(EventState::Linked),
        event_version: Some(2),
    };
    assert!(!meeting_syncs::record(conn, id, "b", progress.clone()).await?, "b holds no lease");
    assert!(meeting_syncs::record(conn, id, "a", progress).await?);
    let row = meeting_syncs::get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("row lost"))?;
    assert_eq!(
        (row.announcement_version, row.event_id, row.event_status, row.event_state, row.event_version),
        (3, Some(1_190_000_000_000_000_001), Some(1), EventState::Linked, 2)
    );
    let partial = Progress { event_state: Some(EventState::Gone), ..Progress::default() };
    assert!(meeting_syncs::record(conn, id, "a", partial).await?);
    let row = meeting_syncs::get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("row lost"))?;
    assert_eq!((row.event_state, row.announcement_version), (EventState::Gone, 3), "other fields kept");

    assert!(meetings::delete(conn, id).await?);
    assert_eq!(meeting_syncs::get(conn, id).await?, None);
    Ok(())
}

async fn notification_preferences_round_trip(db: &TestDb) -> anyhow::Result<()> {
    let conn = db.conn();
    let guild = guilds::create(conn, GUILD, "Guild").await?;
    assert_eq!((guild.reminder_minutes, guild.mention_role_id, guild.scheduled_events), (None, None, true));
    assert!(POST_KINDS.iter().all(|kind| !guild.mutes(kind)), "every kind is posted by default");
    let mut changes = guild.into_active_model();
    changes.reminder_minutes = Set(Some(30));
    changes.mention_role_id = Set(Some(1_190_000_000_000_000_077));
    changes.scheduled_events = Set(false);
    changes.muted_posts = Set(muted_posts(["ended", "bogus", "updated"]));
    guilds::update(conn, changes).await?;
    let back = guilds::get(conn, GUILD).await?.ok_or_else(|| anyhow::anyhow!("guild lost"))?;
    assert_eq!(back.muted_posts, "updated,ended", "known kinds only, in order");
    assert!(back.mutes("ended") && back.mutes("updated") && !back.mutes("started"));
    assert_eq!(
        (back.reminder_minutes, back.mention_role_id, back.scheduled_events),
        (Some(30), Some(1_190_000_000_000_000_077), false)
    );
    Ok(())
}

async fn a_partners_last_notice_is_kept(db: &TestDb) -> anyhow::Result<()> {
    use kalcord_store::repo::kaltura_notices;

    let conn = db.conn();
    assert_eq!(kaltura_notices::last(conn, 42).await?, None);
    let first = kalcord_store::now();
    kaltura_notices::touch(conn, 42, first).await?;
    let later = first + chrono::TimeDelta::minutes(5);
    kaltura_notices::touch(conn, 42, later).await?;
    assert_eq!(kaltura_notices::last(conn, 42).await?, Some(later));
    assert_eq!(kaltura_notices::last(conn, 43).await?, None);
    Ok(())
}
