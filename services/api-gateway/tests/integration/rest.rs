//! The REST API and Discord sign-in, in process: the Discord emulator for OAuth2 and member
//! lookups, and a stand-in meetings service on the in-process bus that records what it gets.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, test, web};
use kalcord_api_gateway::{AppState, Config, ROUTES, routes};
use kalcord_bus::{MemoryBus, Message, SharedBus};
use kalcord_config::Secret;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, seed};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{
    CreateMeetingRequest, EndMeetingRequest, Error as BusReplyError, GetMeetingRequest, ListMeetingsReply,
    ListMeetingsRequest, Meeting, MeetingReply, MeetingStatus, UpdateMeetingRequest, meeting_reply,
};
use kalcord_runtime::{CommonConfig, Deps};
use parking_lot::Mutex;
use serde_json::{Value, json};

const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth2/callback";
const MEETING_ID: &str = "0190f7a4-1c2b-7d3e-8f40-123456789abc";
const MISSING_ID: &str = "0190f7a4-1c2b-7d3e-8f40-000000000000";

type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

struct Harness {
    emulator: DiscordEmulator,
    state: web::Data<AppState>,
    seen: Seen,
}

fn meeting(guild_id: u64, title: &str, version: i32) -> Meeting {
    Meeting {
        id: MEETING_ID.to_owned(),
        guild_id,
        kind: 1,
        title: title.to_owned(),
        status: 1,
        host_user_id: seed::TEACHER_ID,
        scheduled_start_unix_ms: 1_900_000_000_000,
        scheduled_end_unix_ms: 1_900_003_600_000,
        custom_fields_json: r#"{"course":"bio-101"}"#.to_owned(),
        created_at_unix_ms: 1_800_000_000_000,
        updated_at_unix_ms: 1_800_000_000_000,
        version,
        ..Meeting::default()
    }
}

fn failure(title: &str) -> Option<BusReplyError> {
    title.strip_prefix("error:").map(|code| BusReplyError {
        code: code.to_owned(),
        message: format!("refused: {code}"),
        field: if code == "invalid" { "title".to_owned() } else { String::new() },
    })
}

fn reply(result: Result<Meeting, BusReplyError>, replayed: bool) -> Vec<u8> {
    let result = match result {
        Ok(meeting) => meeting_reply::Result::Meeting(meeting),
        Err(error) => meeting_reply::Result::Error(error),
    };
    MeetingReply { result: Some(result), replayed }.encode_to_vec()
}

/// Canned answers of the stand-in meetings service.
fn answer(subject: &str, payload: &[u8]) -> Vec<u8> {
    match subject {
        subject::MEETINGS_CREATE => {
            let request = CreateMeetingRequest::decode(payload).unwrap();
            let guild = request.actor.unwrap().guild_id;
            match failure(&request.title) {
                Some(error) => reply(Err(error), false),
                None => reply(Ok(meeting(guild, &request.title, 1)), request.idempotency_key.ends_with(":replay")),
            }
        }
        subject::MEETINGS_GET => {
            let request = GetMeetingRequest::decode(payload).unwrap();
            if request.meeting_id == MISSING_ID {
                let error =
                    BusReplyError { code: "not_found".into(), message: "no such meeting".into(), field: String::new() };
                return reply(Err(error), false);
            }
            reply(Ok(meeting(request.actor.unwrap().guild_id, "Biology", 1)), false)
        }
        subject::MEETINGS_LIST => {
            let request = ListMeetingsRequest::decode(payload).unwrap();
            let guild = request.actor.unwrap().guild_id;
            let next_cursor = if request.cursor.is_empty() { "page-2".to_owned() } else { String::new() };
            ListMeetingsReply { meetings: vec![meeting(guild, "Biology", 1)], next_cursor, error: None }.encode_to_vec()
        }
        subject::MEETINGS_UPDATE => {
            let request = UpdateMeetingRequest::decode(payload).unwrap();
            if request.expected_version != 0 && request.expected_version != 1 {
                let error = BusReplyError {
                    code: "conflict".into(),
                    message: "changed meanwhile".into(),
                    field: String::new(),
                };
                return reply(Err(error), false);
            }
            let title = request.title.unwrap_or_else(|| "Biology".into());
            reply(Ok(meeting(request.actor.unwrap().guild_id, &title, 2)), false)
        }
        _ => {
            let request = EndMeetingRequest::decode(payload).unwrap();
            let mut cancelled = meeting(request.actor.unwrap().guild_id, "Biology", 2);
            cancelled.status = MeetingStatus::Cancelled.into();
            reply(Ok(cancelled), false)
        }
    }
}

