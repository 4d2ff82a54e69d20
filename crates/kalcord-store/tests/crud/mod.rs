//! Create, read and update on every table, through the repositories.

use chrono::{Duration, Utc};
use kalcord_store::{
    StoreError,
    entity::{MeetingKind, MeetingRole, MeetingStatus, RecordingStatus},
    repo::{guilds, identity_links, meetings, participants, recordings, role_mappings},
};
use sea_orm::{IntoActiveModel as _, Set};
use serde_json::json;

use crate::common::{GUILD, OTHER_USER, TestDb, USER, backend_tests};

backend_tests!(
    Migrated: guild_crud,
    role_mapping_crud,
    identity_link_crud,
    meeting_crud,
    meeting_updates_are_version_checked,
    participant_crud,
    recording_crud,
);

async fn guild_crud(db: &TestDb) -> anyhow::Result<()> {
    let created = guilds::create(db.conn(), GUILD, "Kaltura Fans").await?;
    assert_eq!(created.locale, "en-US");
    assert_eq!(created.time_zone, None);
    assert_eq!(created.feature_flags, json!({}));
    assert_eq!(created.custom_field_definitions, json!([]));
    assert_eq!(guilds::get(db.conn(), GUILD).await?, Some(created.clone()));

    let mut changes = created.clone().into_active_model();
    changes.kaltura_partner_id = Set(Some(2_503_451));
    changes.kaltura_service_url = Set(Some("https://www.kaltura.com".into()));
    changes.kaltura_kaf_host = Set(Some("kaf.example.edu".into()));
    changes.notification_channel_id = Set(Some(1_180_000_000_000_000_777));
    changes.locale = Set("de-DE".into());
    changes.time_zone = Set(Some("Europe/Berlin".into()));
    changes.feature_flags = Set(json!({"recordings": true, "webinars": false}));
    changes.custom_field_definitions = Set(json!([{"key": "course", "type": "text"}]));
    let updated = guilds::update(db.conn(), changes).await?;
    assert_eq!(updated.kaltura_partner_id, Some(2_503_451));
    assert_eq!(updated.time_zone.as_deref(), Some("Europe/Berlin"));
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(guilds::get(db.conn(), GUILD).await?, Some(updated.clone()));

    let renamed = guilds::ensure(db.conn(), GUILD, "Renamed").await?;
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.locale, "de-DE", "ensure keeps the settings");
    assert_eq!(renamed.time_zone.as_deref(), Some("Europe/Berlin"), "ensure keeps the time zone");
    assert_eq!(guilds::list(db.conn()).await?, vec![renamed]);

    let gone = guilds::create(db.conn(), GUILD + 1, "Gone").await?;
    assert!(guilds::delete(db.conn(), gone.id).await?);
    assert!(!guilds::delete(db.conn(), gone.id).await?);
    let mut changes = gone.into_active_model();
    changes.name = Set("changed".into());
    let err = guilds::update(db.conn(), changes).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    Ok(())
}

async fn role_mapping_crud(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let new = |role_id, meeting_role, priority| role_mappings::NewRoleMapping {
        guild_id: GUILD,
        discord_role_id: role_id,
        meeting_role,
        priority,
    };
    let host = role_mappings::create(db.conn(), new(11, MeetingRole::Host, 100)).await?;
    let attendee = role_mappings::create(db.conn(), new(12, MeetingRole::Attendee, 10)).await?;
    assert_eq!(role_mappings::list_for_guild(db.conn(), GUILD).await?, vec![host.clone(), attendee.clone()]);
    let resolve = async |roles: &[i64]| role_mappings::resolve(db.conn(), GUILD, roles).await;
    assert_eq!(resolve(&[12, 11]).await?, Some(MeetingRole::Host));
    assert_eq!(resolve(&[12, 99]).await?, Some(MeetingRole::Attendee));
    assert_eq!(resolve(&[99]).await?, None);

    let mut changes = attendee.into_active_model();
    changes.meeting_role = Set(MeetingRole::Moderator);
    changes.priority = Set(200);
    let updated = role_mappings::update(db.conn(), changes).await?;
    assert_eq!(updated.meeting_role, MeetingRole::Moderator);
    assert_eq!(resolve(&[11, 12]).await?, Some(MeetingRole::Moderator));

    assert!(role_mappings::delete(db.conn(), GUILD, 11).await?);
    assert!(!role_mappings::delete(db.conn(), GUILD, 11).await?);
    assert_eq!(role_mappings::list_for_guild(db.conn(), GUILD).await?, vec![updated]);
    Ok(())
}

