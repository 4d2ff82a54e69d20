//! Kaltura notifications on `kaltura.webhooks` applied by the meetings service, on real NATS and
//! both databases: the emulator records a meeting's room and notifies the entry READY; the
//! notification, normalised as the api-gateway stores it and delivered three times, makes one
//! recording row and one `recording_ready` event; an unknown entry and a malformed payload are
//! settled without effect.

use std::time::Duration;

use kalcord_bus::{Event, SharedBus};
use kalcord_kaltura::webhook::{self, WebhookEvent};
use kalcord_kaltura_emulator::{RecordingRequest, WebhookSubscription};
use kalcord_meetings::webhook::{DURABLE, STREAM};
use kalcord_proto::subject;
use kalcord_proto::v1::{CreateMeetingRequest, MeetingStatus};
use kalcord_store::entity::{RecordingStatus, recording};
use kalcord_store::repo::{meetings, recordings};
use kalcord_test_util::distributed::DistributedEnv;
use sea_orm::{EntityTrait as _, PaginatorTrait as _};
use uuid::Uuid;

use crate::common::{GUILD_A, HOST, Harness, Options, PARTNER, create_request, in_hours, meeting};
use crate::events::{Db, Reader, nats};

/// A loopback HTTP endpoint answering every request 200, for the emulator's notifications.
async fn accepting_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/kaltura/default", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer_ok(socket));
        }
    });
    url
}

