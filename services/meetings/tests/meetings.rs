//! The meetings service over the bus: creation on Kaltura, idempotency, authorization,
//! guild isolation, Kaltura failures, the lifecycle, listing and the audit chain.

mod common;
#[path = "meetings/events.rs"]
mod events;
#[path = "meetings/reminders.rs"]
mod reminders;
#[path = "meetings/webhooks.rs"]
mod webhooks;

use std::time::Duration;

use common::{
    GUILD_A, GUILD_B, HOST, Harness, MEMBER, OTHER_HOST, Options, actor, create_request, error, in_hours, meeting,
};
use kalcord_kaltura_emulator::{Fault, FaultKind};
use kalcord_proto::subject;
use kalcord_proto::v1::{
    AttachMessageRequest, AuditVerifyReply, AuditVerifyRequest, CreateMeetingRequest, EndMeetingRequest,
    GetMeetingRequest, ListMeetingsReply, ListMeetingsRequest, MeetingKind, MeetingReply, MeetingRole, MeetingStatus,
    UpdateMeetingRequest,
};
use kalcord_store::entity::guild;
use sea_orm::{ConnectionTrait as _, EntityTrait as _, IntoActiveModel as _, Set};

async fn end(h: &Harness, guild: u64, user: u64, id: &str) -> MeetingReply {
    let request = EndMeetingRequest { actor: Some(actor(guild, user)), meeting_id: id.to_owned() };
    h.call(subject::MEETINGS_END, &request).await
}

async fn cancel(h: &Harness, guild: u64, user: u64, id: &str) -> MeetingReply {
    let request = EndMeetingRequest { actor: Some(actor(guild, user)), meeting_id: id.to_owned() };
    h.call(subject::MEETINGS_CANCEL, &request).await
}

async fn get(h: &Harness, guild: u64, user: u64, id: &str) -> MeetingReply {
    let request = GetMeetingRequest { actor: Some(actor(guild, user)), meeting_id: id.to_owned() };
    h.call(subject::MEETINGS_GET, &request).await
}

async fn list(h: &Harness, request: ListMeetingsRequest) -> ListMeetingsReply {
    h.call(subject::MEETINGS_LIST, &request).await
}

async fn verify(h: &Harness, permissions: u64) -> AuditVerifyReply {
    let request =
        AuditVerifyRequest { actor: Some(kalcord_proto::v1::Actor { permissions, ..actor(GUILD_A, MEMBER) }) };
    h.call(subject::MEETINGS_AUDIT_VERIFY, &request).await
}

#[tokio::test]
async fn a_host_creates_a_live_meeting_on_a_real_kaltura_room() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let reply = h.create(create_request(GUILD_A, HOST, "interaction-1", "  Weekly sync  ")).await;
    let created = meeting(&reply);
    assert!(!reply.replayed);
    assert_eq!(created.title, "Weekly sync");
    assert_eq!(created.status, i32::from(MeetingStatus::Live));
    assert_eq!((created.guild_id, created.host_user_id), (GUILD_A, HOST));
    assert!(created.actual_start_unix_ms > 0);
    let planned = created.scheduled_end_unix_ms - created.actual_start_unix_ms;
    assert!((59 * 60 * 1000..=60 * 60 * 1000).contains(&planned), "default duration: {planned} ms");
    let resource: i64 = created.kaltura_resource_id.parse().expect("a resource id");
    let event: i64 = created.kaltura_event_id.parse().expect("an event id");
    let room = h.kaltura.get_resource(resource).await.expect("the emulator has the room");
    assert_eq!(room.name, "Weekly sync");
    assert_eq!(h.kaltura.get_event(event).await.expect("the emulator has the event").summary, "Weekly sync");

    let fetched = get(&h, GUILD_A, MEMBER, &created.id).await;
    assert_eq!(meeting(&fetched).id, created.id);
    h.stop().await;
}

