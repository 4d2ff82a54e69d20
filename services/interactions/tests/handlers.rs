//! The command, button, modal and autocomplete handlers, run by the real interactions service
//! over the in-memory bus, against small stand-ins of the meetings and identity services that
//! record what they are asked and answer canned replies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kalcord_bus::{BusError, MemoryBus, Message, SharedBus};
use kalcord_interactions::{Config, Interactions, SUBJECT, handlers};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    CreateMeetingRequest, EndMeetingRequest, Error, InteractionReply, InteractionRequest, Join, JoinReply, JoinRequest,
    ListMeetingsReply, ListMeetingsRequest, Meeting, MeetingKind, MeetingReply, MeetingRole, MeetingStatus,
    RoleMapping, RoleMappingReply, RoleMappingRequest, SetupRequest, SyncReply, SyncReport, SyncRequest, TenantReply,
    TenantSummary, join_reply, meeting_reply, sync_reply,
};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const GUILD: &str = "1284000000000000001";
const CHANNEL: u64 = 1_284_000_000_000_000_201;
const USER: u64 = 1_284_000_000_000_000_302;
const ROLE: u64 = 1_284_000_000_000_000_102;
const INTERACTION_ID: &str = "1573913314478653440";
const MEETING_ID: &str = "0193a6f0-7c8e-7000-8000-000000000001";
/// Manage Server.
const MANAGER: &str = "32";
/// Send Messages only.
const MEMBER: &str = "2048";

/// What a stand-in answers on a subject.
#[derive(Clone)]
enum Canned {
    Reply(Vec<u8>),
    /// Takes the request and never answers.
    Silent,
}

/// Requests the stand-ins received: (subject, payload).
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

struct Harness {
    bus: SharedBus,
    seen: Seen,
    shutdown: CancellationToken,
}

