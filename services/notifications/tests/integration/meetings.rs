//! A meeting's Discord objects follow it: the scheduled event mirroring a scheduled meeting is
//! created, updated, started, completed or cancelled with it; the announcement message is edited
//! as the meeting goes live and ends; each server's preferences (muted kinds, the pinged role,
//! Discord events off) are obeyed; an event created just before a crash is found again, not
//! created twice.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use kalcord_discord_emulator::seed;
use kalcord_proto::v1::{Meeting, MeetingEvent, MeetingStatus as ProtoStatus};
use kalcord_store::entity::meeting_sync::EventState;
use kalcord_store::entity::{MeetingKind, MeetingStatus, meeting};
use kalcord_store::repo::meeting_syncs::{self, Progress};
use kalcord_store::repo::{guilds, meetings};
use sea_orm::{IntoActiveModel as _, Set};
use serde_json::Value;

use super::common::{Harness, db, title};

const SETTLE: Duration = Duration::from_secs(30);
const ORIGIN: &str = "https://kalcord.example.com";

/// A scheduled meeting of the demo guild, `days` ahead, 90 minutes long.
async fn scheduled(h: &Harness, title: &str, days: i64) -> meeting::Model {
    let start = Utc::now() + TimeDelta::days(days);
    let mut new = meetings::NewMeeting::new(db(seed::GUILD_ID), MeetingKind::MeetingRoom, title, db(seed::TEACHER_ID));
    new.scheduled_start = Some(start);
    new.scheduled_end = Some(start + TimeDelta::minutes(90));
    meetings::create(h.store.connection(), new).await.unwrap()
}

async fn change(h: &Harness, row: meeting::Model, edit: impl FnOnce(&mut meeting::ActiveModel)) -> meeting::Model {
    let mut changes = row.into_active_model();
    edit(&mut changes);
    meetings::update(h.store.connection(), changes).await.unwrap()
}

fn ms(at: Option<DateTime<Utc>>) -> i64 {
    at.map_or(0, |at| at.timestamp_millis())
}

/// The event the meetings service would publish after a change of `row`.
fn event_of(kind: &str, row: &meeting::Model, fields: &[&str]) -> MeetingEvent {
    let status = match row.status {
        MeetingStatus::Scheduled => ProtoStatus::Scheduled,
        MeetingStatus::Live => ProtoStatus::Live,
        MeetingStatus::Ended => ProtoStatus::Ended,
        MeetingStatus::Cancelled => ProtoStatus::Cancelled,
    };
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok()).unwrap_or_default();
    MeetingEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        kind: kind.to_owned(),
        meeting: Some(Meeting {
            id: row.id.to_string(),
            guild_id: seed::GUILD_ID,
            title: row.title.clone(),
            description: row.description.clone().unwrap_or_default(),
            status: status.into(),
            host_user_id: seed::TEACHER_ID,
            scheduled_start_unix_ms: ms(row.scheduled_start),
            scheduled_end_unix_ms: ms(row.scheduled_end),
            actual_start_unix_ms: ms(row.actual_start),
            actual_end_unix_ms: ms(row.actual_end),
            discord_channel_id: id(row.discord_channel_id),
            discord_message_id: id(row.discord_message_id),
            version: row.version,
            ..Meeting::default()
        }),
        occurred_at_unix_ms: Utc::now().timestamp_millis(),
        changed_fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        ..MeetingEvent::default()
    }
}

fn events(h: &Harness) -> Vec<Value> {
    h.discord.state().scheduled_events(seed::GUILD_ID)
}

fn location(row: &meeting::Model) -> String {
    format!("{ORIGIN}/m/{}/{}", seed::GUILD_ID, row.id)
}