#[tokio::test]
async fn a_webinar_is_scheduled_with_its_live_stream() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let request = CreateMeetingRequest {
        kind: MeetingKind::Webinar.into(),
        scheduled_start_unix_ms: in_hours(24),
        duration_minutes: 90,
        ..create_request(GUILD_A, HOST, "webinar-1", "Launch")
    };
    let reply = h.create(request).await;
    let created = meeting(&reply);
    assert_eq!(created.status, i32::from(MeetingStatus::Scheduled));
    assert_eq!(created.actual_start_unix_ms, 0);
    assert_eq!(created.scheduled_end_unix_ms - created.scheduled_start_unix_ms, 90 * 60 * 1000);
    assert!(created.kaltura_resource_id.is_empty());
    h.kaltura.get_live_stream(&created.kaltura_entry_id).await.expect("the emulator has the live stream");
    h.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_makes_one_meeting_and_one_room() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let first = h.create(create_request(GUILD_A, HOST, "interaction-7", "Once")).await;
    let calls = h.emulator().requests().len();
    let second = h.create(create_request(GUILD_A, HOST, "interaction-7", "Once")).await;
    assert!(second.replayed);
    assert_eq!(meeting(&first).id, meeting(&second).id);
    assert_eq!(h.emulator().requests().len(), calls, "a replay makes no Kaltura call");
    assert_eq!(h.meeting_rows().await, 1);

    // The key is per guild: another guild's same key is another meeting.
    let other = h.create(create_request(GUILD_B, HOST, "interaction-7", "Once")).await;
    assert!(!other.replayed);
    assert_ne!(meeting(&other).id, meeting(&first).id);
    h.stop().await;
}

#[tokio::test]
async fn concurrent_creations_with_one_key_keep_one_meeting() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let (a, b, c) = tokio::join!(
        h.create(create_request(GUILD_A, HOST, "race", "Race")),
        h.create(create_request(GUILD_A, HOST, "race", "Race")),
        h.create(create_request(GUILD_A, HOST, "race", "Race")),
    );
    let ids = [meeting(&a).id.clone(), meeting(&b).id.clone(), meeting(&c).id.clone()];
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!([a.replayed, b.replayed, c.replayed].iter().filter(|replayed| !**replayed).count(), 1);
    assert_eq!(h.meeting_rows().await, 1);
    h.stop().await;
}

#[tokio::test]
async fn non_hosts_cannot_create_or_end_but_the_meetings_host_can() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let refused = h.create(create_request(GUILD_A, MEMBER, "m-1", "Mine")).await;
    let refusal = error(&refused);
    assert_eq!(refusal.code, "forbidden");
    assert!(refusal.message.contains("/kaltura roles map"), "{}", refusal.message);
    assert_eq!(h.meeting_rows().await, 0);

    let created = h.create(create_request(GUILD_A, HOST, "h-1", "Hosted")).await;
    let id = meeting(&created).id.clone();
    assert_eq!(error(&end(&h, GUILD_A, MEMBER, &id).await).code, "forbidden");

    // The meeting's own host keeps the right to end it after losing the host role.
    h.set_role(HOST, MeetingRole::Attendee);
    let ended = end(&h, GUILD_A, HOST, &id).await;
    assert_eq!(meeting(&ended).status, i32::from(MeetingStatus::Ended));
    assert!(meeting(&ended).actual_end_unix_ms > 0);
    h.stop().await;
}

#[tokio::test]
async fn another_guild_cannot_see_or_touch_a_meeting() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let created = h.create(create_request(GUILD_A, HOST, "a-1", "Guild A only")).await;
    let id = meeting(&created).id.clone();

    assert_eq!(error(&get(&h, GUILD_B, OTHER_HOST, &id).await).code, "not_found");
    assert_eq!(error(&end(&h, GUILD_B, OTHER_HOST, &id).await).code, "not_found");
    assert_eq!(error(&cancel(&h, GUILD_B, OTHER_HOST, &id).await).code, "not_found");
    let update = UpdateMeetingRequest {
        actor: Some(actor(GUILD_B, OTHER_HOST)),
        meeting_id: id.clone(),
        title: Some("Hijacked".into()),
        ..UpdateMeetingRequest::default()
    };
    assert_eq!(error(&h.call(subject::MEETINGS_UPDATE, &update).await).code, "not_found");
    let attach = AttachMessageRequest {
        actor: Some(actor(GUILD_B, OTHER_HOST)),
        meeting_id: id.clone(),
        channel_id: 5,
        message_id: 6,
    };
    assert_eq!(error(&h.call(subject::MEETINGS_ATTACH_MESSAGE, &attach).await).code, "not_found");
    let listed = list(&h, ListMeetingsRequest { actor: Some(actor(GUILD_B, OTHER_HOST)), ..Default::default() }).await;
    assert!(listed.meetings.is_empty() && listed.error.is_none());
    // A made-up id answers the same as another guild's.
    assert_eq!(error(&get(&h, GUILD_A, HOST, "not-a-uuid").await).code, "not_found");
    assert_eq!(meeting(&get(&h, GUILD_A, HOST, &id).await).title, "Guild A only");
    h.stop().await;
}