impl Harness {
    async fn start(canned: HashMap<&'static str, Canned>) -> Self {
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let seen: Seen = Arc::default();
        let shutdown = CancellationToken::new();
        for (subject, answer) in canned {
            let mut requests = bus.serve(subject, "test").await.unwrap();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                while let Some(request) = requests.next().await {
                    seen.lock().await.push((subject.to_owned(), request.message.payload.to_vec()));
                    match &answer {
                        Canned::Reply(bytes) => request.respond(Message::new(bytes.clone())).await.unwrap(),
                        Canned::Silent => std::mem::forget(request),
                    }
                }
            });
        }
        let deps = Deps {
            bus: Arc::clone(&bus),
            cache: None,
            common: Arc::new(CommonConfig::defaults()),
            instance: "test".into(),
            started: Instant::now(),
            store: None,
        };
        let config = Config {
            answer_margin: Duration::from_millis(500),
            max_in_flight: 16,
            rest_timeout: Duration::from_secs(5),
        };
        let service = Interactions::with_registry(config, deps, handlers::registry());
        tokio::spawn(service.run(shutdown.clone()));
        Self { bus, seen, shutdown }
    }

    /// Sends an interaction the way the api-gateway does and returns the response JSON.
    async fn send(&self, payload: &Value) -> Value {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        let now = i64::try_from(now).unwrap();
        let request = InteractionRequest {
            body: serde_json::to_vec(payload).unwrap(),
            received_at_unix_ms: now,
            deadline_unix_ms: now + 10_000,
        };
        let started = Instant::now();
        loop {
            let message = Message::new(request.encode_to_vec());
            match self.bus.request(SUBJECT, message, Duration::from_secs(10)).await {
                Ok(reply) => {
                    let reply = InteractionReply::decode(reply.payload.as_ref()).unwrap();
                    return serde_json::from_slice(&reply.response).unwrap();
                }
                Err(BusError::NoResponders { .. }) if started.elapsed() < Duration::from_secs(5) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("no answer: {err}"),
            }
        }
    }

    /// The requests received on `subject`, decoded.
    async fn seen<T: kalcord_proto::Message + Default>(&self, subject: &str) -> Vec<T> {
        self.seen
            .lock()
            .await
            .iter()
            .filter(|(s, _)| s == subject)
            .map(|(_, b)| T::decode(b.as_slice()).unwrap())
            .collect()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A full interaction payload as Discord sends it (shape of the Discord emulator's).
fn payload(kind: u8, data: Value, permissions: &str) -> Value {
    json!({
        "app_permissions": "18153018084417", "application_id": "1573913297667883008", "attachment_size_limit": 8_388_608,
        "authorizing_integration_owners": {"0": GUILD},
        "channel": {"id": CHANNEL.to_string(), "type": 0, "guild_id": GUILD, "name": "general", "nsfw": false, "position": 0, "flags": 0},
        "channel_id": CHANNEL.to_string(), "context": 0,
        "data": data, "entitlements": [], "guild_id": GUILD, "guild_locale": "en-US", "id": INTERACTION_ID,
        "locale": "en-US", "token": "aW50ZXJhY3Rpb24", "type": kind, "version": 1,
        "member": {"deaf": false, "flags": 0, "joined_at": "2026-11-22T04:09:32.059000+00:00", "mute": false, "pending": false,
            "nick": "Prof. Ada", "permissions": permissions, "roles": [ROLE.to_string()],
            "user": {"avatar": null, "discriminator": "0", "global_name": "Ada L.", "id": USER.to_string(), "username": "ada"}}
    })
}

fn command(name: &str, sub: &str, options: Value, permissions: &str) -> Value {
    payload(
        2,
        json!({"id": "1", "name": name, "type": 1, "options": [{"name": sub, "type": 1, "options": options}]}),
        permissions,
    )
}

fn button(custom_id: &str) -> Value {
    payload(3, json!({"custom_id": custom_id, "component_type": 2}), MEMBER)
}

fn meeting(status: MeetingStatus) -> Meeting {
    Meeting {
        id: MEETING_ID.into(),
        guild_id: GUILD.parse().unwrap(),
        kind: MeetingKind::MeetingRoom as i32,
        title: "Office hours".into(),
        description: "Bring questions".into(),
        status: status as i32,
        host_user_id: USER,
        scheduled_start_unix_ms: 1_795_000_000_000,
        actual_start_unix_ms: if status == MeetingStatus::Live { 1_795_000_000_000 } else { 0 },
        discord_channel_id: CHANNEL,
        created_at_unix_ms: 1_794_999_000_000,
        ..Meeting::default()
    }
}

fn meeting_reply(status: MeetingStatus) -> Canned {
    Canned::Reply(
        MeetingReply { result: Some(meeting_reply::Result::Meeting(meeting(status))), replayed: false }.encode_to_vec(),
    )
}

/// identity.tenant answering that the guild's time zone is `zone`.
fn zone_reply(zone: &str) -> Canned {
    let tenant = TenantSummary { configured: true, time_zone: zone.to_owned(), ..TenantSummary::default() };
    Canned::Reply(TenantReply { tenant: Some(tenant), error: None }.encode_to_vec())
}

fn refusal(code: &str, message: &str, field: &str) -> Error {
    Error { code: code.into(), message: message.into(), field: field.into() }
}

fn ephemeral_text(response: &Value) -> &str {
    assert_eq!(response["type"], 4, "{response}");
    assert_eq!(response["data"]["flags"], 64, "ephemeral: {response}");
    response["data"]["content"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn start_posts_a_public_embed_with_join_and_end_and_keys_on_the_interaction() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([(subject::MEETINGS_CREATE, meeting_reply(MeetingStatus::Live))])).await;
    let options = json!([{"name": "title", "type": 3, "value": "Office hours"}, {"name": "kind", "type": 3, "value": "webinar"},
        {"name": "description", "type": 3, "value": "Bring questions"}]);
    let response = harness.send(&command("meeting", "start", options, MEMBER)).await;
    assert_eq!(response["type"], 4, "{response}");
    assert!(response["data"].get("flags").is_none(), "public: {response}");
    let embed = &response["data"]["embeds"][0];
    assert_eq!(embed["title"], "Office hours");
    let text = embed.to_string();
    assert!(
        text.contains(&format!("<@{USER}>")) && text.contains("<t:1795000000:F>") && text.contains("<t:1795000000:R>")
    );
    let buttons = &response["data"]["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], format!("kc1:join:{MEETING_ID}"));
    assert_eq!(
        (buttons[1]["custom_id"].as_str(), buttons[1]["style"].as_u64()),
        (Some(&*format!("kc1:end:{MEETING_ID}")), Some(4))
    );

    let [create]: [CreateMeetingRequest; 1] = harness.seen(subject::MEETINGS_CREATE).await.try_into().unwrap();
    assert_eq!(create.idempotency_key, INTERACTION_ID);
    assert_eq!((create.scheduled_start_unix_ms, create.channel_id), (0, CHANNEL));
    assert_eq!((create.title.as_str(), create.kind), ("Office hours", MeetingKind::Webinar as i32));
    let actor = create.actor.unwrap();
    assert_eq!((actor.user_id, actor.channel_id, actor.role_ids.as_slice()), (USER, CHANNEL, &[ROLE][..]));
    assert_eq!((actor.display_name.as_str(), actor.username.as_str(), actor.permissions), ("Prof. Ada", "ada", 2048));
}

#[tokio::test]
async fn schedule_reads_the_time_and_refuses_the_past() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_CREATE, meeting_reply(MeetingStatus::Scheduled)),
        (subject::IDENTITY_TENANT, zone_reply("UTC")),
    ]))
    .await;
    let options = |when: &str| {
        json!([{"name": "title", "type": 3, "value": "Office hours"}, {"name": "when", "type": 3, "value": when},
            {"name": "duration", "type": 3, "value": "1h30m"}])
    };
    let before = chrono::Utc::now().timestamp_millis();
    let response = harness.send(&command("meeting", "schedule", options("in 2h"), MEMBER)).await;
    assert!(response["data"].get("flags").is_none(), "public: {response}");
    let buttons = &response["data"]["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], format!("kc1:join:{MEETING_ID}"));
    assert_eq!(buttons[1]["custom_id"], format!("kc1:cancel:{MEETING_ID}"));
    let [create]: [CreateMeetingRequest; 1] = harness.seen(subject::MEETINGS_CREATE).await.try_into().unwrap();
    let two_hours = 2 * 3_600_000;
    assert!((before + two_hours..before + two_hours + 60_000).contains(&create.scheduled_start_unix_ms));
    assert_eq!((create.duration_minutes, create.idempotency_key.as_str()), (90, INTERACTION_ID));

    let past = harness.send(&command("meeting", "schedule", options("2020-01-01 10:00"), MEMBER)).await;
    assert!(ephemeral_text(&past).contains("in the past"), "{past}");
    let nonsense = harness.send(&command("meeting", "schedule", options("whenever"), MEMBER)).await;
    assert!(ephemeral_text(&nonsense).contains("can't read"), "{nonsense}");
    assert_eq!(harness.seen::<CreateMeetingRequest>(subject::MEETINGS_CREATE).await.len(), 1, "refused before asking");
}