async fn identity_link_crud(db: &TestDb) -> anyhow::Result<()> {
    let link = identity_links::link(db.conn(), USER, "alice@uni", Some("alice@uni.edu")).await?;
    assert_eq!(identity_links::get(db.conn(), USER).await?, Some(link.clone()));
    assert_eq!(identity_links::find_by_kaltura_user(db.conn(), "alice@uni").await?, Some(link.clone()));

    let mut changes = link.clone().into_active_model();
    changes.kaltura_user_id = Set("alice.smith@uni".into());
    changes.linked_email = Set(None);
    let updated = identity_links::update(db.conn(), changes).await?;
    assert_eq!(updated.linked_email, None);
    assert_eq!(updated.created_at, link.created_at);
    assert_eq!(identity_links::get(db.conn(), USER).await?, Some(updated));
    assert_eq!(identity_links::find_by_kaltura_user(db.conn(), "alice@uni").await?, None);

    assert!(identity_links::unlink(db.conn(), USER).await?);
    assert_eq!(identity_links::get(db.conn(), USER).await?, None);
    Ok(())
}

async fn meeting_crud(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let start = Utc::now() + Duration::hours(1);
    let mut new = meetings::NewMeeting::new(GUILD, MeetingKind::VirtualClassroom, "Week 1", USER);
    new.description = Some("Intro".into());
    new.scheduled_start = Some(start);
    new.scheduled_end = Some(start + Duration::hours(1));
    new.custom_fields = json!({"course": "CS101", "seats": 30}).as_object().cloned().unwrap_or_default();
    new.idempotency_key = Some("interaction-1".into());
    let created = meetings::create(db.conn(), new).await?;
    assert_eq!(created.status, MeetingStatus::Scheduled);
    assert_eq!(created.version, 1);
    assert_eq!(meetings::get(db.conn(), created.id).await?, Some(created.clone()));
    assert_eq!(meetings::find_by_idempotency_key(db.conn(), GUILD, "interaction-1").await?, Some(created.clone()));

    let mut changes = created.clone().into_active_model();
    changes.kaltura_resource_id = Set(Some("res-1".into()));
    changes.kaltura_event_id = Set(Some("evt-1".into()));
    changes.kaltura_entry_id = Set(Some("0_abc".into()));
    changes.discord_channel_id = Set(Some(1_190_000_000_000_000_001));
    changes.discord_message_id = Set(Some(1_190_000_000_000_000_002));
    changes.discord_scheduled_event_id = Set(Some(1_190_000_000_000_000_003));
    let updated = meetings::update(db.conn(), changes).await?;
    assert_eq!(updated.version, 2);
    assert_eq!(updated.kaltura_entry_id.as_deref(), Some("0_abc"));
    assert_eq!(updated.title, "Week 1");

    let live = meetings::set_status(db.conn(), updated, MeetingStatus::Live).await?;
    assert!(live.actual_start.is_some());
    assert_eq!(live.version, 3);
    assert_eq!(meetings::list_by_status(db.conn(), GUILD, MeetingStatus::Live).await?, vec![live.clone()]);
    assert!(meetings::list_by_status(db.conn(), GUILD, MeetingStatus::Scheduled).await?.is_empty());
    let ended = meetings::set_status(db.conn(), live, MeetingStatus::Ended).await?;
    assert!(ended.actual_end.is_some());
    assert_eq!(meetings::get(db.conn(), ended.id).await?, Some(ended));
    Ok(())
}