async fn assert_nothing_created(h: &Harness, key: &str) {
    let reply = h.create(create_request(GUILD_A, HOST, key, "Doomed")).await;
    let failure = error(&reply);
    assert_eq!(failure.code, "kaltura_unavailable", "{failure:?}");
    assert_eq!(
        failure.message,
        "Kaltura is not answering right now; nothing was created. Please try again in a minute."
    );
    assert_eq!(h.meeting_rows().await, 0);
}

#[tokio::test]
async fn kaltura_rate_limits_outages_and_timeouts_leave_no_meeting() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(Options { kaltura_timeout: Duration::from_millis(500), ..Options::default() }).await;
    h.emulator().inject_fault(Fault::new(FaultKind::ActionBlocked).times(1000));
    assert_nothing_created(&h, "blocked").await;
    h.emulator().clear_faults();

    h.emulator().inject_fault(Fault::new(FaultKind::Http503).times(1000));
    assert_nothing_created(&h, "outage").await;
    h.emulator().clear_faults();

    // Wait out the circuit breaker the outage may have opened, then hang the next call.
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.emulator().inject_fault(Fault::new(FaultKind::Hang).times(1));
    assert_nothing_created(&h, "hang").await;
    h.stop().await;
}

#[tokio::test]
async fn a_guild_without_kaltura_is_told_to_run_setup() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(Options { kaltura: false, ..Options::default() }).await;
    let reply = h.create(create_request(GUILD_A, HOST, "k-1", "No partner")).await;
    let failure = error(&reply);
    assert_eq!(failure.code, "not_configured");
    assert!(failure.message.contains("/kaltura setup"));
    assert_eq!(h.meeting_rows().await, 0);
    h.stop().await;
}

#[tokio::test]
async fn a_silent_identity_service_is_a_friendly_error() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(Options { identity: false, ..Options::default() }).await;
    let reply = h.create(create_request(GUILD_A, HOST, "i-1", "Who am I")).await;
    let failure = error(&reply);
    assert_eq!(failure.code, "internal");
    assert!(failure.message.contains("try again"), "{}", failure.message);
    assert_eq!(h.meeting_rows().await, 0);
    h.stop().await;
}

#[tokio::test]
async fn the_lifecycle_refuses_illegal_transitions() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let scheduled = h
        .create(CreateMeetingRequest {
            scheduled_start_unix_ms: in_hours(2),
            ..create_request(GUILD_A, HOST, "s-1", "Later")
        })
        .await;
    let scheduled = meeting(&scheduled).clone();
    assert_eq!(scheduled.status, i32::from(MeetingStatus::Scheduled));
    assert_eq!(error(&end(&h, GUILD_A, HOST, &scheduled.id).await).code, "conflict", "SCHEDULED -> ENDED");
    let cancelled = cancel(&h, GUILD_A, HOST, &scheduled.id).await;
    assert_eq!(meeting(&cancelled).status, i32::from(MeetingStatus::Cancelled));
    let event = h.kaltura.get_event(scheduled.kaltura_event_id.parse().unwrap()).await.unwrap();
    assert_eq!(event.status, 1, "the Kaltura event is cancelled too");
    assert_eq!(error(&cancel(&h, GUILD_A, HOST, &scheduled.id).await).code, "conflict");
    assert_eq!(error(&end(&h, GUILD_A, HOST, &scheduled.id).await).code, "conflict");

    let live = h.create(create_request(GUILD_A, HOST, "l-1", "Now")).await;
    let live = meeting(&live).clone();
    assert_eq!(error(&cancel(&h, GUILD_A, HOST, &live.id).await).code, "conflict", "LIVE -> CANCELLED");
    assert_eq!(meeting(&end(&h, GUILD_A, HOST, &live.id).await).status, i32::from(MeetingStatus::Ended));
    let again = end(&h, GUILD_A, HOST, &live.id).await;
    assert_eq!(
        (error(&again).code.as_str(), error(&again).message.as_str()),
        ("conflict", "This meeting has already ended.")
    );
    let update = UpdateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        meeting_id: live.id.clone(),
        title: Some("Too late".into()),
        ..UpdateMeetingRequest::default()
    };
    assert_eq!(error(&h.call(subject::MEETINGS_UPDATE, &update).await).code, "conflict");
    h.stop().await;
}