#[tokio::test]
async fn schedule_reads_local_times_in_the_guilds_zone_from_identity() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_CREATE, meeting_reply(MeetingStatus::Scheduled)),
        (subject::IDENTITY_TENANT, zone_reply("Europe/Paris")),
    ]))
    .await;
    let options = |when: &str| json!([{"name": "title", "type": 3, "value": "Office hours"}, {"name": "when", "type": 3, "value": when}]);
    // Winter in Paris: UTC+1.
    let response = harness.send(&command("meeting", "schedule", options("2099-12-01 15:00"), MEMBER)).await;
    assert_eq!(response["data"]["content"], "Start time read as Europe/Paris time.", "{response}");
    let [create]: [CreateMeetingRequest; 1] = harness.seen(subject::MEETINGS_CREATE).await.try_into().unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339("2099-12-01T14:00:00Z").unwrap().timestamp_millis();
    assert_eq!(create.scheduled_start_unix_ms, expected);
    let [asked]: [kalcord_proto::v1::TenantRequest; 1] =
        harness.seen(subject::IDENTITY_TENANT).await.try_into().unwrap();
    assert!(!asked.check, "no Kaltura check just to read the zone");
    assert_eq!(asked.actor.unwrap().guild_id, GUILD.parse::<u64>().unwrap());

    // Summer in Paris: UTC+2; an offset is kept; a relative time needs no zone.
    harness.send(&command("meeting", "schedule", options("2099-07-01 15:00"), MEMBER)).await;
    let response = harness.send(&command("meeting", "schedule", options("2099-07-01 15:00-05:00"), MEMBER)).await;
    assert!(response["data"].get("content").is_none(), "no zone was used: {response}");
    harness.send(&command("meeting", "schedule", options("in 2h"), MEMBER)).await;
    let starts: Vec<i64> = harness
        .seen::<CreateMeetingRequest>(subject::MEETINGS_CREATE)
        .await
        .iter()
        .map(|c| c.scheduled_start_unix_ms)
        .collect();
    let ms = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis();
    assert_eq!(starts[1..3], [ms("2099-07-01T13:00:00Z"), ms("2099-07-01T20:00:00Z")]);
    assert_eq!(harness.seen::<kalcord_proto::v1::TenantRequest>(subject::IDENTITY_TENANT).await.len(), 2);

    // The DST gap: 2099-03-29 02:30 does not exist in Paris.
    let gap = harness.send(&command("meeting", "schedule", options("2099-03-29 02:30"), MEMBER)).await;
    let text = ephemeral_text(&gap);
    assert!(text.contains("doesn't exist in Europe/Paris"), "{gap}");
    // The rule in a refusal names the guild's zone.
    let nonsense = harness.send(&command("meeting", "schedule", options("whenever"), MEMBER)).await;
    assert!(ephemeral_text(&nonsense).contains("Europe/Paris time"), "{nonsense}");
    assert_eq!(harness.seen::<CreateMeetingRequest>(subject::MEETINGS_CREATE).await.len(), 4, "refused before asking");

    // The autocomplete says which zone it read the time in.
    let when = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "schedule", "type": 1, "options": [{"name": "when", "type": 3, "value": "2099-01-02 03:04", "focused": true}]}
    ]});
    let response = harness.send(&payload(4, when, MEMBER)).await;
    assert_eq!(
        response["data"]["choices"],
        json!([{"name": "Fri 2 Jan 2099 03:04 Europe/Paris (02:04 UTC)", "value": "2099-01-02T03:04:00+01:00"}])
    );
    let empty = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "schedule", "type": 1, "options": [{"name": "when", "type": 3, "value": "", "focused": true}]}
    ]});
    let response = harness.send(&payload(4, empty, MEMBER)).await;
    assert_eq!(
        response["data"]["choices"][2],
        json!({"name": "tomorrow 18:00 (Europe/Paris)", "value": "tomorrow 18:00"})
    );
}

