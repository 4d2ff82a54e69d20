//! Reminders as persisted schedules, on real NATS and both databases: a reminder whose time came
//! while the service was stopped fires once when it starts again, with two replicas running;
//! a cancelled meeting is never reminded; a moved meeting is reminded again.
//!
//! Time is driven through the meetings' start times (written to the store as the clock would
//! move them), never through timers.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use kalcord_proto::subject;
use kalcord_proto::v1::{CreateMeetingRequest, MeetingStatus, UpdateMeetingRequest};
use kalcord_store::Store;
use kalcord_store::repo::meetings;
use kalcord_test_util::distributed::DistributedEnv;
use sea_orm::{IntoActiveModel as _, Set};
use uuid::Uuid;

use super::cancel;
use crate::common::{GUILD_A, HOST, Harness, Options, actor, create_request, in_hours, meeting};
use crate::events::{Db, Reader, nats};

const LEAD: Duration = Duration::from_mins(15);

/// Moves the meeting's start to `minutes` from now, as time passing would.
async fn starts_in(store: &Store, id: &str, minutes: i64) {
    let row = meetings::get(store.connection(), Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
    let mut changes = row.into_active_model();
    changes.scheduled_start = Set(Some(Utc::now() + TimeDelta::minutes(minutes)));
    meetings::update(store.connection(), changes).await.unwrap();
}

async fn reminders_fire_once_across_restarts(postgres: bool) {
    let env = DistributedEnv::new(false).await.unwrap();
    let db = Db::new(postgres).await;
    let bus = nats(&env).await;
    let mut reader = Reader::new(&bus).await;
    let options = || Options { store_url: db.url(), bus: Some(bus.clone()), reminder_lead: LEAD, ..Options::default() };

    // Scheduled well ahead of the lead time: no reminder yet. One of them is cancelled.
    let h = Harness::with(options()).await;
    let scheduled = |key: &str, title: &str| CreateMeetingRequest {
        scheduled_start_unix_ms: in_hours(2),
        ..create_request(GUILD_A, HOST, key, title)
    };
    let kept = meeting(&h.create(scheduled("rem-1", "Kept")).await).clone();
    let dropped = meeting(&h.create(scheduled("rem-2", "Dropped")).await).clone();
    meeting(&cancel(&h, GUILD_A, HOST, &dropped.id).await);
    let kinds: Vec<String> = reader.take(3).await.into_iter().map(|(_, event)| event.kind).collect();
    assert_eq!(kinds, ["scheduled", "scheduled", "cancelled"]);

    // The service stops; while it is down both meetings come within 10 minutes of their start.
    h.store.clone().close().await.ok();
    h.stop().await;
    let store = db.store().await;
    starts_in(&store, &kept.id, 10).await;
    starts_in(&store, &dropped.id, 10).await;

    // Two replicas start: the kept meeting is reminded once, the cancelled one never.
    let (a, b) = tokio::join!(Harness::with(options()), Harness::with(options()));
    let events = reader.take(1).await;
    let (subject_of, reminder) = &events[0];
    assert_eq!((subject_of.as_str(), reminder.kind.as_str()), (subject::MEETINGS_EVENTS_REMINDER, "reminder"));
    let reminded = reminder.meeting.as_ref().expect("the meeting");
    assert_eq!((reminded.id.as_str(), reminded.status), (kept.id.as_str(), i32::from(MeetingStatus::Scheduled)));
    assert_eq!(reminder.reminder_lead_seconds, 900);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(reader.take(0).await.is_empty(), "later polls remind nobody again");
    let row = meetings::get(store.connection(), Uuid::parse_str(&kept.id).unwrap()).await.unwrap().unwrap();
    assert!(row.reminder_sent_at.is_some());

    // Moved to another time within the lead: reminded again, once.
    let moved = UpdateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        meeting_id: kept.id.clone(),
        scheduled_start_unix_ms: Some((Utc::now() + TimeDelta::minutes(12)).timestamp_millis()),
        ..UpdateMeetingRequest::default()
    };
    meeting(&a.call(subject::MEETINGS_UPDATE, &moved).await);
    let kinds: Vec<String> = reader.take(2).await.into_iter().map(|(_, event)| event.kind).collect();
    assert_eq!(kinds, ["updated", "reminder"]);

    store.close().await.ok();
    for replica in [a, b] {
        replica.store.clone().close().await.ok();
        replica.stop().await;
    }
    db.remove().await;
    env.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reminders_fire_once_across_restarts_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    reminders_fire_once_across_restarts(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reminders_fire_once_across_restarts_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    reminders_fire_once_across_restarts(true).await;
}

/// The reminder poll on a controlled clock: each guild is reminded at its own lead time (a
/// guild's `/kaltura notifications` choice, else the service default), not a poll earlier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_guild_is_reminded_at_its_own_lead() {
    use kalcord_meetings::MeetingsApi;
    use kalcord_store::repo::guilds;

    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    // NOTE: ten days ahead, beyond any lead: the service's own poll (real clock) never fires them.
    let start = Utc::now() + TimeDelta::days(10);
    let create = |guild: u64, key: &str| CreateMeetingRequest {
        scheduled_start_unix_ms: start.timestamp_millis(),
        ..create_request(guild, HOST, key, "Exam review")
    };
    let chosen = meeting(&h.create(create(GUILD_A, "lead-a")).await).clone();
    let default = meeting(&h.create(create(crate::common::GUILD_B, "lead-b")).await).clone();
    let row = guilds::get(h.store.connection(), i64::try_from(GUILD_A).unwrap()).await.unwrap().unwrap();
    let mut changes = row.into_active_model();
    changes.reminder_minutes = Set(Some(30));
    guilds::update(h.store.connection(), changes).await.unwrap();

    let common = kalcord_runtime::CommonConfig::defaults();
    let tenants = kalcord_tenant::Tenants::open(&common.kaltura, &common.secrets, h.store.clone()).unwrap();
    let api = MeetingsApi::new(h.bus.clone(), h.store.clone(), tenants, Duration::from_secs(1));
    let at = |minutes_before: i64| start - TimeDelta::minutes(minutes_before);
    let reminded = |id: String| {
        let store = h.store.clone();
        async move {
            let row = meetings::get(store.connection(), Uuid::parse_str(&id).unwrap()).await.unwrap().unwrap();
            row.reminder_sent_at
        }
    };

    assert_eq!(api.send_due_reminders(at(31), LEAD).await.unwrap(), 0, "31 minutes before: nobody");
    assert_eq!(api.send_due_reminders(at(29), LEAD).await.unwrap(), 1, "29 minutes before: the 30-minute guild");
    assert_eq!(reminded(chosen.id.clone()).await, Some(at(29)));
    assert_eq!(reminded(default.id.clone()).await, None);
    assert_eq!(api.send_due_reminders(at(16), LEAD).await.unwrap(), 0, "16 minutes before: not the default yet");
    assert_eq!(api.send_due_reminders(at(14), LEAD).await.unwrap(), 1, "14 minutes before: the default guild");
    assert_eq!(reminded(default.id.clone()).await, Some(at(14)));
    assert_eq!(api.send_due_reminders(at(1), LEAD).await.unwrap(), 0, "each once");
    // A zero default reminds only the guilds that chose a lead.
    let later = meeting(
        &h.create(CreateMeetingRequest {
            scheduled_start_unix_ms: start.timestamp_millis(),
            ..create_request(crate::common::GUILD_B, HOST, "lead-c", "Office hours")
        })
        .await,
    )
    .clone();
    assert_eq!(api.send_due_reminders(at(5), Duration::ZERO).await.unwrap(), 0);
    assert_eq!(reminded(later.id).await, None);
    h.stop().await;
}

/// A scheduled meeting whose start time comes goes live by itself (no request needed), with its
/// `started` event, once: the start time is read from the store at each poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_goes_live_at_its_start_time_without_anyone_asking() {
    use kalcord_store::entity::{MeetingStatus as StoredStatus, event_outbox};
    use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let scheduled = CreateMeetingRequest {
        scheduled_start_unix_ms: in_hours(2),
        ..create_request(GUILD_A, HOST, "due-1", "Morning lecture")
    };
    let created = meeting(&h.create(scheduled).await).clone();
    // The clock reaches the start (the service keeps polling; nobody asks it anything).
    starts_in(&h.store, &created.id, -1).await;
    let id = Uuid::parse_str(&created.id).unwrap();
    let mut status = StoredStatus::Scheduled;
    for _ in 0..100 {
        status = meetings::get(h.store.connection(), id).await.unwrap().unwrap().status;
        if status == StoredStatus::Live {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, StoredStatus::Live);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = event_outbox::Entity::find()
        .filter(event_outbox::Column::Subject.eq(subject::MEETINGS_EVENTS_STARTED))
        .count(h.store.connection())
        .await
        .unwrap();
    assert_eq!(started, 1, "one started event, however many polls ran");
    h.stop().await;
}