#[tokio::test]
async fn updates_check_the_version_and_the_fields() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let created = h
        .create(CreateMeetingRequest {
            scheduled_start_unix_ms: in_hours(3),
            ..create_request(GUILD_A, HOST, "u-1", "Draft")
        })
        .await;
    let created = meeting(&created).clone();
    let update = UpdateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        meeting_id: created.id.clone(),
        title: Some("Final".into()),
        duration_minutes: Some(30),
        expected_version: created.version,
        ..UpdateMeetingRequest::default()
    };
    let updated = h.call::<_, MeetingReply>(subject::MEETINGS_UPDATE, &update).await;
    let updated = meeting(&updated).clone();
    assert_eq!(updated.title, "Final");
    assert_eq!(updated.version, created.version + 1);
    assert_eq!(updated.scheduled_end_unix_ms - updated.scheduled_start_unix_ms, 30 * 60 * 1000);

    // The same change based on the old version conflicts.
    let stale = h.call::<_, MeetingReply>(subject::MEETINGS_UPDATE, &update).await;
    assert_eq!(error(&stale).code, "conflict");
    let bad = UpdateMeetingRequest {
        title: Some(" ".into()),
        duration_minutes: Some(5000),
        expected_version: 0,
        ..update.clone()
    };
    let bad = h.call::<_, MeetingReply>(subject::MEETINGS_UPDATE, &bad).await;
    assert_eq!(error(&bad).field, "title,duration_minutes");
    let by_member = UpdateMeetingRequest { actor: Some(actor(GUILD_A, MEMBER)), expected_version: 0, ..update };
    assert_eq!(error(&h.call::<_, MeetingReply>(subject::MEETINGS_UPDATE, &by_member).await).code, "forbidden");
    h.stop().await;
}

#[tokio::test]
async fn invalid_requests_name_every_field() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let request = CreateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        kind: 0,
        title: String::new(),
        description: "x".repeat(1001),
        scheduled_start_unix_ms: in_hours(-1),
        duration_minutes: 1441,
        idempotency_key: String::new(),
        custom_fields_json: "[1, 2]".into(),
        channel_id: 0,
    };
    let reply = h.create(request).await;
    let failure = error(&reply);
    assert_eq!(failure.code, "invalid");
    assert_eq!(
        failure.field,
        "kind,title,description,scheduled_start_unix_ms,duration_minutes,idempotency_key,custom_fields_json"
    );

    // A payload that is not a request at all.
    let raw = h.raw(subject::MEETINGS_CREATE, vec![0xff, 0xff, 0xff]).await;
    let reply = <MeetingReply as kalcord_proto::Message>::decode(raw.as_slice()).unwrap();
    assert_eq!(error(&reply).code, "invalid");
    assert_eq!(h.meeting_rows().await, 0);
    h.stop().await;
}