#[tokio::test]
async fn join_button_gives_a_personal_link_only_to_the_clicker() {
    let _trace = kalcord_test_util::trace_init();
    let url = "https://kaltura.example/launch?ks=personal";
    let join = Join {
        launch_url: url.into(),
        role: MeetingRole::Attendee as i32,
        expires_at_unix_ms: 1_795_000_600_000,
        meeting_title: "Office hours".into(),
        meeting_id: MEETING_ID.into(),
    };
    let reply = JoinReply { result: Some(join_reply::Result::Join(join)) };
    let harness = Harness::start(HashMap::from([(subject::IDENTITY_JOIN, Canned::Reply(reply.encode_to_vec()))])).await;
    let response = harness.send(&button(&format!("kc1:join:{MEETING_ID}"))).await;
    let text = ephemeral_text(&response);
    assert!(text.contains("attendee") && text.contains("personal") && text.contains("<t:1795000600:R>"), "{text}");
    let link = &response["data"]["components"][0]["components"][0];
    assert_eq!((link["style"].as_u64(), link["url"].as_str()), (Some(5), Some(url)));
    assert_eq!(link["label"], "Open Office hours in Kaltura");
    let [asked]: [JoinRequest; 1] = harness.seen(subject::IDENTITY_JOIN).await.try_into().unwrap();
    assert_eq!((asked.meeting_id.as_str(), asked.actor.unwrap().user_id), (MEETING_ID, USER));
}

#[tokio::test]
async fn join_without_a_meeting_takes_the_channels_live_one_or_says_there_is_none() {
    let _trace = kalcord_test_util::trace_init();
    let none = ListMeetingsReply::default();
    let harness = Harness::start(HashMap::from([(subject::MEETINGS_LIST, Canned::Reply(none.encode_to_vec()))])).await;
    let response = harness.send(&command("meeting", "join", json!([]), MEMBER)).await;
    assert_eq!(ephemeral_text(&response), "No live meeting in this channel; pick one with the meeting option.");
    let [list]: [ListMeetingsRequest; 1] = harness.seen(subject::MEETINGS_LIST).await.try_into().unwrap();
    assert_eq!(
        (list.statuses.as_slice(), list.channel_id, list.limit),
        (&[MeetingStatus::Live as i32][..], CHANNEL, 2)
    );
}

