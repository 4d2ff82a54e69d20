//! The launch page `/m/{guild}/{meeting}`, in process: the Discord emulator for sign-in and
//! member lookups, and a stand-in identity service on the in-process bus that records each
//! `identity.join` it gets and answers (or not) as the test says.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::{App, test, web};
use kalcord_api_gateway::{AppState, Config, routes};
use kalcord_bus::{MemoryBus, Message, SharedBus};
use kalcord_config::Secret;
use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, UserSeed, seed};
use kalcord_proto::Message as _;
use kalcord_proto::subject;
use kalcord_proto::v1::{Error as BusReplyError, Join, JoinReply, JoinRequest, MeetingRole, join_reply};
use kalcord_runtime::{CommonConfig, Deps};
use parking_lot::Mutex;

const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth2/callback";
const MEETING_ID: &str = "0190f7a4-1c2b-7d3e-8f40-123456789abc";
/// A Discord user the emulator knows who is in no guild.
const OUTSIDER_ID: u64 = 1_284_000_000_000_000_399;

/// How the stand-in identity service answers a join; `None`: it never answers.
type Answer = Arc<dyn Fn(&JoinRequest) -> Option<JoinReply> + Send + Sync>;

/// The launch URL identity mints for a member: personal (their id) and carrying a KS.
fn launch_url(user_id: u64) -> String {
    format!("https://127.0.0.1:9/kaf/launch?ks=secret-ks-of-{user_id}&room={MEETING_ID}")
}

fn joins() -> Answer {
    Arc::new(|request: &JoinRequest| {
        let actor = request.actor.clone().unwrap_or_default();
        let join = Join {
            launch_url: launch_url(actor.user_id),
            role: MeetingRole::Attendee.into(),
            expires_at_unix_ms: 1_900_000_000_000,
            meeting_title: "Biology".into(),
            meeting_id: request.meeting_id.clone(),
        };
        Some(JoinReply { result: Some(join_reply::Result::Join(join)) })
    })
}

fn refuses(code: &'static str, message: &'static str) -> Answer {
    Arc::new(move |_: &JoinRequest| {
        let error = BusReplyError { code: code.into(), message: message.into(), field: String::new() };
        Some(JoinReply { result: Some(join_reply::Result::Error(error)) })
    })
}

fn launches(url: &'static str) -> Answer {
    Arc::new(move |request: &JoinRequest| {
        let join = Join { launch_url: url.into(), meeting_id: request.meeting_id.clone(), ..Join::default() };
        Some(JoinReply { result: Some(join_reply::Result::Join(join)) })
    })
}

fn silent() -> Answer {
    Arc::new(|_: &JoinRequest| None)
}

struct Harness {
    emulator: DiscordEmulator,
    state: web::Data<AppState>,
    seen: Arc<Mutex<Vec<JoinRequest>>>,
}

async fn serve_identity(bus: &SharedBus, seen: &Arc<Mutex<Vec<JoinRequest>>>, answer: Answer) {
    let mut requests = bus.serve(subject::IDENTITY_JOIN, "identity").await.unwrap();
    let seen = Arc::clone(seen);
    tokio::spawn(async move {
        // NOTE: unanswered requests are held, so the gateway waits for its timeout.
        let mut held = Vec::new();
        while let Some(request) = requests.next().await {
            let join = JoinRequest::decode(request.message.payload.as_ref()).unwrap();
            seen.lock().push(join.clone());
            match answer(&join) {
                Some(reply) => drop(request.respond(Message::new(reply.encode_to_vec())).await),
                None => held.push(request),
            }
        }
    });
}

impl Harness {
    async fn start(answer: Answer) -> Self {
        Self::configured(answer, |_| {}).await
    }