#[tokio::test]
async fn custom_fields_follow_the_guilds_definitions() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let db = h.store.connection();
    let row = kalcord_store::repo::guilds::ensure(db, i64::try_from(GUILD_A).unwrap(), "Guild A").await.unwrap();
    let mut row = row.into_active_model();
    row.custom_field_definitions = Set(serde_json::json!({
        "course": {"type": "string", "required": true},
        "seats": {"type": "number"},
    }));
    guild::Entity::update(row).exec(db).await.unwrap();

    let with = |json: &str, key: &str| CreateMeetingRequest {
        custom_fields_json: json.to_owned(),
        ..create_request(GUILD_A, HOST, key, "Class")
    };
    let refused = h.create(with(r#"{"seats": "many", "color": "red"}"#, "c-1")).await;
    let mut fields: Vec<&str> = error(&refused).field.split(',').collect();
    fields.sort_unstable();
    assert_eq!(fields, ["custom_fields_json.color", "custom_fields_json.course", "custom_fields_json.seats"]);
    let accepted = h.create(with(r#"{"course": "CS101", "seats": 30}"#, "c-2")).await;
    let values: serde_json::Value = serde_json::from_str(&meeting(&accepted).custom_fields_json).unwrap();
    assert_eq!(values["course"], "CS101");
    h.stop().await;
}

#[tokio::test]
async fn lists_are_guild_scoped_filtered_and_paged() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let mut ids = Vec::new();
    for (n, title) in ["Alpha standup", "Beta review", "alpha retro", "Gamma", "ALPHA planning"].iter().enumerate() {
        let request = CreateMeetingRequest {
            scheduled_start_unix_ms: if n % 2 == 0 { 0 } else { in_hours(i64::try_from(n).unwrap()) },
            channel_id: if n < 2 { 77 } else { 0 },
            ..create_request(GUILD_A, HOST, &format!("k-{n}"), title)
        };
        ids.push(meeting(&h.create(request).await).id.clone());
    }
    h.create(create_request(GUILD_B, HOST, "b", "Alpha elsewhere")).await;
    let base = ListMeetingsRequest { actor: Some(actor(GUILD_A, MEMBER)), ..ListMeetingsRequest::default() };

    // Pages of two, newest first, no duplicates, then the end.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for expected in [2, 2, 1] {
        let page = list(&h, ListMeetingsRequest { limit: 2, cursor: cursor.clone(), ..base.clone() }).await;
        assert!(page.error.is_none(), "{:?}", page.error);
        assert_eq!(page.meetings.len(), expected);
        seen.extend(page.meetings.iter().map(|m| m.id.clone()));
        cursor = page.next_cursor;
    }
    assert!(cursor.is_empty());
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let alpha = list(&h, ListMeetingsRequest { title_contains: "alpha".into(), ..base.clone() }).await;
    assert_eq!(alpha.meetings.len(), 3);
    let scheduled =
        list(&h, ListMeetingsRequest { statuses: vec![MeetingStatus::Scheduled.into()], ..base.clone() }).await;
    assert_eq!(scheduled.meetings.len(), 2);
    let in_channel = list(&h, ListMeetingsRequest { channel_id: 77, ..base.clone() }).await;
    assert_eq!(in_channel.meetings.len(), 2);
    let later = list(&h, ListMeetingsRequest { from_unix_ms: in_hours(2), ..base.clone() }).await;
    assert_eq!(later.meetings.iter().map(|m| m.title.as_str()).collect::<Vec<_>>(), ["Gamma"]);
    let soon = list(&h, ListMeetingsRequest { to_unix_ms: in_hours(2), ..base.clone() }).await;
    assert_eq!(soon.meetings.len(), 4);
    let garbage = list(&h, ListMeetingsRequest { cursor: "%%%".into(), ..base }).await;
    assert_eq!(garbage.error.map(|e| e.field).as_deref(), Some("cursor"));
    h.stop().await;
}

#[tokio::test]
async fn attach_message_records_the_announcement() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let created = h.create(create_request(GUILD_A, HOST, "a-1", "Announced")).await;
    let request = AttachMessageRequest {
        actor: Some(actor(GUILD_A, MEMBER)),
        meeting_id: meeting(&created).id.clone(),
        channel_id: 900,
        message_id: 901,
    };
    let attached = h.call::<_, MeetingReply>(subject::MEETINGS_ATTACH_MESSAGE, &request).await;
    assert_eq!((meeting(&attached).discord_channel_id, meeting(&attached).discord_message_id), (900, 901));
    h.stop().await;
}