/// Reads one request (headers and `content-length` bytes of body), then answers 200.
async fn answer_ok(socket: tokio::net::TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0_u8; 8192];
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        match socket.try_read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
        let text = String::from_utf8_lossy(&request).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    let response = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let mut written = 0;
    while written < response.len() {
        if socket.writable().await.is_err() {
            return;
        }
        match socket.try_write(&response[written..]) {
            Ok(count) => written += count,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

/// The body the emulator sent when `entry` reached `status`.
async fn delivered(h: &Harness, entry: &str, status: i64) -> String {
    for _ in 0..200 {
        let found = h
            .emulator()
            .deliveries()
            .into_iter()
            .find(|delivery| delivery.entry_id == entry && delivery.entry_status == status && delivery.success);
        if let Some(delivery) = found {
            return delivery.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the emulator did not notify {entry} reaching status {status}");
}

/// Stores `body` on `kaltura.webhooks` the way the api-gateway does for a verified notification.
async fn store_notification(bus: &SharedBus, body: &[u8], dedup: &str) {
    let notification = webhook::parse(body).expect("a Kaltura notification");
    let event = WebhookEvent::new("default", PARTNER, &notification, chrono::Utc::now().timestamp_millis());
    let payload = serde_json::to_vec(&event).expect("JSON");
    bus.publish(Event::new(subject::KALTURA_WEBHOOKS, dedup, payload)).await.expect("stored");
}

/// Waits until the meetings consumer settled every stored notification (acked or terminated).
async fn all_settled(env: &DistributedEnv, stored: u64) {
    let client = async_nats::connect(kalcord_test_util::env::nats_url()).await.expect("NATS");
    let jetstream = async_nats::jetstream::new(client);
    let stream = kalcord_bus::subject::Namespace::new(env.prefix()).stream(STREAM);
    let mut stream = jetstream.get_stream(&stream).await.expect("the webhook stream");
    let mut last = None;
    for _ in 0..100 {
        let consumer: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer(DURABLE).await.expect("the meetings consumer");
        let info = consumer.cached_info().clone();
        if info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence == stored {
            assert_eq!(info.num_redelivered, 0, "nothing was handed back");
            return;
        }
        last = Some((info.num_pending, info.num_ack_pending, info.ack_floor.stream_sequence));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stream.info().await;
    panic!("notifications left unsettled (pending, ack pending, ack floor): {last:?}");
}

async fn a_ready_recording_is_recorded_once(postgres: bool) {
    let env = DistributedEnv::new(false).await.unwrap();
    let db = Db::new(postgres).await;
    let bus = nats(&env).await;
    let mut reader = Reader::new(&bus).await;
    let h = Harness::with(Options { store_url: db.url(), bus: Some(bus.clone()), ..Options::default() }).await;
    let endpoint = accepting_endpoint().await;
    h.emulator().subscribe_webhook(WebhookSubscription::new(PARTNER, &endpoint)).expect("subscription");

    // A scheduled meeting room, recorded on Kaltura: the entry goes 7 -> 1 -> 2, notified each time.
    let request = CreateMeetingRequest {
        scheduled_start_unix_ms: in_hours(2),
        ..create_request(GUILD_A, HOST, "rec-1", "Weekly sync")
    };
    let created = meeting(&h.create(request).await).clone();
    let row = meetings::get(h.store.connection(), Uuid::parse_str(&created.id).unwrap()).await.unwrap().unwrap();
    let event_id: i64 = row.kaltura_event_id.as_deref().expect("a schedule event").parse().unwrap();
    let recording = RecordingRequest {
        partner_id: PARTNER,
        event_id: Some(event_id),
        duration_seconds: Some(95),
        ..RecordingRequest::default()
    };
    let entry = h.emulator().simulate_recording(&recording).expect("recording");
    let converting = delivered(&h, &entry, 1).await;
    let ready = delivered(&h, &entry, 2).await;

    // Kaltura dispatches READY three times (retries); a converting entry, an unknown entry and
    // a payload that is no notification come along.
    store_notification(&bus, converting.as_bytes(), "n-1").await;
    for attempt in 0..3 {
        store_notification(&bus, ready.as_bytes(), &format!("n-ready-{attempt}")).await;
    }
    let unknown = r#"{"object":{"id":"1_unknown0","name":"Elsewhere","status":2,"referenceId":"kalcord:111111111111:nope","rootEntryId":"1_nothing0","objectType":"KalturaMediaEntry"},"eventObjectType":1,"eventType":3}"#;
    store_notification(&bus, unknown.as_bytes(), "n-unknown").await;
    bus.publish(Event::new(subject::KALTURA_WEBHOOKS, "n-malformed", b"not json".to_vec())).await.expect("stored");

    let events = reader.take(2).await;
    assert_eq!(events[0].1.kind, "scheduled");
    let (subject_of, ready_event) = &events[1];
    assert_eq!(
        (subject_of.as_str(), ready_event.kind.as_str()),
        (subject::MEETINGS_EVENTS_RECORDING_READY, "recording_ready")
    );
    let meeting_of = ready_event.meeting.as_ref().expect("the meeting");
    assert_eq!((meeting_of.id.as_str(), meeting_of.status), (created.id.as_str(), i32::from(MeetingStatus::Scheduled)));
    let details = ready_event.recording.as_ref().expect("the recording");
    assert_eq!(details.entry_id, entry);
    assert_eq!(details.title, "Weekly sync - Recording 1");
    assert_eq!(details.duration_seconds, 95);
    assert!(details.url.contains(&entry), "a link to the entry: {}", details.url);
    all_settled(&env, 6).await;

    let rows = recording::Entity::find().count(h.store.connection()).await.unwrap();
    assert_eq!(rows, 1, "one recording row");
    let stored = recordings::find_by_entry_id(h.store.connection(), &entry).await.unwrap().expect("the recording");
    assert_eq!((stored.meeting_id, stored.status, stored.duration_seconds), (row.id, RecordingStatus::Ready, Some(95)));
    assert_eq!(stored.id.to_string(), details.id);
    let noticed = kalcord_store::repo::kaltura_notices::last(h.store.connection(), PARTNER).await.unwrap();
    assert!(noticed.is_some(), "the partner's notifications are noted (its recordings are not polled)");

    h.store.clone().close().await.ok();
    h.stop().await;
    db.remove().await;
    env.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ready_recording_is_recorded_once_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    a_ready_recording_is_recorded_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ready_recording_is_recorded_once_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    a_ready_recording_is_recorded_once(true).await;
}

/// A partner that sends no notifications: its meetings' recordings are found by polling
/// `media.list`, each once; a partner whose notifications arrive is not polled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_partners_recordings_are_found_by_polling() {
    use kalcord_meetings::{MeetingsApi, Polled};

    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let live = meeting(&h.create(create_request(GUILD_A, HOST, "poll-1", "Lab session")).await).clone();
    let row = meetings::get(h.store.connection(), Uuid::parse_str(&live.id).unwrap()).await.unwrap().unwrap();
    let event_id: i64 = row.kaltura_event_id.as_deref().expect("a schedule event").parse().unwrap();
    let recording = RecordingRequest {
        partner_id: PARTNER,
        event_id: Some(event_id),
        duration_seconds: Some(600),
        ..RecordingRequest::default()
    };
    let entry = h.emulator().simulate_recording(&recording).expect("recording");
    for _ in 0..200 {
        if h.emulator().entry_status(PARTNER, &entry) == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(h.emulator().entry_status(PARTNER, &entry), Some(2), "the recording is ready");

    let common = kalcord_runtime::CommonConfig::defaults();
    let mut kaltura = common.kaltura.clone();
    kaltura.service_url = h.emulator().base_url().parse().unwrap();
    kaltura.partner_id = Some(PARTNER);
    kaltura.admin_secret = Some(kalcord_config::Secret::new(crate::common::SECRET));
    let tenants = kalcord_tenant::Tenants::open(&kaltura, &common.secrets, h.store.clone()).unwrap();
    let api = MeetingsApi::new(h.bus.clone(), h.store.clone(), tenants, Duration::from_secs(1));
    let (window, quiet) = (Duration::from_hours(72), Duration::from_hours(24));
    let now = chrono::Utc::now();

    assert_eq!(api.poll_recordings(now, window, quiet).await.unwrap(), Polled { meetings: 1, recorded: 1 });
    let stored = recordings::find_by_entry_id(h.store.connection(), &entry).await.unwrap().expect("recorded");
    assert_eq!((stored.meeting_id, stored.duration_seconds), (row.id, Some(600)));
    assert_eq!(api.poll_recordings(now, window, quiet).await.unwrap(), Polled { meetings: 1, recorded: 0 }, "once");
    let rows = recording::Entity::find().count(h.store.connection()).await.unwrap();
    assert_eq!(rows, 1);

    // Once the partner's notifications arrive, Kaltura is not asked any more.
    api.note_notification(PARTNER, now).await.unwrap();
    let lists = |h: &Harness| {
        h.emulator()
            .requests()
            .iter()
            .filter(|request| request.service.as_deref() == Some("media") && request.action.as_deref() == Some("list"))
            .count()
    };
    let before = lists(&h);
    assert_eq!(api.poll_recordings(now, window, quiet).await.unwrap(), Polled::default());
    assert_eq!(lists(&h), before, "no media.list for a partner that notifies");
    // A day later without notifications it is polled again.
    let later = now + chrono::TimeDelta::hours(25);
    assert_eq!(api.poll_recordings(later, window, quiet).await.unwrap().meetings, 1);
    h.stop().await;
}