async fn serve(bus: &SharedBus, seen: &Seen) {
    for name in [
        subject::MEETINGS_CREATE,
        subject::MEETINGS_GET,
        subject::MEETINGS_LIST,
        subject::MEETINGS_UPDATE,
        subject::MEETINGS_CANCEL,
    ] {
        let mut requests = bus.serve(name, "meetings").await.unwrap();
        let seen = Arc::clone(seen);
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let payload = request.message.payload.to_vec();
                seen.lock().push((request.subject.clone(), payload.clone()));
                let answer = answer(&request.subject, &payload);
                let _ = request.respond(Message::new(answer)).await;
            }
        });
    }
}

impl Harness {
    async fn start(with_meetings: bool) -> Self {
        let emulator = DiscordEmulator::start(EmulatorConfig::default().with_guild(seed::demo_guild())).await.unwrap();
        emulator.state().set_oauth_user(seed::TEACHER_ID);
        let app = emulator.application();
        let mut common = CommonConfig::defaults();
        common.discord.api_base = Some(emulator.api_authority());
        common.discord.application_id = Some(app.id.parse().unwrap());
        common.discord.bot_token = Some(Secret::new(app.bot_token.clone()));
        common.discord.client_secret = Some(Secret::new(app.client_secret.clone()));
        common.discord.oauth_redirect_uri = Some(REDIRECT_URI.to_owned());
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let seen = Seen::default();
        if with_meetings {
            serve(&bus, &seen).await;
        }
        let deps = Deps {
            bus,
            cache: None,
            common: Arc::new(common),
            instance: "test".into(),
            started: std::time::Instant::now(),
            store: None,
        };
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            workers: 1,
            request_timeout: Duration::from_millis(500),
            token_key: Some(Secret::new("k".repeat(32))),
            ..Config::default()
        };
        Self { emulator, state: web::Data::new(AppState::new(config, deps)), seen }
    }

    fn token_for(&self, user: u64) -> String {
        let now = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap();
        self.state.token_key.issue(user, &[seed::GUILD_ID, 42], now, 3600).0
    }

    fn seen(&self, subject: &str) -> Vec<Vec<u8>> {
        self.seen.lock().iter().filter(|(s, _)| s == subject).map(|(_, p)| p.clone()).collect()
    }
}

macro_rules! app {
    ($harness:expr) => {
        test::init_service(App::new().app_data($harness.state.clone()).configure(routes)).await
    };
}

async fn json_of(response: ServiceResponse) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// Checks `value` against a schema of the OpenAPI document (the subset it uses).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching =
            options.iter().filter(|option| std::panic::catch_unwind(|| check(doc, option, value, at)).is_ok()).count();
        assert_eq!(matching, 1, "{at}: {value} matches {matching} of oneOf");
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    assert!(types.is_empty() || types.contains(&actual), "{at}: {value} is not {types:?}");
    if let Some(allowed) = schema["enum"].as_array() {
        assert!(allowed.contains(value), "{at}: {value} not in {allowed:?}");
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        assert_eq!(pattern, "^[0-9]{1,20}$", "only the snowflake pattern is checked");
        let text = value.as_str().unwrap_or_default();
        assert!(!text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()), "{at}: {value}");
    }
    if let Value::Object(map) = value {
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(map.contains_key(required.as_str().unwrap()), "{at}: missing {required}");
        }
        for (key, item) in map {
            match schema["properties"].get(key) {
                Some(property) => check(doc, property, item, &format!("{at}.{key}")),
                None => assert_ne!(schema["additionalProperties"], false, "{at}: unexpected {key}"),
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{at}[{i}]"));
        }
    }
}

fn check_response(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {path} does not document {status}");
    let schema = &response["content"]["application/json"]["schema"];
    check(doc, schema, body, &format!("{method} {path} {status}"));
}