fn started(at: Option<DateTime<Utc>>) -> String {
    DateTime::parse_from_rfc3339(at.map(|at| at.to_rfc3339()).unwrap().as_str())
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

async fn harness() -> Harness {
    let mut h = Harness::new().await;
    h.public_url = Some(ORIGIN.to_owned());
    h.start().await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_meeting_is_mirrored_by_a_discord_event_through_its_life() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;

    // Scheduled: one EXTERNAL event pointing at the launch page.
    let planned = scheduled(&h, "Physics", 2).await;
    h.publish(&event_of("scheduled", &planned, &[]), false).await;
    h.settled(SETTLE).await;
    let listed = events(&h);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let created = &listed[0];
    assert_eq!(
        (created["name"].as_str(), created["entity_type"].as_u64(), created["status"].as_u64()),
        (Some("Physics"), Some(3), Some(1))
    );
    assert_eq!(created["entity_metadata"]["location"].as_str(), Some(location(&planned).as_str()));
    assert!(
        created["scheduled_start_time"].as_str().unwrap().starts_with(&started(planned.scheduled_start)),
        "{created}"
    );
    assert!(created["scheduled_end_time"].as_str().unwrap().starts_with(&started(planned.scheduled_end)), "{created}");

    // Renamed and moved: the same event follows; a redelivered older event changes nothing.
    let moved_to = planned.scheduled_start.unwrap() + TimeDelta::days(1);
    let renamed = change(&h, planned.clone(), |row| {
        row.title = Set("Physics II".to_owned());
        row.scheduled_start = Set(Some(moved_to));
        row.scheduled_end = Set(Some(moved_to + TimeDelta::minutes(45)));
    })
    .await;
    h.publish(&event_of("updated", &renamed, &["title", "scheduled_start_unix_ms"]), false).await;
    h.settled(SETTLE).await;
    h.publish(&event_of("scheduled", &planned, &[]), true).await;
    h.settled(SETTLE).await;
    let listed = events(&h);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], "Physics II");
    assert!(listed[0]["scheduled_start_time"].as_str().unwrap().starts_with(&started(Some(moved_to))), "{}", listed[0]);

    // Cancelled: the event is cancelled.
    let cancelled = change(&h, renamed, |row| row.status = Set(MeetingStatus::Cancelled)).await;
    h.publish(&event_of("cancelled", &cancelled, &[]), false).await;
    h.settled(SETTLE).await;
    assert_eq!(events(&h)[0]["status"], 4);

    // Another meeting goes live and ends; its events may be handled in any order.
    let second = scheduled(&h, "Chemistry", 3).await;
    h.publish(&event_of("scheduled", &second, &[]), false).await;
    h.settled(SETTLE).await;
    let live = change(&h, second, |row| {
        row.status = Set(MeetingStatus::Live);
        row.actual_start = Set(Some(Utc::now()));
    })
    .await;
    let ended = change(&h, live.clone(), |row| {
        row.status = Set(MeetingStatus::Ended);
        row.actual_end = Set(Some(Utc::now()));
    })
    .await;
    h.publish(&event_of("ended", &ended, &[]), false).await;
    h.publish(&event_of("started", &live, &[]), false).await;
    h.settled(SETTLE).await;
    let chemistry: Vec<Value> = events(&h).into_iter().filter(|event| event["name"] == "Chemistry").collect();
    assert_eq!(chemistry.len(), 1);
    assert_eq!(chemistry[0]["status"], 3, "completed, through active");
    let patches: Vec<String> = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "PATCH" && request.path.contains("scheduled-events"))
        .map(|request| format!("{} {:?} {:?}", request.status, request.body, request.error_code))
        .collect();
    assert!(patches.iter().all(|status| status.starts_with("200")), "no refused change: {patches:#?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_announcement_follows_the_meeting_and_preferences_are_obeyed() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let guild = guilds::get(h.store.connection(), db(seed::GUILD_ID)).await.unwrap().unwrap();
    let mut prefs = guild.into_active_model();
    prefs.mention_role_id = Set(Some(db(seed::STUDENT_ROLE)));
    prefs.muted_posts = Set("updated,ended".to_owned());
    prefs.scheduled_events = Set(false);
    guilds::update(h.store.connection(), prefs).await.unwrap();

    // The meeting was announced by /meeting schedule (a message of the bot in #classroom).
    let egress = h.egress();
    let planned = scheduled(&h, "Biology", 1).await;
    let announcement = egress
        .create_message(
            seed::CLASSROOM_CHANNEL,
            &kalcord_view::announcement(event_of("scheduled", &planned, &[]).meeting.as_ref().unwrap()),
        )
        .await
        .unwrap();
    let message_id: i64 = announcement.id.parse().unwrap();
    let planned = change(&h, planned, |row| {
        row.discord_channel_id = Set(Some(db(seed::CLASSROOM_CHANNEL)));
        row.discord_message_id = Set(Some(message_id));
    })
    .await;
    let buttons = |h: &Harness| -> Vec<String> {
        let message = h.discord.state().message(u64::try_from(message_id).unwrap()).unwrap();
        message["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|button| button["label"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(buttons(&h), ["Join", "Cancel"]);

    h.publish(&event_of("scheduled", &planned, &[]), false).await;
    let renamed = change(&h, planned, |row| row.title = Set("Biology II".to_owned())).await;
    h.publish(&event_of("updated", &renamed, &["title"]), false).await;
    let live = change(&h, renamed, |row| {
        row.status = Set(MeetingStatus::Live);
        row.actual_start = Set(Some(Utc::now()));
    })
    .await;
    h.publish(&event_of("started", &live, &[]), false).await;
    h.settled(SETTLE).await;
    assert_eq!(buttons(&h), ["Join", "End"], "live: End instead of Cancel");
    let shown = h.discord.state().message(u64::try_from(message_id).unwrap()).unwrap();
    assert!(shown["embeds"].to_string().contains("Biology II"), "{shown}");

    let ended = change(&h, live, |row| {
        row.status = Set(MeetingStatus::Ended);
        row.actual_end = Set(Some(Utc::now()));
    })
    .await;
    h.publish(&event_of("ended", &ended, &[]), false).await;
    h.settled(SETTLE).await;
    assert!(buttons(&h).is_empty(), "over: no buttons");

    // Posts: scheduled and live ping the role; updated and ended are muted.
    let posts = h.posts();
    let mut titles: Vec<String> =
        posts.iter().filter(|post| post.channel_id == seed::GENERAL_CHANNEL).map(title).collect();
    titles.sort();
    assert_eq!(titles, ["Live now: Biology II", "Scheduled: Biology"]);
    let role = format!("<@&{}>", seed::STUDENT_ROLE);
    assert!(
        posts.iter().filter(|post| post.channel_id == seed::GENERAL_CHANNEL).all(|post| post.content == role),
        "{posts:?}"
    );
    let sent: Vec<Value> = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| {
            request.method == "POST" && request.path.ends_with(&format!("/channels/{}/messages", seed::GENERAL_CHANNEL))
        })
        .filter_map(|request| request.body)
        .collect();
    assert!(
        sent.iter()
            .all(|body| body["allowed_mentions"]["roles"] == serde_json::json!([seed::STUDENT_ROLE.to_string()])),
        "{sent:?}"
    );
    assert!(events(&h).is_empty(), "Discord events are off in this server");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_created_before_a_crash_is_found_again_not_created_twice() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let planned = scheduled(&h, "History", 2).await;
    // A replica created the event, then died before recording it.
    let conn = h.store.connection();
    let lease = Duration::from_millis(1);
    meeting_syncs::acquire(conn, planned.id, db(seed::GUILD_ID), "dead-replica", lease).await.unwrap().unwrap();
    let creating = Progress { event_state: Some(EventState::Creating), ..Progress::default() };
    assert!(meeting_syncs::record(conn, planned.id, "dead-replica", creating).await.unwrap());
    let body = serde_json::json!({
        "name": "History", "privacy_level": 2, "entity_type": 3,
        "scheduled_start_time": planned.scheduled_start.unwrap().to_rfc3339(),
        "scheduled_end_time": planned.scheduled_end.unwrap().to_rfc3339(),
        "entity_metadata": {"location": location(&planned)},
    });
    let path = format!("guilds/{}/scheduled-events", seed::GUILD_ID);
    let made: Value = h.egress().request(kalcord_discord::egress::Method::Post, &path, Some(&body)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    h.publish(&event_of("scheduled", &planned, &[]), false).await;
    h.settled(SETTLE).await;
    let listed = events(&h);
    assert_eq!(listed.len(), 1, "found again, not created twice: {listed:?}");
    let synced = meeting_syncs::get(conn, planned.id).await.unwrap().unwrap();
    assert_eq!(synced.event_state, EventState::Linked);
    assert_eq!(synced.event_id.map(|id| id.to_string()).as_deref(), made["id"].as_str());
    assert_eq!(synced.event_version, planned.version);
    h.stop().await;
}

/// Someone cancelled the mirrored event by hand in Discord: when the meeting then goes live, the
/// refused change is settled by reading where the event is, not retried forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_changed_by_hand_in_discord_is_read_back_not_fought() {
    let _trace = kalcord_test_util::trace_init();
    let h = harness().await;
    let planned = scheduled(&h, "Art", 2).await;
    h.publish(&event_of("scheduled", &planned, &[]), false).await;
    h.settled(SETTLE).await;
    let event = events(&h)[0]["id"].as_str().unwrap().to_owned();
    let path = format!("guilds/{}/scheduled-events/{event}", seed::GUILD_ID);
    let cancel = serde_json::json!({"status": 4});
    let _: Value = h.egress().request(kalcord_discord::egress::Method::Patch, &path, Some(&cancel)).await.unwrap();

    let live = change(&h, planned, |row| {
        row.status = Set(MeetingStatus::Live);
        row.actual_start = Set(Some(Utc::now()));
    })
    .await;
    h.publish(&event_of("started", &live, &[]), false).await;
    h.settled(SETTLE).await;
    assert_eq!(events(&h)[0]["status"], 4, "left as Discord has it");
    let synced = meeting_syncs::get(h.store.connection(), live.id).await.unwrap().unwrap();
    assert_eq!((synced.event_status, synced.event_version), (Some(4), live.version));
    let refused = h
        .discord
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.method == "PATCH" && request.path.contains(&event) && request.status == 400)
        .count();
    assert_eq!(refused, 1, "one refused change, then read back");
    h.stop().await;
}