#[tokio::test]
async fn a_refusal_is_shown_only_to_the_member() {
    let _trace = kalcord_test_util::trace_init();
    let forbidden = MeetingReply {
        result: Some(meeting_reply::Result::Error(refusal("forbidden", "Only the host can end this meeting.", ""))),
        replayed: false,
    };
    let invalid = MeetingReply {
        result: Some(meeting_reply::Result::Error(refusal("invalid", "The title is too long.", "title"))),
        replayed: false,
    };
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_END, Canned::Reply(forbidden.encode_to_vec())),
        (subject::MEETINGS_CREATE, Canned::Reply(invalid.encode_to_vec())),
    ]))
    .await;
    let response = harness.send(&button(&format!("kc1:end:{MEETING_ID}"))).await;
    assert_eq!(ephemeral_text(&response), "Only the host can end this meeting.");
    let start = command("meeting", "start", json!([{"name": "title", "type": 3, "value": "x"}]), MEMBER);
    let response = harness.send(&start).await;
    assert_eq!(ephemeral_text(&response), "The title is too long. (check `title`)");
}

#[tokio::test]
async fn end_and_cancel_buttons_replace_the_announcement_without_buttons() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_END, meeting_reply(MeetingStatus::Ended)),
        (subject::MEETINGS_CANCEL, meeting_reply(MeetingStatus::Cancelled)),
    ]))
    .await;
    let response = harness.send(&button(&format!("kc1:end:{MEETING_ID}"))).await;
    assert_eq!(response["type"], 7, "{response}");
    assert_eq!(response["data"]["components"], json!([]), "no buttons left");
    assert!(response["data"]["embeds"][0]["title"].as_str().unwrap().contains("ended"));
    let response = harness.send(&button(&format!("kc1:cancel:{MEETING_ID}"))).await;
    assert_eq!((response["type"].as_u64(), &response["data"]["components"]), (Some(7), &json!([])));
    assert!(response["data"]["embeds"][0]["title"].as_str().unwrap().contains("cancelled"));
    let [end]: [EndMeetingRequest; 1] = harness.seen(subject::MEETINGS_END).await.try_into().unwrap();
    assert_eq!(end.meeting_id, MEETING_ID);
    assert_eq!(harness.seen::<EndMeetingRequest>(subject::MEETINGS_CANCEL).await.len(), 1);
}

#[tokio::test]
async fn end_command_ends_a_live_meeting_ephemerally() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_GET, meeting_reply(MeetingStatus::Live)),
        (subject::MEETINGS_END, meeting_reply(MeetingStatus::Ended)),
    ]))
    .await;
    let options = json!([{"name": "meeting", "type": 3, "value": MEETING_ID}]);
    let response = harness.send(&command("meeting", "end", options, MEMBER)).await;
    assert_eq!(ephemeral_text(&response), "Ended.");
    assert_eq!(harness.seen::<EndMeetingRequest>(subject::MEETINGS_END).await.len(), 1);
}

#[tokio::test]
async fn autocomplete_offers_open_meetings_by_title() {
    let _trace = kalcord_test_util::trace_init();
    let mut scheduled = meeting(MeetingStatus::Scheduled);
    scheduled.id = "0193a6f0-7c8e-7000-8000-000000000002".into();
    scheduled.title = "Office party".into();
    let found =
        ListMeetingsReply { meetings: vec![meeting(MeetingStatus::Live), scheduled], ..ListMeetingsReply::default() };
    let harness = Harness::start(HashMap::from([
        (subject::MEETINGS_LIST, Canned::Reply(found.encode_to_vec())),
        (subject::IDENTITY_TENANT, zone_reply("UTC")),
    ]))
    .await;
    let data = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "join", "type": 1, "options": [{"name": "meeting", "type": 3, "value": "offi", "focused": true}]}
    ]});
    let response = harness.send(&payload(4, data, MEMBER)).await;
    assert_eq!(response["type"], 8, "{response}");
    assert_eq!(
        response["data"]["choices"],
        json!([
            {"name": "Office hours (live)", "value": MEETING_ID},
            {"name": "Office party (scheduled)", "value": "0193a6f0-7c8e-7000-8000-000000000002"}
        ])
    );
    let [list]: [ListMeetingsRequest; 1] = harness.seen(subject::MEETINGS_LIST).await.try_into().unwrap();
    assert_eq!(list.title_contains, "offi");
    assert_eq!(list.statuses, [MeetingStatus::Live as i32, MeetingStatus::Scheduled as i32]);

    let when = json!({"id": "1", "name": "meeting", "type": 1, "options": [
        {"name": "schedule", "type": 1, "options": [{"name": "when", "type": 3, "value": "2099-01-02 03:04", "focused": true}]}
    ]});
    let response = harness.send(&payload(4, when, MEMBER)).await;
    assert_eq!(
        response["data"]["choices"],
        json!([{"name": "Fri 2 Jan 2099 03:04 UTC", "value": "2099-01-02T03:04:00Z"}])
    );
}