#[actix_web::test]
async fn the_code_flow_signs_in_with_state_bound_to_the_browser() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(false).await;
    let app = app!(harness);
    let login = test::call_service(&app, test::TestRequest::get().uri("/oauth2/login").to_request()).await;
    assert_eq!(login.status(), 302);
    let location = login.headers().get("location").unwrap().to_str().unwrap().to_owned();
    let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/oauth2/authorize?", harness.emulator.api_base())), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], harness.emulator.application().id);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "identify guilds");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    let state = query["state"].clone();
    assert!(state.len() >= 32, "{state}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    assert!(!cookie.contains(&harness.state.token_key.issue(1, &[], 0, 1).0), "no token in the cookie");
    let cookie_pair = cookie.split(';').next().unwrap().to_owned();

    // Discord (the emulator) approves and sends the browser back with a code and the state.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let approved = http.get(&location).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let back = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    let back_query: std::collections::HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(back_query["state"], state);
    let callback = format!("/oauth2/callback?{}", back.query().unwrap());

    // Wrong or missing state, or no cookie: 400.
    for (uri, cookie) in [
        (format!("/oauth2/callback?code={}&state=forged", back_query["code"]), Some(cookie_pair.clone())),
        (callback.clone(), None),
        (format!("/oauth2/callback?code={}", back_query["code"]), Some(cookie_pair.clone())),
        (callback.clone(), Some(format!("{}x", cookie_pair))),
    ] {
        let mut request = test::TestRequest::get().uri(&uri);
        if let Some(cookie) = cookie {
            request = request.insert_header(("cookie", cookie));
        }
        let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert_eq!(body["code"], "invalid_state");
    }

    let request = test::TestRequest::get().uri(&callback).insert_header(("cookie", format!("a=b; {cookie_pair}")));
    let response = test::call_service(&app, request.to_request()).await;
    assert!(response.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    check_response(&kalcord_api_gateway::openapi::document(), "/oauth2/callback", "get", 200, &body);
    assert_eq!(body["user_id"], seed::TEACHER_ID.to_string());
    assert!(body["guilds"].as_array().unwrap().contains(&json!(seed::GUILD_ID.to_string())), "{body}");
    let claims = harness.state.token_key.verify(body["token"].as_str().unwrap(), i64::MAX - 1);
    assert!(claims.is_err(), "expires");
    let token = body["token"].as_str().unwrap();
    assert!(harness.state.token_key.verify(token, 0).is_ok());

    // The code is spent: the same callback again is refused by Discord.
    let request = test::TestRequest::get().uri(&callback).insert_header(("cookie", cookie_pair.clone()));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("oauth_failed")), "{body}");

    // Nothing of Discord's token leaks into the logs' Debug of the state.
    assert!(!format!("{:?}", harness.state).contains(&harness.emulator.application().client_secret));
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn meetings_are_created_listed_read_updated_and_cancelled() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(true).await;
    let app = app!(harness);
    let doc = kalcord_api_gateway::openapi::document();
    let token = harness.token_for(seed::TEACHER_ID);
    let guild = seed::GUILD_ID;

    let create = json!({"guild_id": guild.to_string(), "kind": "virtual_classroom", "title": "Biology",
        "scheduled_start": "2030-03-17T15:00:00+01:00", "duration_minutes": 90, "custom_fields": {"course": "bio-101"},
        "channel_id": seed::CLASSROOM_CHANNEL.to_string()});
    let request = test::TestRequest::post()
        .uri("/api/v1/meetings")
        .insert_header(bearer(&token))
        .insert_header(("idempotency-key", "abc"))
        .set_json(&create);
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.headers().get("etag").unwrap(), "\"1\"");
    assert_eq!(
        response.headers().get("location").unwrap(),
        format!("/api/v1/meetings/{MEETING_ID}?guild_id={guild}").as_str()
    );
    let (status, body) = json_of(response).await;
    assert_eq!(status, 201, "{body}");
    check_response(&doc, "/api/v1/meetings", "post", 201, &body);
    assert_eq!(body["custom_fields"]["course"], "bio-101");
    let sent = CreateMeetingRequest::decode(harness.seen(subject::MEETINGS_CREATE)[0].as_slice()).unwrap();
    let actor = sent.actor.unwrap();
    assert_eq!((actor.guild_id, actor.user_id), (guild, seed::TEACHER_ID));
    assert!(actor.role_ids.contains(&seed::TEACHER_ROLE), "{:?}", actor.role_ids);
    let world_permissions = harness.emulator.state().member_permissions(guild, seed::TEACHER_ID);
    assert_eq!(Some(actor.permissions), world_permissions, "same permissions as Discord computes");
    assert!(!actor.is_owner);
    assert_eq!(
        sent.scheduled_start_unix_ms,
        chrono::DateTime::parse_from_rfc3339("2030-03-17T14:00:00Z").unwrap().timestamp_millis()
    );
    assert_eq!((sent.duration_minutes, sent.channel_id), (90, seed::CLASSROOM_CHANNEL));
    assert_eq!(sent.idempotency_key, format!("rest:{}:abc", seed::TEACHER_ID));
    assert_eq!(sent.custom_fields_json, r#"{"course":"bio-101"}"#);

    // A replayed key answers 200 and says so.
    let request = test::TestRequest::post()
        .uri("/api/v1/meetings")
        .insert_header(bearer(&token))
        .insert_header(("idempotency-key", "replay"))
        .set_json(&create);
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("idempotent-replayed").unwrap(), "true");

    let uri = format!("/api/v1/meetings?guild_id={guild}&status=scheduled,live&from=2030-01-01T00:00:00Z&limit=10");
    let request = test::TestRequest::get().uri(&uri).insert_header(bearer(&token));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!(status, 200, "{body}");
    check_response(&doc, "/api/v1/meetings", "get", 200, &body);
    assert_eq!(body["next_cursor"], "page-2");
    let sent = ListMeetingsRequest::decode(harness.seen(subject::MEETINGS_LIST)[0].as_slice()).unwrap();
    assert_eq!(sent.statuses, [1, 2]);
    assert_eq!(sent.limit, 10);
    assert_eq!(sent.from_unix_ms, 1_893_456_000_000);
    let request = test::TestRequest::get()
        .uri(&format!("/api/v1/meetings?guild_id={guild}&cursor=page-2"))
        .insert_header(bearer(&token));
    let (_, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!(body["next_cursor"], Value::Null);

    let item = format!("/api/v1/meetings/{MEETING_ID}?guild_id={guild}");
    let request = test::TestRequest::get().uri(&item).insert_header(bearer(&token));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!(status, 200, "{body}");
    check_response(&doc, "/api/v1/meetings/{id}", "get", 200, &body);
    assert_eq!(body["scheduled_start"], "2030-03-17T17:46:40Z");

    let request = test::TestRequest::patch()
        .uri(&item)
        .insert_header(bearer(&token))
        .insert_header(("if-match", "\"1\""))
        .set_json(json!({"title": "Biology II", "duration_minutes": 45}));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!(status, 200, "{body}");
    check_response(&doc, "/api/v1/meetings/{id}", "patch", 200, &body);
    assert_eq!((body["title"].as_str(), body["version"].as_i64()), (Some("Biology II"), Some(2)));
    let sent = UpdateMeetingRequest::decode(harness.seen(subject::MEETINGS_UPDATE)[0].as_slice()).unwrap();
    assert_eq!((sent.title.as_deref(), sent.description, sent.duration_minutes), (Some("Biology II"), None, Some(45)));
    assert_eq!(sent.expected_version, 1);

    // A stale version is a conflict.
    let request = test::TestRequest::patch()
        .uri(&item)
        .insert_header(bearer(&token))
        .set_json(json!({"title": "x", "version": 7}));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    check_response(&doc, "/api/v1/meetings/{id}", "patch", 409, &body);

    let request = test::TestRequest::delete().uri(&item).insert_header(bearer(&token));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    check_response(&doc, "/api/v1/meetings/{id}", "delete", 200, &body);
    assert_eq!(harness.seen(subject::MEETINGS_CANCEL).len(), 1);

    let request = test::TestRequest::get()
        .uri(&format!("/api/v1/meetings/{MISSING_ID}?guild_id={guild}"))
        .insert_header(bearer(&token));
    let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");

    // The owner has every permission; member lookups are cached (one guild + one member call each).
    let owner = harness.token_for(seed::OWNER_ID);
    for _ in 0..2 {
        let request = test::TestRequest::get().uri(&item).insert_header(bearer(&owner));
        assert_eq!(test::call_service(&app, request.to_request()).await.status(), 200);
    }
    let sent = GetMeetingRequest::decode(harness.seen(subject::MEETINGS_GET).last().unwrap().as_slice()).unwrap();
    let actor = sent.actor.unwrap();
    assert!(actor.is_owner && actor.permissions == u64::MAX, "{actor:?}");
    let lookups = harness
        .emulator
        .state()
        .requests()
        .iter()
        .filter(|r| r.path.contains(&format!("/members/{}", seed::OWNER_ID)))
        .count();
    assert_eq!(lookups, 1, "member lookups are cached");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn requests_without_a_valid_token_or_outside_the_tokens_guilds_are_refused() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(true).await;
    let app = app!(harness);
    let doc = kalcord_api_gateway::openapi::document();
    let list = format!("/api/v1/meetings?guild_id={}", seed::GUILD_ID);
    let token = harness.token_for(seed::TEACHER_ID);
    let expired = harness.state.token_key.issue(seed::TEACHER_ID, &[seed::GUILD_ID], 1_000, 60).0;
    let mut tampered: Vec<char> = token.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let other_key =
        kalcord_api_gateway::token::TokenKey::random().issue(seed::TEACHER_ID, &[seed::GUILD_ID], 0, i64::MAX / 2).0;
    for (authorization, expect) in [
        (None, "missing bearer token"),
        (Some(format!("Bearer {expired}")), "expired"),
        (Some(format!("Bearer {tampered}")), "invalid"),
        (Some(format!("Bearer {other_key}")), "invalid"),
        (Some(format!("Basic {token}")), "missing"),
    ] {
        let mut request = test::TestRequest::get().uri(&list);
        if let Some(authorization) = authorization {
            request = request.insert_header(("authorization", authorization));
        }
        let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")), "{body}");
        assert!(body["message"].as_str().unwrap().contains(expect), "{body}");
        check_response(&doc, "/api/v1/meetings", "get", 401, &body);
    }

    // A guild the token does not list, and a guild it lists but the member left: 404, nothing sent.
    for guild in [99_u64, 42] {
        let request =
            test::TestRequest::get().uri(&format!("/api/v1/meetings?guild_id={guild}")).insert_header(bearer(&token));
        let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{guild}: {body}");
    }
    assert!(harness.seen(subject::MEETINGS_LIST).is_empty());
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn bad_bodies_name_their_field_and_service_errors_map_to_statuses() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(true).await;
    let app = app!(harness);
    let doc = kalcord_api_gateway::openapi::document();
    let token = harness.token_for(seed::TEACHER_ID);
    let guild = seed::GUILD_ID.to_string();
    let post = |body: Value| {
        test::TestRequest::post().uri("/api/v1/meetings").insert_header(bearer(&token)).set_json(body).to_request()
    };
    for (body, field) in [
        (json!({"guild_id": guild, "kind": "virtual_classroom"}), "title"),
        (json!({"guild_id": guild, "kind": "zoom", "title": "x"}), "kind"),
        (json!({"guild_id": "abc", "kind": "webinar", "title": "x"}), "guild_id"),
        (json!({"guild_id": guild, "kind": "webinar", "title": 5}), "title"),
        (json!({"guild_id": guild, "kind": "webinar", "title": "x", "scheduled_start": "tomorrow"}), "scheduled_start"),
        (json!({"guild_id": guild, "kind": "webinar", "title": "x", "duration_minutes": 0}), "duration_minutes"),
        (json!({"guild_id": guild, "kind": "webinar", "title": "x", "custom_fields": [1]}), "custom_fields"),
        (json!({"guild_id": guild, "kind": "webinar", "title": "x", "colour": "red"}), "colour"),
    ] {
        let (status, response) = json_of(test::call_service(&app, post(body.clone())).await).await;
        assert_eq!((status, response["field"].as_str()), (400, Some(field)), "{body}: {response}");
        assert_eq!(response["code"], "invalid");
        check_response(&doc, "/api/v1/meetings", "post", 400, &response);
    }
    let malformed = test::TestRequest::post()
        .uri("/api/v1/meetings")
        .insert_header(bearer(&token))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"title\": ");
    let (status, body) = json_of(test::call_service(&app, malformed.to_request()).await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");
    let huge = test::TestRequest::post()
        .uri("/api/v1/meetings")
        .insert_header(bearer(&token))
        .set_json(json!({"title": "x".repeat(70 * 1024)}));
    let (status, body) = json_of(test::call_service(&app, huge.to_request()).await).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("payload_too_large")), "{body}");
    assert!(harness.seen(subject::MEETINGS_CREATE).is_empty(), "nothing invalid crosses the bus");

    for (code, status, name) in [
        ("invalid", 400, "invalid"),
        ("forbidden", 403, "forbidden"),
        ("not_found", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("not_configured", 409, "guild_not_configured"),
        ("kaltura_unavailable", 503, "kaltura_unavailable"),
        ("kaltura_refused", 502, "kaltura_refused"),
        ("internal", 500, "internal"),
        ("something_new", 500, "internal"),
    ] {
        let response = test::call_service(
            &app,
            post(json!({"guild_id": guild, "kind": "webinar", "title": format!("error:{code}")})),
        )
        .await;
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let (actual, body) = json_of(response).await;
        assert_eq!((actual, body["code"].as_str()), (status, Some(name)), "{code}: {body}");
        check_response(&doc, "/api/v1/meetings", "post", status, &body);
        assert_eq!(retry_after.is_some(), code == "kaltura_unavailable", "{code}");
        if code == "invalid" {
            assert_eq!(body["field"], "title");
        }
    }
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn an_absent_meetings_service_is_a_503() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(false).await;
    let app = app!(harness);
    let token = harness.token_for(seed::TEACHER_ID);
    let request = test::TestRequest::get()
        .uri(&format!("/api/v1/meetings?guild_id={}", seed::GUILD_ID))
        .insert_header(bearer(&token));
    let response = test::call_service(&app, request.to_request()).await;
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = json_of(response).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("service_unavailable")), "{body}");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn the_openapi_document_describes_exactly_the_served_routes() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(false).await;
    let app = app!(harness);
    let response = test::call_service(&app, test::TestRequest::get().uri("/api/v1/openapi.json").to_request()).await;
    let (status, served) = json_of(response).await;
    assert_eq!(status, 200);
    assert_eq!(served, kalcord_api_gateway::openapi::document());
    assert_eq!(served["openapi"], "3.1.0");
    let documented: Vec<(String, String)> = served["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "parameters")
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut registered: Vec<(String, String)> =
        ROUTES.iter().map(|route| (route.method.to_owned(), route.path.to_owned())).collect();
    let mut sorted = documented.clone();
    sorted.sort();
    registered.sort();
    assert_eq!(sorted, registered, "the document and the routes differ");

    // Every documented operation reaches a handler (never the JSON 404 of unknown routes), and
    // every `$ref` resolves.
    for (method, path) in &documented {
        let uri = path.replace("{id}", MEETING_ID);
        let request = test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&uri)
            .to_request();
        let response = app.call(request).await.unwrap();
        let (status, body) = json_of(response).await;
        let unrouted = body["message"].as_str().is_some_and(|m| m.starts_with("no route for"));
        assert!(!unrouted, "{method} {path} is documented but not served ({status})");
    }
    let text = served.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference.split('"').next().unwrap().trim_start_matches("#/components/schemas/");
        assert!(served["components"]["schemas"][name].is_object(), "dangling $ref {name}");
    }
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn a_channel_of_another_server_is_refused_by_name() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(true).await;
    let app = app!(harness);
    let token = harness.token_for(seed::TEACHER_ID);
    for channel in ["1284000000000000999", "42"] {
        let create = json!({"guild_id": seed::GUILD_ID.to_string(), "kind": "meeting_room", "title": "Elsewhere",
            "channel_id": channel});
        let request = test::TestRequest::post().uri("/api/v1/meetings").insert_header(bearer(&token)).set_json(&create);
        let (status, body) = json_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!((status, body["field"].as_str()), (400, Some("channel_id")), "{channel}: {body}");
    }
    assert!(harness.seen(subject::MEETINGS_CREATE).is_empty(), "nothing reached the meetings service");
    harness.emulator.stop().await;
}
