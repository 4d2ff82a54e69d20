//! Meeting events through the transactional outbox, on real NATS and on both databases: one
//! event per change, an event committed before a crash goes out at the next start, and relays
//! running at once store each event once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kalcord_bus::{BusBackend, BusConfig, Consumer, ConsumerSpec, SharedBus};
use kalcord_meetings::Relay;
use kalcord_meetings::event::{self, Change, EventKind};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    CreateMeetingRequest, ListMeetingsReply, ListMeetingsRequest, MeetingEvent, MeetingReply, MeetingStatus,
    UpdateMeetingRequest,
};
use kalcord_store::Store;
use kalcord_store::entity::{MeetingKind, meeting};
use kalcord_store::repo::{guilds, meetings, outbox};
use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::postgres::{TempDatabase, fresh_database};
use sea_orm::TransactionTrait as _;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{cancel, end};
use crate::common::{GUILD_A, HOST, Harness, Options, actor, create_request, error, in_hours, meeting};

/// A test's database: a fresh PostgreSQL database or a temporary SQLite file.
pub(crate) enum Db {
    Sqlite(PathBuf),
    Postgres(TempDatabase),
}

impl Db {
    pub(crate) async fn new(postgres: bool) -> Self {
        if postgres {
            Self::Postgres(fresh_database().await.expect("PostgreSQL at 127.0.0.1:5432"))
        } else {
            Self::Sqlite(std::env::temp_dir().join(format!("kalcord-meetings-events-{}.db", Uuid::new_v4())))
        }
    }

    pub(crate) fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(db) => db.url.clone(),
        }
    }

    pub(crate) async fn store(&self) -> Store {
        let store = Store::connect(&self.url()).await.expect("store connects");
        store.migrate().await.expect("migrations apply");
        store
    }

    pub(crate) async fn remove(self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Self::Postgres(db) => db.drop_database().await.expect("drop the test database"),
        }
    }
}

pub(crate) async fn nats(env: &DistributedEnv) -> SharedBus {
    let config = BusConfig {
        backend: BusBackend::Nats,
        connect_timeout: Duration::from_secs(5),
        prefix: env.prefix().to_owned(),
        request_timeout: Duration::from_secs(2),
        stream_replicas: 1,
        token: None,
        url: kalcord_test_util::env::nats_url().parse().unwrap(),
    };
    kalcord_bus::connect(&config, "meetings-events-test").await.expect("NATS is running (`make services`)")
}

/// Reads what the MEETINGS_EVENTS stream stored, as a consumer would.
pub(crate) struct Reader(Consumer);

impl Reader {
    pub(crate) async fn new(bus: &SharedBus) -> Self {
        let spec = ConsumerSpec::new("MEETINGS_EVENTS", "events-test", subject::MEETINGS_EVENTS);
        Self(bus.consume(&spec).await.expect("consumer"))
    }

    /// The next `count` stored events (subject, event), then checks nothing more arrives.
    pub(crate) async fn take(&mut self, count: usize) -> Vec<(String, MeetingEvent)> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            let next = tokio::time::timeout(Duration::from_secs(10), self.0.next()).await;
            let delivery = next
                .unwrap_or_else(|_| panic!("{} of {count} events arrived", events.len()))
                .expect("the consumer is open")
                .expect("a delivery");
            let event = MeetingEvent::decode(delivery.message.payload.as_ref()).expect("a MeetingEvent");
            events.push((delivery.subject.clone(), event));
            delivery.ack().await.expect("ack");
        }
        if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(700), self.0.next()).await {
            panic!("an unexpected event: {extra:?}");
        }
        events
    }
}

/// Waits until the relay has marked every outbox row published.
pub(crate) async fn all_marked(store: &Store) {
    for _ in 0..100 {
        if outbox::unpublished(store.connection(), 1).await.expect("outbox").is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("outbox rows left unpublished");
}

/// A meeting row (and its guild) written straight to the store.
async fn stored_meeting(store: &Store) -> meeting::Model {
    let guild = i64::try_from(GUILD_A).unwrap();
    guilds::create(store.connection(), guild, "").await.expect("guild");
    let new = meetings::NewMeeting::new(guild, MeetingKind::MeetingRoom, "Orphan", i64::try_from(HOST).unwrap());
    meetings::create(store.connection(), new).await.expect("meeting")
}

async fn update_title(h: &Harness, id: &str, title: &str) -> MeetingReply {
    let request = UpdateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        meeting_id: id.to_owned(),
        title: Some(title.to_owned()),
        ..UpdateMeetingRequest::default()
    };
    h.call(subject::MEETINGS_UPDATE, &request).await
}