#[tokio::test]
async fn setup_opens_a_form_and_never_echoes_the_secret() {
    let _trace = kalcord_test_util::trace_init();
    let secret = "0123456789abcdef0123456789abcdef";
    let tenant = TenantSummary {
        configured: true,
        partner_id: 123,
        source: "guild".into(),
        reachable: true,
        ..TenantSummary::default()
    };
    let reply = TenantReply { tenant: Some(tenant), error: None };
    let harness =
        Harness::start(HashMap::from([(subject::IDENTITY_SETUP, Canned::Reply(reply.encode_to_vec()))])).await;

    let refused = harness.send(&command("kaltura", "setup", json!([]), MEMBER)).await;
    assert!(ephemeral_text(&refused).contains("Manage Server"));
    let modal = harness.send(&command("kaltura", "setup", json!([]), MANAGER)).await;
    assert_eq!((modal["type"].as_u64(), modal["data"]["custom_id"].as_str()), (Some(9), Some("kc1:setup")), "{modal}");
    let ids: Vec<&str> = modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["partner_id", "service_url", "kaf_url", "admin_secret", "time_zone"]);
    let zone_field = &modal["data"]["components"][4];
    assert!(zone_field["label"].as_str().unwrap().len() <= 45, "Discord caps labels at 45");
    assert!(zone_field["description"].as_str().unwrap().contains("IANA"));
    assert_eq!(zone_field["component"]["required"], false);
    assert_eq!(modal["data"]["components"][1]["component"]["placeholder"], "https://www.kaltura.com");

    let field = |id: &str, value: &str| json!({"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": id, "value": value}});
    let submit = payload(
        5,
        json!({"custom_id": "kc1:setup", "components": [field("partner_id", " 123 "), field("service_url", "https://www.kaltura.com"),
            field("kaf_url", ""), field("admin_secret", secret), field("time_zone", " Europe/Paris ")]}),
        MANAGER,
    );
    let response = harness.send(&submit).await;
    assert_eq!(
        ephemeral_text(&response),
        "Linked to Kaltura partner 123 (reachable). Times without an offset are read in UTC."
    );
    assert!(!response.to_string().contains(secret));
    let [setup]: [SetupRequest; 1] = harness.seen(subject::IDENTITY_SETUP).await.try_into().unwrap();
    assert_eq!((setup.partner_id, setup.admin_secret.as_str()), (123, secret));
    assert_eq!((setup.service_url.as_str(), setup.kaf_url.as_str()), ("https://www.kaltura.com", ""));
    assert_eq!(setup.time_zone, "Europe/Paris");
}

#[tokio::test]
async fn a_setup_refusal_never_echoes_the_secret_either() {
    let _trace = kalcord_test_util::trace_init();
    let secret = "fedcba9876543210";
    let reply = TenantReply {
        tenant: None,
        error: Some(refusal("kaltura_refused", &format!("Kaltura refused the secret {secret}."), "")),
    };
    let harness =
        Harness::start(HashMap::from([(subject::IDENTITY_SETUP, Canned::Reply(reply.encode_to_vec()))])).await;
    let field = |id: &str, value: &str| json!({"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": id, "value": value}});
    let submit = payload(
        5,
        json!({"custom_id": "kc1:setup", "components": [field("partner_id", "123"), field("admin_secret", secret)]}),
        MANAGER,
    );
    let response = harness.send(&submit).await;
    assert_eq!(ephemeral_text(&response), "Kaltura refused the secret [secret].");
    let bad = payload(
        5,
        json!({"custom_id": "kc1:setup", "components": [field("partner_id", "abc"), field("admin_secret", secret)]}),
        MANAGER,
    );
    assert!(ephemeral_text(&harness.send(&bad).await).contains("partner ID is a number"));
}