    async fn configured(answer: Answer, configure: impl FnOnce(&mut CommonConfig)) -> Self {
        let emulator = DiscordEmulator::start(EmulatorConfig::default().with_guild(seed::demo_guild())).await.unwrap();
        emulator.state().set_oauth_user(seed::TEACHER_ID);
        emulator.state().add_user(&UserSeed::new(OUTSIDER_ID, "outsider"));
        let app = emulator.application();
        let mut common = CommonConfig::defaults();
        common.discord.api_base = Some(emulator.api_authority());
        common.discord.application_id = Some(app.id.parse().unwrap());
        common.discord.bot_token = Some(Secret::new(app.bot_token.clone()));
        common.discord.client_secret = Some(Secret::new(app.client_secret.clone()));
        common.discord.oauth_redirect_uri = Some(REDIRECT_URI.to_owned());
        configure(&mut common);
        let bus: SharedBus = Arc::new(MemoryBus::new(""));
        let seen = Arc::default();
        serve_identity(&bus, &seen, answer).await;
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

    /// A session cookie for `user`, listing `guilds`, issued `age` seconds ago.
    fn session(&self, user: u64, guilds: &[u64], age: i64) -> String {
        let now = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap();
        format!("kalcord_session={}", self.state.token_key.issue(user, guilds, now - age, 3600).0)
    }

    fn seen(&self) -> Vec<JoinRequest> {
        self.seen.lock().clone()
    }
}

macro_rules! app {
    ($harness:expr) => {
        test::init_service(App::new().app_data($harness.state.clone()).configure(routes)).await
    };
}

fn page() -> String {
    format!("/m/{}/{MEETING_ID}", seed::GUILD_ID)
}

fn sign_in_location() -> String {
    format!("/oauth2/login?next=%2Fm%2F{}%2F{MEETING_ID}", seed::GUILD_ID)
}

fn header(response: &ServiceResponse, name: &str) -> String {
    response.headers().get(name).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn set_cookies(response: &ServiceResponse) -> Vec<String> {
    response.headers().get_all("set-cookie").map(|value| value.to_str().unwrap().to_owned()).collect()
}

/// Status, `Content-Type` and body of an HTML page.
async fn html_of(response: ServiceResponse) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    assert_eq!(header(&response, "cache-control"), "no-store");
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    (status, content_type, body)
}

/// Discord (the emulator) approves the sign-in `login` answered: the callback's URI and the
/// state cookie to send with it.
async fn approve(login: &ServiceResponse) -> (String, String) {
    assert_eq!(login.status(), 302);
    let authorize = header(login, "location");
    let state_cookie = set_cookies(login)[0].split(';').next().unwrap().to_owned();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let approved = http.get(&authorize).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let back = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    (format!("/oauth2/callback?{}", back.query().unwrap()), state_cookie)
}

/// Follows the sign-in starting at `$login` through the emulator's consent page: the callback's answer.
macro_rules! sign_in {
    ($app:expr, $login:expr) => {{
        let login = test::call_service(&$app, test::TestRequest::get().uri($login).to_request()).await;
        let (callback, state_cookie) = approve(&login).await;
        let request = test::TestRequest::get().uri(&callback).insert_header(("cookie", state_cookie));
        test::call_service(&$app, request.to_request()).await
    }};
}

#[actix_web::test]
async fn a_member_without_a_session_signs_in_and_lands_in_their_own_room() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(joins()).await;
    let app = app!(harness);

    // No cookie: to sign-in, coming back here.
    let response = test::call_service(&app, test::TestRequest::get().uri(&page()).to_request()).await;
    assert_eq!(response.status(), 302);
    assert_eq!(header(&response, "location"), sign_in_location());
    assert_eq!(header(&response, "cache-control"), "no-store");

    // Login: to Discord's consent page with a state, the state cookie binding `next`.
    let login = test::call_service(&app, test::TestRequest::get().uri(&sign_in_location()).to_request()).await;
    assert_eq!(login.status(), 302);
    let authorize = url::Url::parse(&header(&login, "location")).unwrap();
    assert!(authorize.as_str().starts_with(&format!("{}/oauth2/authorize?", harness.emulator.api_base())));
    let query: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert!(query["state"].len() >= 32, "{query:?}");
    assert!(!authorize.as_str().contains(MEETING_ID), "`next` stays in the signed cookie");
    assert!(set_cookies(&login)[0].starts_with("kalcord_oauth_state="), "{:?}", set_cookies(&login));

    // Callback: the session cookie, then back to the launch page.
    let callback = sign_in!(app, &sign_in_location());
    assert_eq!(callback.status(), 302);
    assert_eq!(header(&callback, "location"), page());
    let cookies = set_cookies(&callback);
    let session = cookies.iter().find(|cookie| cookie.starts_with("kalcord_session=")).unwrap();
    for attribute in ["Path=/m;", "HttpOnly", "SameSite=Lax", "Max-Age=3600"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
    }
    assert!(!session.contains("Secure"), "http: {session}");
    assert!(cookies.iter().any(|cookie| cookie.starts_with("kalcord_oauth_state=;")), "{cookies:?}");
    let session_pair = session.split(';').next().unwrap().to_owned();
    let token = session_pair.trim_start_matches("kalcord_session=");
    let claims = harness.state.token_key.verify(token, 0).unwrap();
    assert_eq!(claims.user_id(), seed::TEACHER_ID);