/// Moves the meeting's start time into the past, as the clock would.
async fn make_due(h: &Harness, id: &str) {
    let row = meetings::get(h.store.connection(), Uuid::parse_str(id).unwrap()).await.unwrap().unwrap();
    let mut changes = sea_orm::IntoActiveModel::into_active_model(row);
    changes.scheduled_start = sea_orm::Set(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(1)));
    meetings::update(h.store.connection(), changes).await.unwrap();
}

async fn every_change_publishes_one_event(postgres: bool) {
    let env = DistributedEnv::new(false).await.unwrap();
    let db = Db::new(postgres).await;
    let bus = nats(&env).await;
    let mut reader = Reader::new(&bus).await;
    let h = Harness::with(Options { store_url: db.url(), bus: Some(bus), ..Options::default() }).await;

    // Scheduled, updated (a no-op update and a replayed creation publish nothing), cancelled.
    let request =
        CreateMeetingRequest { scheduled_start_unix_ms: in_hours(2), ..create_request(GUILD_A, HOST, "ev-1", "Plan") };
    let planned = meeting(&h.create(request.clone()).await).clone();
    assert!(h.create(request).await.replayed);
    meeting(&update_title(&h, &planned.id, "Plan v2").await);
    meeting(&update_title(&h, &planned.id, "Plan v2").await);
    meeting(&cancel(&h, GUILD_A, HOST, &planned.id).await);
    assert_eq!(error(&cancel(&h, GUILD_A, HOST, &planned.id).await).code, "conflict", "a refusal publishes nothing");
    // Started now, then ended.
    let live = meeting(&h.create(create_request(GUILD_A, HOST, "ev-2", "Standup")).await).clone();
    meeting(&end(&h, GUILD_A, HOST, &live.id).await);
    // Scheduled, started by kalcord when its time came, then ended.
    let request = CreateMeetingRequest {
        scheduled_start_unix_ms: in_hours(1),
        ..create_request(GUILD_A, HOST, "ev-3", "Review")
    };
    let due = meeting(&h.create(request).await).clone();
    make_due(&h, &due.id).await;
    let list = ListMeetingsRequest { actor: Some(actor(GUILD_A, HOST)), ..ListMeetingsRequest::default() };
    let _: ListMeetingsReply = h.call(subject::MEETINGS_LIST, &list).await;
    meeting(&end(&h, GUILD_A, HOST, &due.id).await);

    let events = reader.take(8).await;
    let seen: Vec<(&str, &str, i32, u64)> = events
        .iter()
        .map(|(subject, event)| {
            assert_eq!(*subject, format!("{}{}", subject::MEETINGS_EVENTS_PREFIX, event.kind));
            let meeting = event.meeting.as_ref().expect("the meeting");
            (event.kind.as_str(), meeting.id.as_str(), meeting.status, event.actor_user_id)
        })
        .collect();
    let (scheduled, live_now, ended, cancelled) = (
        i32::from(MeetingStatus::Scheduled),
        i32::from(MeetingStatus::Live),
        i32::from(MeetingStatus::Ended),
        i32::from(MeetingStatus::Cancelled),
    );
    assert_eq!(
        seen,
        [
            ("scheduled", planned.id.as_str(), scheduled, HOST),
            ("updated", planned.id.as_str(), scheduled, HOST),
            ("cancelled", planned.id.as_str(), cancelled, HOST),
            ("started", live.id.as_str(), live_now, HOST),
            ("ended", live.id.as_str(), ended, HOST),
            ("scheduled", due.id.as_str(), scheduled, HOST),
            ("started", due.id.as_str(), live_now, 0),
            ("ended", due.id.as_str(), ended, HOST),
        ]
    );
    let updated = &events[1].1;
    assert_eq!(updated.meeting.as_ref().unwrap().title, "Plan v2");
    assert_eq!(updated.changed_fields, ["title"]);
    assert!(events.iter().all(|(_, event)| event.changed_fields.is_empty() || event.kind == "updated"));
    let mut ids: Vec<Uuid> = events.iter().map(|(_, event)| Uuid::parse_str(&event.event_id).unwrap()).collect();
    assert!(events.iter().all(|(_, event)| event.occurred_at_unix_ms > 0));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "every event has its own id");
    all_marked(&h.store).await;

    h.store.clone().close().await.ok();
    h.stop().await;
    db.remove().await;
    env.cleanup().await.unwrap();
}