#[tokio::test]
async fn roles_map_unmap_and_list() {
    let _trace = kalcord_test_util::trace_init();
    let mapped = RoleMappingReply {
        mappings: vec![RoleMapping { discord_role_id: ROLE, role: MeetingRole::Host as i32, priority: 5 }],
        error: None,
    };
    let harness = Harness::start(HashMap::from([
        (subject::IDENTITY_ROLES_MAP, Canned::Reply(mapped.encode_to_vec())),
        (subject::IDENTITY_ROLES_LIST, Canned::Reply(mapped.encode_to_vec())),
        (subject::IDENTITY_ROLES_UNMAP, Canned::Reply(RoleMappingReply::default().encode_to_vec())),
    ]))
    .await;
    let group = |sub: &str, options: Value, permissions: &str| {
        payload(
            2,
            json!({"id": "1", "name": "kaltura", "type": 1, "options": [{"name": "roles", "type": 2, "options": [
                {"name": sub, "type": 1, "options": options}]}]}),
            permissions,
        )
    };
    let options = json!([{"name": "role", "type": 8, "value": ROLE.to_string()}, {"name": "kaltura_role", "type": 3, "value": "host"},
        {"name": "priority", "type": 4, "value": 5}]);
    let response = harness.send(&group("map", options.clone(), MANAGER)).await;
    let text = ephemeral_text(&response);
    assert!(text.contains(&format!("<@&{ROLE}> → host (priority 5)")), "{text}");
    let [map]: [RoleMappingRequest; 1] = harness.seen(subject::IDENTITY_ROLES_MAP).await.try_into().unwrap();
    assert_eq!(map.mapping, Some(RoleMapping { discord_role_id: ROLE, role: MeetingRole::Host as i32, priority: 5 }));
    assert!(ephemeral_text(&harness.send(&group("map", options, MEMBER)).await).contains("Manage Server"));

    let response =
        harness.send(&group("unmap", json!([{"name": "role", "type": 8, "value": ROLE.to_string()}]), MANAGER)).await;
    assert!(ephemeral_text(&response).contains("No Discord role is mapped"));
    let [unmap]: [RoleMappingRequest; 1] = harness.seen(subject::IDENTITY_ROLES_UNMAP).await.try_into().unwrap();
    assert_eq!(unmap.mapping.map(|m| (m.discord_role_id, m.role)), Some((ROLE, MeetingRole::Unspecified as i32)));

    let response = harness.send(&group("list", json!([]), MANAGER)).await;
    assert!(ephemeral_text(&response).contains(&format!("<@&{ROLE}> → host")));
}

#[tokio::test]
async fn status_adds_the_guilds_kaltura_link_without_any_secret() {
    let _trace = kalcord_test_util::trace_init();
    let tenant = TenantSummary {
        configured: true,
        partner_id: 123,
        service_url: "https://www.kaltura.com".into(),
        source: "guild".into(),
        reachable: false,
        problem: "Kaltura did not answer".into(),
        ..TenantSummary::default()
    };
    let reply = TenantReply { tenant: Some(tenant), error: None };
    let harness =
        Harness::start(HashMap::from([(subject::IDENTITY_TENANT, Canned::Reply(reply.encode_to_vec()))])).await;
    let response = harness.send(&command("kaltura", "status", json!([]), MANAGER)).await;
    let kaltura = &response["data"]["embeds"][0]["fields"][0];
    assert_eq!(kaltura["name"], "Kaltura", "{response}");
    assert_eq!(kaltura["value"], "❌ Partner 123 (set with /kaltura setup), not reachable: Kaltura did not answer");
    let [asked]: [kalcord_proto::v1::TenantRequest; 1] =
        harness.seen(subject::IDENTITY_TENANT).await.try_into().unwrap();
    assert!(asked.check);
}

