//! What the handlers do on Discord's REST API after answering: recording where a meeting was
//! announced, removing an ended meeting's buttons, and late answers after a deferral. Discord
//! is a small recording HTTP server here; the meetings and identity services are stand-ins.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kalcord_bus::{BusError, MemoryBus, Message, SharedBus};
use kalcord_interactions::{Config, Interactions, SUBJECT, handlers};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    AttachMessageRequest, EndMeetingRequest, InteractionReply, InteractionRequest, Join, JoinReply, Meeting,
    MeetingReply, MeetingStatus, join_reply, meeting_reply,
};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

const APPLICATION: u64 = 1_573_913_297_667_883_008;
const GUILD: &str = "1284000000000000001";
const CHANNEL: u64 = 1_284_000_000_000_000_201;
const POSTED: u64 = 1_284_000_000_000_009_999;
const USER: u64 = 1_284_000_000_000_000_302;
const TOKEN: &str = "aW50ZXJhY3Rpb24";
const MEETING_ID: &str = "0193a6f0-7c8e-7000-8000-000000000001";

/// Requests Discord received: (method, path, JSON body).
type Calls = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A Discord stand-in answering every request with a message reference.
async fn discord() -> (String, Calls) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let calls: Calls = Arc::default();
    let recorded = Arc::clone(&calls);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut parts = line.split_whitespace();
                let (method, path) =
                    (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).await.unwrap();
                    let header = header.trim();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                recorded.lock().await.push((method, path, body));
                let answer = json!({"id": POSTED.to_string(), "channel_id": CHANNEL.to_string()}).to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = reader.get_mut().write_all(response.as_bytes()).await;
            });
        }
    });
    (authority, calls)
}

/// Requests the stand-in services received: (subject, payload).
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

struct Harness {
    bus: SharedBus,
    seen: Seen,
    calls: Calls,
    shutdown: CancellationToken,
}