async fn an_event_committed_before_a_crash_goes_out_at_start(postgres: bool) {
    let env = DistributedEnv::new(false).await.unwrap();
    let db = Db::new(postgres).await;
    let bus = nats(&env).await;
    let mut reader = Reader::new(&bus).await;
    // A replica committed a change with its event, then died before its relay published it.
    let store = db.store().await;
    let row = stored_meeting(&store).await;
    let txn = store.connection().begin().await.unwrap();
    let id = event::record(&txn, EventKind::Scheduled, &row, Change::default()).await.unwrap();
    txn.commit().await.unwrap();
    assert!(reader.take(0).await.is_empty(), "nothing is published while no relay runs");

    let h = Harness::with(Options { store_url: db.url(), bus: Some(bus), ..Options::default() }).await;
    let events = reader.take(1).await;
    assert_eq!(events[0].0, subject::MEETINGS_EVENTS_SCHEDULED);
    assert_eq!(events[0].1.event_id, id.to_string());
    assert_eq!(events[0].1.meeting.as_ref().unwrap().id, row.id.to_string());
    all_marked(&store).await;

    store.close().await.ok();
    h.store.clone().close().await.ok();
    h.stop().await;
    db.remove().await;
    env.cleanup().await.unwrap();
}

async fn relays_running_at_once_store_each_event_once(postgres: bool) {
    const EVENTS: u64 = 150;
    let env = DistributedEnv::new(false).await.unwrap();
    let db = Db::new(postgres).await;
    let (bus_a, bus_b) = (nats(&env).await, nats(&env).await);
    let mut reader = Reader::new(&bus_a).await;
    let (store_a, store_b) = (db.store().await, db.store().await);
    let row = stored_meeting(&store_a).await;
    let mut ids = Vec::new();
    for _ in 0..EVENTS {
        ids.push(event::record(store_a.connection(), EventKind::Updated, &row, Change::default()).await.unwrap());
    }

    // Two replicas' relays over the same rows, more than one batch of them.
    let relay = |bus: &SharedBus, store: &Store| {
        let (sweep, retention) = (Duration::from_secs(2), Duration::from_hours(1));
        Relay::new(bus.clone(), store.clone(), Arc::new(Notify::new()), sweep, retention)
    };
    let (a, b) = (relay(&bus_a, &store_a), relay(&bus_b, &store_b));
    let (marked_a, marked_b) = tokio::join!(a.publish_pending(), b.publish_pending());
    assert_eq!(marked_a.unwrap() + marked_b.unwrap(), EVENTS, "each row is marked once");
    assert_eq!(a.publish_pending().await.unwrap(), 0, "nothing is left");

    let stored: Vec<String> =
        reader.take(usize::try_from(EVENTS).unwrap()).await.into_iter().map(|(_, event)| event.event_id).collect();
    let expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(stored, expected, "one stored message per event, in order");

    store_a.close().await.ok();
    store_b.close().await.ok();
    db.remove().await;
    env.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_change_publishes_one_event_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    every_change_publishes_one_event(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_change_publishes_one_event_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    every_change_publishes_one_event(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_committed_before_a_crash_goes_out_at_start_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    an_event_committed_before_a_crash_goes_out_at_start(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_committed_before_a_crash_goes_out_at_start_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    an_event_committed_before_a_crash_goes_out_at_start(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relays_running_at_once_store_each_event_once_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    relays_running_at_once_store_each_event_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relays_running_at_once_store_each_event_once_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    relays_running_at_once_store_each_event_once(true).await;
}