    // With the session: 302 to the link identity minted for this member.
    let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", session_pair));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(response.status(), 302);
    assert_eq!(header(&response, "location"), launch_url(seed::TEACHER_ID));
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    assert!(test::read_body(response).await.is_empty(), "the KS is never in a body");
    let seen = harness.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].meeting_id, MEETING_ID);
    let actor = seen[0].actor.clone().unwrap();
    assert_eq!((actor.guild_id, actor.user_id), (seed::GUILD_ID, seed::TEACHER_ID));
    let mut roles = actor.role_ids.clone();
    roles.sort_unstable();
    assert_eq!(roles, [seed::TEACHER_ROLE, seed::MEMBER_ROLE]);
    assert_eq!(Some(actor.permissions), harness.emulator.state().member_permissions(seed::GUILD_ID, seed::TEACHER_ID));

    // Another member gets their own link, with their own roles.
    let student = harness.session(seed::STUDENT_ID, &[seed::GUILD_ID], 0);
    let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", student));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(header(&response, "location"), launch_url(seed::STUDENT_ID));
    let actor = harness.seen()[1].actor.clone().unwrap();
    assert_eq!(actor.user_id, seed::STUDENT_ID);
    assert!(actor.role_ids.contains(&seed::STUDENT_ROLE) && !actor.role_ids.contains(&seed::TEACHER_ROLE));
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn session_cookies_are_secure_when_the_public_origin_is_https() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::configured(joins(), |common| {
        common.discord.public_url = Some("https://kalcord.example.com".into());
    })
    .await;
    let app = app!(harness);
    let callback = sign_in!(app, &sign_in_location());
    assert_eq!(callback.status(), 302);
    let cookies = set_cookies(&callback);
    let session = cookies.iter().find(|cookie| cookie.starts_with("kalcord_session=")).unwrap();
    assert!(session.ends_with("; Secure"), "{session}");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn forged_or_expired_sessions_sign_in_again() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(joins()).await;
    let app = app!(harness);
    let valid = harness.session(seed::TEACHER_ID, &[seed::GUILD_ID], 0);
    let expired =
        format!("kalcord_session={}", harness.state.token_key.issue(seed::TEACHER_ID, &[seed::GUILD_ID], 1_000, 60).0);
    let other_key = format!(
        "kalcord_session={}",
        kalcord_api_gateway::token::TokenKey::random().issue(seed::TEACHER_ID, &[seed::GUILD_ID], 0, i64::MAX / 2).0
    );
    let mut tampered: Vec<char> = valid.chars().collect();
    let middle = tampered.len() / 2 + 10;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for cookie in [expired, other_key, tampered, "kalcord_session=garbage".to_owned()] {
        let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", cookie.clone()));
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 302, "{cookie}");
        assert_eq!(header(&response, "location"), sign_in_location(), "{cookie}");
        let cleared = set_cookies(&response);
        assert!(cleared.iter().any(|c| c.starts_with("kalcord_session=;") && c.contains("Max-Age=0")), "{cleared:?}");
    }
    // A state cookie is no session.
    let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", "kalcord_oauth_state=abc.1.def"));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(header(&response, "location"), sign_in_location());
    assert!(harness.seen().is_empty(), "nothing reached identity");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn next_must_be_a_launch_page_of_this_site() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(joins()).await;
    let app = app!(harness);
    for next in [
        "//evil.example",
        "https://evil.example/m/1/0190f7a4-1c2b-7d3e-8f40-123456789abc",
        "/api/v1/meetings",
        "/m/1/not-a-uuid",
        "/m/1/0190f7a4-1c2b-7d3e-8f40-123456789abc/../../api",
        "/m/1/0190f7a4-1c2b-7d3e-8f40-123456789abc?then=https://evil.example",
        "",
    ] {
        let uri = format!(
            "/oauth2/login?{}",
            url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish()
        );
        let response = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
        assert!(set_cookies(&response).is_empty(), "{next}");
        let status = response.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (400, Some("invalid"), Some("next")),
            "{next}"
        );
    }
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn non_members_get_a_403_page_and_stale_guild_lists_sign_in_again() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(joins()).await;
    let app = app!(harness);

    // Signed in just now, in no guild.
    harness.emulator.state().set_oauth_user(OUTSIDER_ID);
    let callback = sign_in!(app, &sign_in_location());
    let session = set_cookies(&callback).into_iter().find(|c| c.starts_with("kalcord_session=")).unwrap();
    let session = session.split(';').next().unwrap().to_owned();
    // A token listing the guild whose member left it; a token of a member of another guild.
    harness.emulator.state().remove_member(seed::GUILD_ID, seed::STUDENT2_ID).unwrap();
    let left = harness.session(seed::STUDENT2_ID, &[seed::GUILD_ID], 600);
    let elsewhere = harness.session(seed::STUDENT_ID, &[42], 0);
    for cookie in [session, left, elsewhere] {
        let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", cookie.clone()));
        let (status, content_type, body) = html_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!(status, 403, "{cookie}: {body}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("not a member of this server"), "{body}");
        assert!(body.contains(&format!("href=\"{}\"", sign_in_location())), "offers another account: {body}");
    }

    // A token from a while ago not listing the guild: the member may have joined since.
    let stale = harness.session(seed::STUDENT_ID, &[42], 600);
    let response =
        test::call_service(&app, test::TestRequest::get().uri(&page()).insert_header(("cookie", stale)).to_request())
            .await;
    assert_eq!((response.status().as_u16(), header(&response, "location")), (302, sign_in_location()));
    assert!(harness.seen().is_empty(), "nothing reached identity");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn identity_timing_out_is_a_503_page() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(silent()).await;
    let app = app!(harness);
    let cookie = harness.session(seed::TEACHER_ID, &[seed::GUILD_ID], 0);
    let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", cookie));
    let response = test::call_service(&app, request.to_request()).await;
    assert_eq!(header(&response, "retry-after"), "5");
    let (status, content_type, body) = html_of(response).await;
    assert_eq!(status, 503, "{body}");
    assert!(content_type.starts_with("text/html"));
    assert!(body.contains("try again in a moment"), "{body}");
    assert!(body.contains(&format!("href=\"{}\"", page())), "{body}");
    assert_eq!(harness.seen().len(), 1, "identity got the request");
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn refusals_are_pages_with_identitys_words_escaped() {
    let _trace = kalcord_test_util::trace_init();
    for (answer, status, says) in [
        (refuses("not_found", "That meeting does not exist in this server."), 404, "does not exist in this server"),
        (refuses("conflict", "This meeting <b>has ended</b>."), 409, "This meeting &lt;b&gt;has ended&lt;/b&gt;."),
        (refuses("not_configured", "ask an admin to run /kaltura setup"), 409, "/kaltura setup"),
        (refuses("kaltura_unavailable", "Kaltura is not answering."), 503, "try again in a moment"),
        (refuses("internal", "database said: password=hunter2"), 500, "Something went wrong on our side"),
        (launches("javascript:alert(document.cookie)"), 502, "unexpected link"),
    ] {
        let harness = Harness::start(answer).await;
        let app = app!(harness);
        let cookie = harness.session(seed::TEACHER_ID, &[seed::GUILD_ID], 0);
        let request = test::TestRequest::get().uri(&page()).insert_header(("cookie", cookie));
        let response = test::call_service(&app, request.to_request()).await;
        assert!(response.headers().get("location").is_none());
        let (actual, content_type, body) = html_of(response).await;
        assert_eq!(actual, status, "{says}: {body}");
        assert!(content_type.starts_with("text/html"));
        assert!(body.contains(says), "{says}: {body}");
        assert!(!body.contains("<b>") && !body.contains("hunter2") && !body.contains("javascript:"), "{body}");
        harness.emulator.stop().await;
    }
}

#[actix_web::test]
async fn paths_that_are_not_a_guild_and_a_meeting_are_400_pages() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start(joins()).await;
    let app = app!(harness);
    let cookie = harness.session(seed::TEACHER_ID, &[seed::GUILD_ID], 0);
    for uri in [
        format!("/m/abc/{MEETING_ID}"),
        format!("/m/0/{MEETING_ID}"),
        format!("/m/{}/not-a-meeting", seed::GUILD_ID),
        format!("/m/{}/{MEETING_ID}%3Cscript%3E", seed::GUILD_ID),
    ] {
        let request = test::TestRequest::get().uri(&uri).insert_header(("cookie", cookie.clone()));
        let (status, content_type, body) = html_of(test::call_service(&app, request.to_request()).await).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(content_type.starts_with("text/html") && !body.contains("<script"), "{uri}: {body}");
    }
    assert!(harness.seen().is_empty());
    harness.emulator.stop().await;
}

#[actix_web::test]
async fn without_sign_in_configured_the_page_names_the_keys_to_set() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::configured(joins(), |common| common.discord.client_secret = None).await;
    let app = app!(harness);
    let (status, _, body) =
        html_of(test::call_service(&app, test::TestRequest::get().uri(&page()).to_request()).await).await;
    assert_eq!(status, 503, "{body}");
    for key in ["discord.application_id", "discord.client_secret", "discord.oauth_redirect_uri"] {
        assert!(body.contains(key), "{key}: {body}");
    }
    harness.emulator.stop().await;
}