impl Harness {
    /// Stand-ins answer `replies` after `delay`.
    async fn start(replies: Vec<(&'static str, Vec<u8>)>, delay: Duration) -> Self {
        kalcord_test_util::install_crypto();
        let (authority, calls) = discord().await;
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let seen: Seen = Arc::default();
        for (subject, reply) in replies {
            let mut requests = bus.serve(subject, "test").await.unwrap();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                while let Some(request) = requests.next().await {
                    seen.lock().await.push((subject.to_owned(), request.message.payload.to_vec()));
                    tokio::time::sleep(delay).await;
                    request.respond(Message::new(reply.clone())).await.unwrap();
                }
            });
        }
        let mut common = CommonConfig::defaults();
        common.discord.api_base = Some(authority);
        common.discord.application_id = Some(APPLICATION);
        common.discord.bot_token = Some(kalcord_config::Secret::new("bot-token".to_owned()));
        let cache: kalcord_cache::SharedCache = Arc::new(kalcord_cache::MemoryCache::new("rest", 100));
        let deps = Deps {
            bus: Arc::clone(&bus),
            cache: Some(cache),
            common: Arc::new(common),
            instance: "test".into(),
            started: Instant::now(),
            store: None,
        };
        let config = Config {
            answer_margin: Duration::from_millis(500),
            max_in_flight: 16,
            rest_timeout: Duration::from_secs(5),
        };
        let shutdown = CancellationToken::new();
        tokio::spawn(Interactions::with_registry(config, deps, handlers::registry()).run(shutdown.clone()));
        Self { bus, seen, calls, shutdown }
    }

    /// Sends an interaction with `budget` before the edge's deadline.
    async fn send(&self, payload: &Value, budget: Duration) -> Value {
        let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
        let request = InteractionRequest {
            body: serde_json::to_vec(payload).unwrap(),
            received_at_unix_ms: now,
            deadline_unix_ms: now + i64::try_from(budget.as_millis()).unwrap(),
        };
        let started = Instant::now();
        loop {
            match self.bus.request(SUBJECT, Message::new(request.encode_to_vec()), Duration::from_secs(10)).await {
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

    /// Waits until Discord received a request matching `wanted`.
    async fn call(&self, wanted: impl Fn(&str, &str) -> bool) -> Value {
        for _ in 0..200 {
            if let Some((_, _, body)) = self.calls.lock().await.iter().find(|(m, p, _)| wanted(m, p)) {
                return body.clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("Discord never got the request; it got {:?}", self.calls.lock().await);
    }

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

fn payload(kind: u8, data: Value) -> Value {
    json!({
        "app_permissions": "18153018084417", "application_id": APPLICATION.to_string(), "attachment_size_limit": 8_388_608,
        "authorizing_integration_owners": {"0": GUILD},
        "channel": {"id": CHANNEL.to_string(), "type": 0, "guild_id": GUILD, "name": "general", "nsfw": false, "position": 0, "flags": 0}, "channel_id": CHANNEL.to_string(),
        "context": 0, "data": data, "entitlements": [], "guild_id": GUILD, "id": "1573913314478653440", "locale": "en-US",
        "token": TOKEN, "type": kind, "version": 1,
        "member": {"deaf": false, "flags": 0, "joined_at": "2026-11-22T04:09:32.059000+00:00", "mute": false, "pending": false,
            "permissions": "2048", "roles": [], "user": {"avatar": null, "discriminator": "0", "global_name": null, "id": USER.to_string(), "username": "ada"}}
    })
}

fn command(sub: &str, options: Value) -> Value {
    payload(
        2,
        json!({"id": "1", "name": "meeting", "type": 1, "options": [{"name": sub, "type": 1, "options": options}]}),
    )
}

fn reply(status: MeetingStatus, message_id: u64) -> Vec<u8> {
    let meeting = Meeting {
        id: MEETING_ID.into(),
        title: "Office hours".into(),
        status: status as i32,
        host_user_id: USER,
        discord_channel_id: CHANNEL,
        discord_message_id: message_id,
        actual_start_unix_ms: 1_795_000_000_000,
        ..Meeting::default()
    };
    MeetingReply { result: Some(meeting_reply::Result::Meeting(meeting)), replayed: false }.encode_to_vec()
}

const WEBHOOK: &str = "/api/v10/webhooks/1573913297667883008/aW50ZXJhY3Rpb24";

#[tokio::test]
async fn the_announcement_is_read_back_and_attached_to_the_meeting() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(
        vec![
            (subject::MEETINGS_CREATE, reply(MeetingStatus::Live, 0)),
            (subject::MEETINGS_ATTACH_MESSAGE, reply(MeetingStatus::Live, POSTED)),
        ],
        Duration::ZERO,
    )
    .await;
    let response = harness
        .send(
            &command("start", json!([{"name": "title", "type": 3, "value": "Office hours"}])),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(response["type"], 4);
    harness.call(|method, path| method == "GET" && path == format!("{WEBHOOK}/messages/@original")).await;
    for _ in 0..100 {
        if let [attach] = harness.seen::<AttachMessageRequest>(subject::MEETINGS_ATTACH_MESSAGE).await.as_slice() {
            assert_eq!(
                (attach.meeting_id.as_str(), attach.channel_id, attach.message_id),
                (MEETING_ID, CHANNEL, POSTED)
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("meetings.attach_message never asked");
}

/// `/meeting end` answers the host and leaves the announcement to the notifications service (the
/// single egress for it, which edits it from the `ended` event): no edit from here.
#[tokio::test]
async fn ending_by_command_leaves_the_announcement_to_the_notifications_service() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(
        vec![
            (subject::MEETINGS_GET, reply(MeetingStatus::Live, POSTED)),
            (subject::MEETINGS_END, reply(MeetingStatus::Ended, POSTED)),
        ],
        Duration::ZERO,
    )
    .await;
    let response = harness
        .send(&command("end", json!([{"name": "meeting", "type": 3, "value": MEETING_ID}])), Duration::from_secs(10))
        .await;
    assert_eq!((response["type"].as_u64(), response["data"]["content"].as_str()), (Some(4), Some("Ended.")));
    assert_eq!(harness.seen::<EndMeetingRequest>(subject::MEETINGS_END).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let edits: Vec<_> = harness
        .calls
        .lock()
        .await
        .iter()
        .filter(|(method, _, _)| method == "PATCH")
        .map(|(_, path, _)| path.clone())
        .collect();
    assert!(edits.is_empty(), "the announcement is not edited here: {edits:?}");
}

#[tokio::test]
async fn a_late_end_button_edits_the_announcement_and_a_late_join_follows_up_privately() {
    let _trace = kalcord_test_util::trace_init();
    let join = Join {
        launch_url: "https://kaltura.example/launch".into(),
        meeting_title: "Office hours".into(),
        ..Join::default()
    };
    let harness = Harness::start(
        vec![
            (subject::MEETINGS_END, reply(MeetingStatus::Ended, POSTED)),
            (subject::IDENTITY_JOIN, JoinReply { result: Some(join_reply::Result::Join(join)) }.encode_to_vec()),
        ],
        Duration::from_millis(800),
    )
    .await;
    let click = |id: &str| payload(3, json!({"custom_id": id, "component_type": 2}));
    let response = harness.send(&click(&format!("kc1:end:{MEETING_ID}")), Duration::from_millis(600)).await;
    assert_eq!(response, json!({"type": 6}), "acknowledged without a new message");
    let edit = harness.call(|method, path| method == "PATCH" && path == format!("{WEBHOOK}/messages/@original")).await;
    assert_eq!(edit["components"], json!([]), "{edit}");

    let response = harness.send(&click(&format!("kc1:join:{MEETING_ID}")), Duration::from_millis(600)).await;
    assert_eq!(response, json!({"type": 6}));
    let follow_up = harness.call(|method, path| method == "POST" && path.starts_with(WEBHOOK)).await;
    assert_eq!(follow_up["flags"], 64, "the link stays private: {follow_up}");
    assert_eq!(follow_up["components"][0]["components"][0]["url"], "https://kaltura.example/launch");
}

#[tokio::test]
async fn a_late_refusal_of_a_public_command_never_lands_in_the_channel() {
    let _trace = kalcord_test_util::trace_init();
    let refusal = MeetingReply {
        result: Some(meeting_reply::Result::Error(kalcord_proto::v1::Error {
            code: "forbidden".into(),
            message: "Only hosts can start meetings.".into(),
            field: String::new(),
        })),
        replayed: false,
    };
    let harness =
        Harness::start(vec![(subject::MEETINGS_CREATE, refusal.encode_to_vec())], Duration::from_millis(800)).await;
    let start = payload(
        2,
        json!({"id": "1284000000000000900", "name": "meeting", "type": 1,
               "options": [{"name": "start", "type": 1, "options": [{"name": "title", "type": 3, "value": "Maths"}]}]}),
    );
    let response = harness.send(&start, Duration::from_millis(600)).await;
    assert_eq!(response, json!({"type": 5}), "a public deferral (the post will be public)");
    let follow_up = harness.call(|method, path| method == "POST" && path == WEBHOOK).await;
    assert_eq!(follow_up["flags"], 64, "the refusal follows privately: {follow_up}");
    assert!(follow_up["content"].as_str().unwrap_or_default().contains("Only hosts"), "{follow_up}");
    let calls = harness.calls.lock().await.clone();
    assert!(
        calls.iter().any(|(method, path, _)| method == "DELETE" && path == &format!("{WEBHOOK}/messages/@original")),
        "the public thinking message is removed: {calls:?}"
    );
    assert!(
        !calls.iter().any(|(method, path, _)| method == "PATCH" && path == &format!("{WEBHOOK}/messages/@original")),
        "the refusal is never edited into the public message: {calls:?}"
    );
}