#[tokio::test]
async fn a_silent_or_missing_service_gets_a_friendly_answer() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([(subject::MEETINGS_CREATE, Canned::Silent)])).await;
    let start = command("meeting", "start", json!([{"name": "title", "type": 3, "value": "x"}]), MEMBER);
    let started = Instant::now();
    let response = harness.send(&start).await;
    assert_eq!(ephemeral_text(&response), "kalcord is busy; please try again in a minute.");
    assert!(started.elapsed() < Duration::from_secs(4), "answered after the bus timeout, not hanging");
    let response = harness.send(&command("meeting", "list", json!([]), MEMBER)).await;
    assert_eq!(
        ephemeral_text(&response),
        "kalcord is busy; please try again in a minute.",
        "nobody serves meetings.list"
    );
    let response = harness.send(&button("kc1:join:x")).await;
    assert_eq!(ephemeral_text(&response), "kalcord is busy; please try again in a minute.");
}

#[tokio::test]
async fn outside_a_server_and_old_buttons_are_answered_politely() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::new()).await;
    let mut dm = command("meeting", "list", json!([]), MEMBER);
    let map = dm.as_object_mut().unwrap();
    map.remove("guild_id");
    map.remove("member");
    map.remove("channel");
    map.insert("context".into(), json!(1));
    map.insert(
        "user".into(),
        json!({"avatar": null, "discriminator": "0", "global_name": null, "id": USER.to_string(), "username": "ada"}),
    );
    assert_eq!(ephemeral_text(&harness.send(&dm).await), "Use this in a server.");
    assert!(ephemeral_text(&harness.send(&button("kc0:join:x")).await).contains("older version"));
}

#[tokio::test]
async fn sync_reports_identitys_counts_to_server_managers_only() {
    let _trace = kalcord_test_util::trace_init();
    let report = SyncReport {
        members: 10_001,
        humans: 10_000,
        bots: 1,
        hosts: 1_203,
        moderators: 2_000,
        attendees: 6_797,
        pages: 11,
        stale_mappings_removed: 1,
        elapsed_ms: 1_500,
    };
    let reply = SyncReply { result: Some(sync_reply::Result::Report(report)) };
    let harness = Harness::start(HashMap::from([(subject::IDENTITY_SYNC, Canned::Reply(reply.encode_to_vec()))])).await;
    let response = harness.send(&command("kaltura", "sync", json!([]), MANAGER)).await;
    assert_eq!(
        ephemeral_text(&response),
        "Synced 10,001 members (10,000 people, 1 bot): 1,203 hosts, 2,000 moderators, 6,797 attendees. Removed 1 mapping of a deleted role. Took 1.5 s."
    );
    let [asked]: [SyncRequest; 1] = harness.seen(subject::IDENTITY_SYNC).await.try_into().unwrap();
    let actor = asked.actor.unwrap();
    assert_eq!((actor.guild_id, actor.user_id), (GUILD.parse().unwrap(), USER));

    let refused = harness.send(&command("kaltura", "sync", json!([]), MEMBER)).await;
    assert!(ephemeral_text(&refused).contains("Manage Server"), "{refused}");
    assert_eq!(harness.seen::<SyncRequest>(subject::IDENTITY_SYNC).await.len(), 1, "identity is not asked");

    let busy = SyncReply {
        result: Some(sync_reply::Result::Error(refusal(
            "already_running",
            "A sync is already running for this server.",
            "",
        ))),
    };
    let harness = Harness::start(HashMap::from([(subject::IDENTITY_SYNC, Canned::Reply(busy.encode_to_vec()))])).await;
    let response = harness.send(&command("kaltura", "sync", json!([]), MANAGER)).await;
    assert_eq!(ephemeral_text(&response), "A sync is already running for this server.");
}

#[tokio::test]
async fn manage_events_granted_in_one_channel_does_not_count_server_wide() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(HashMap::from([(subject::MEETINGS_CREATE, meeting_reply(MeetingStatus::Live))])).await;
    // Discord's `member.permissions` is per channel: here a channel overwrite grants Manage Events.
    let channel_level = ((1u64 << 33) | 2048).to_string();
    let options = json!([{"name": "title", "type": 3, "value": "Office hours"}]);
    harness.send(&command("meeting", "start", options, &channel_level)).await;
    let [create]: [CreateMeetingRequest; 1] = harness.seen(subject::MEETINGS_CREATE).await.try_into().unwrap();
    let actor = create.actor.unwrap();
    assert_eq!(actor.permissions & (1 << 33), 0, "Manage Events is not taken from the channel: {}", actor.permissions);
    assert_eq!(actor.permissions & 2048, 2048, "other bits stay");
}