async fn audit_chain_detects_tampering(h: &Harness) {
    let created = h.create(create_request(GUILD_A, HOST, "audit-1", "Audited")).await;
    let id = meeting(&created).id.clone();
    let update = UpdateMeetingRequest {
        actor: Some(actor(GUILD_A, HOST)),
        meeting_id: id.clone(),
        title: Some("Audited twice".into()),
        ..UpdateMeetingRequest::default()
    };
    meeting(&h.call::<_, MeetingReply>(subject::MEETINGS_UPDATE, &update).await);
    meeting(&end(h, GUILD_A, HOST, &id).await);

    let rows = kalcord_store::entity::audit_log::Entity::find().all(h.store.connection()).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|row| row.action.as_str()).collect();
    assert_eq!(actions, ["meeting.create", "meeting.update", "meeting.end"]);
    assert!(rows.iter().all(|row| row.actor == format!("discord:{HOST}") && row.target.as_deref() == Some(&id)));

    assert_eq!(verify(h, 0).await.error.map(|e| e.code).as_deref(), Some("forbidden"));
    let intact = verify(h, 1 << 5).await;
    assert!(intact.error.is_none(), "{:?}", intact.error);
    assert_eq!((intact.rows, intact.intact), (3, true));

    let second = rows.iter().find(|row| row.seq == 2).unwrap();
    h.store
        .connection()
        .execute_unprepared(&format!(
            "UPDATE audit_log SET details = '{{\"title\": \"forged\"}}' WHERE id = {}",
            second.id
        ))
        .await
        .unwrap();
    let broken = verify(h, 1 << 3).await;
    assert!(!broken.intact);
    assert_eq!(broken.first_broken_id, second.id.to_string());
}

#[tokio::test]
async fn the_audit_chain_verifies_and_detects_tampering_on_sqlite() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    audit_chain_detects_tampering(&h).await;
    h.stop().await;
}

#[tokio::test]
async fn the_audit_chain_verifies_and_detects_tampering_on_postgres() {
    let _trace = kalcord_test_util::trace_init();
    let database = kalcord_test_util::postgres::fresh_database().await.expect("PostgreSQL at 127.0.0.1:5432");
    let h = Harness::with(Options { store_url: database.url.clone(), ..Options::default() }).await;
    audit_chain_detects_tampering(&h).await;
    let (a, b) = tokio::join!(
        h.create(create_request(GUILD_A, HOST, "pg-race", "Race")),
        h.create(create_request(GUILD_A, HOST, "pg-race", "Race")),
    );
    assert_eq!(meeting(&a).id, meeting(&b).id);
    assert!(a.replayed != b.replayed);
    h.store.clone().close().await.ok();
    h.stop().await;
    database.drop_database().await.expect("drop the test database");
}

#[tokio::test]
async fn a_scheduled_meeting_goes_live_when_its_start_time_comes_and_can_then_end() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    let scheduled = h
        .create(CreateMeetingRequest {
            scheduled_start_unix_ms: in_hours(1),
            ..create_request(GUILD_A, HOST, "due-1", "Starts soon")
        })
        .await;
    let scheduled = meeting(&scheduled).clone();
    // The start time comes (moved into the past in the database, as the clock would).
    let id = uuid::Uuid::parse_str(&scheduled.id).unwrap();
    let row = kalcord_store::repo::meetings::get(h.store.connection(), id).await.unwrap().unwrap();
    let mut changes = sea_orm::IntoActiveModel::into_active_model(row);
    changes.scheduled_start = sea_orm::Set(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(1)));
    kalcord_store::repo::meetings::update(h.store.connection(), changes).await.unwrap();

    let live = ListMeetingsRequest {
        actor: Some(actor(GUILD_A, HOST)),
        statuses: vec![i32::from(MeetingStatus::Live)],
        ..ListMeetingsRequest::default()
    };
    let listed: ListMeetingsReply = h.call(subject::MEETINGS_LIST, &live).await;
    assert_eq!(listed.meetings.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [scheduled.id.as_str()]);
    assert!(listed.meetings[0].actual_start_unix_ms > 0, "it has an actual start");
    assert_eq!(error(&cancel(&h, GUILD_A, HOST, &scheduled.id).await).code, "conflict", "live: end, not cancel");
    let ended = end(&h, GUILD_A, HOST, &scheduled.id).await;
    assert_eq!(meeting(&ended).status, i32::from(MeetingStatus::Ended));

    let actions: Vec<String> = <kalcord_store::entity::audit_log::Entity as sea_orm::EntityTrait>::find()
        .all(h.store.connection())
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.target.as_deref() == Some(scheduled.id.as_str()))
        .map(|row| format!("{} by {}", row.action, row.actor))
        .collect();
    assert_eq!(actions, ["meeting.create by discord:1001", "meeting.start by kalcord", "meeting.end by discord:1001"]);
    h.stop().await;
}