async fn meeting_updates_are_version_checked(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let meeting =
        meetings::create(db.conn(), meetings::NewMeeting::new(GUILD, MeetingKind::MeetingRoom, "Standup", USER))
            .await?;

    // Two writers start from the same version; the second one loses.
    let mut first = meeting.clone().into_active_model();
    first.title = Set("Standup (moved)".into());
    let mut second = meeting.clone().into_active_model();
    second.title = Set("Standup (cancelled)".into());
    let winner = meetings::update(db.conn(), first).await?;
    let err = meetings::update(db.conn(), second).await;
    assert!(matches!(err, Err(StoreError::StaleVersion { expected: 1, .. })), "{err:?}");
    assert_eq!(meetings::get(db.conn(), meeting.id).await?, Some(winner));

    assert!(meetings::delete(db.conn(), meeting.id).await?);
    let mut gone = meeting.into_active_model();
    gone.title = Set("Ghost".into());
    let err = meetings::update(db.conn(), gone).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    Ok(())
}

async fn participant_crud(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let meeting =
        meetings::create(db.conn(), meetings::NewMeeting::new(GUILD, MeetingKind::Webinar, "Launch", USER)).await?;
    let host = participants::add(db.conn(), meeting.id, USER, MeetingRole::Host).await?;
    let guest = participants::add(db.conn(), meeting.id, OTHER_USER, MeetingRole::Attendee).await?;
    assert_eq!(participants::get(db.conn(), meeting.id, USER).await?, Some(host.clone()));
    assert_eq!(participants::list(db.conn(), meeting.id).await?, vec![host.clone(), guest.clone()]);

    let promoted = participants::set_role(db.conn(), guest, MeetingRole::Moderator).await?;
    assert_eq!(promoted.role, MeetingRole::Moderator);
    let left = participants::mark_left(db.conn(), meeting.id, OTHER_USER).await?;
    assert!(left.left_at.is_some_and(|at| at >= left.joined_at));
    assert_eq!(participants::get(db.conn(), meeting.id, OTHER_USER).await?, Some(left));
    let err = participants::mark_left(db.conn(), meeting.id, 42).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    Ok(())
}

async fn recording_crud(db: &TestDb) -> anyhow::Result<()> {
    guilds::create(db.conn(), GUILD, "Guild").await?;
    let meeting =
        meetings::create(db.conn(), meetings::NewMeeting::new(GUILD, MeetingKind::VirtualClassroom, "Lecture", USER))
            .await?;
    let recording = recordings::create(db.conn(), meeting.id, "1_rec0001").await?;
    assert_eq!(recording.status, RecordingStatus::Pending);
    assert_eq!(recordings::get(db.conn(), recording.id).await?, Some(recording.clone()));
    assert_eq!(recordings::find_by_entry_id(db.conn(), "1_rec0001").await?, Some(recording.clone()));
    assert!(recordings::list_unposted_ready(db.conn()).await?.is_empty());

    let mut changes = recording.into_active_model();
    changes.status = Set(RecordingStatus::Ready);
    changes.play_url = Set(Some("https://play.example/1_rec0001".into()));
    changes.download_url = Set(Some("https://dl.example/1_rec0001.mp4".into()));
    changes.thumbnail_url = Set(Some("https://thumb.example/1_rec0001.jpg".into()));
    changes.duration_seconds = Set(Some(3_725));
    let ready = recordings::update(db.conn(), changes).await?;
    assert_eq!(ready.duration_seconds, Some(3_725));
    assert_eq!(recordings::list_unposted_ready(db.conn()).await?, vec![ready.clone()]);

    let posted = recordings::mark_posted(db.conn(), ready).await?;
    assert!(posted.posted_at.is_some());
    assert!(recordings::list_unposted_ready(db.conn()).await?.is_empty());
    assert_eq!(recordings::list_for_meeting(db.conn(), meeting.id).await?, vec![posted]);
    Ok(())
}
