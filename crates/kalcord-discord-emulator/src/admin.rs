//! The admin API under `/_emulator/` (JSON): world scripting (guild removal and outages, member batches,
//! dispatch bursts), interactions, probes, faults, records, clock, gateway actions and IDENTIFY records. Each route calls the same [`EmulatorState`] method a Rust test would.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::{ChannelSeed, GuildSeed, MemberSeed, RoleSeed, UserSeed};
use crate::error::EmulatorError;
use crate::faults::Fault;
use crate::gateway::GatewayAction;
use crate::interaction::InteractionSpec;
use crate::sender::ProbeKind;
use crate::state::{EmulatorState, Inner};

type Data = web::Data<Inner>;

// NOTE: the helpers' error is the admin answer itself; boxing it buys nothing on this path.
#[allow(clippy::result_large_err)]
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpResponse> {
    serde_json::from_slice(bytes).map_err(|error| fail(400, &format!("invalid JSON body: {error}")))
}

#[allow(clippy::result_large_err)]
fn ids(path: &[String]) -> Result<Vec<u64>, HttpResponse> {
    path.iter()
        .map(|text| crate::ids::parse_id(text).ok_or_else(|| fail(400, &format!("{text:?} is not a snowflake"))))
        .collect()
}

fn state(data: &Data) -> EmulatorState {
    EmulatorState { inner: data.clone().into_inner() }
}

fn ok(value: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

fn fail(status: u16, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({"error": message}))
}

fn refused(error: &EmulatorError) -> HttpResponse {
    let status = match error {
        EmulatorError::NoInteractionsUrl => 409,
        EmulatorError::Interaction(_) => 404,
        _ => 400,
    };
    fail(status, &error.to_string())
}

fn done(result: Result<(), EmulatorError>) -> HttpResponse {
    match result {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => refused(&error),
    }
}

macro_rules! try_or {
    ($expr:expr) => {
        match $expr {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

async fn info(data: Data) -> HttpResponse {
    let state = state(&data);
    ok(json!({"api_base": state.api_base(), "gateway_url": state.gateway_url(), "application": state.application()}))
}

async fn world(data: Data) -> HttpResponse {
    ok(state(&data).snapshot())
}

async fn add_user(data: Data, body: web::Bytes) -> HttpResponse {
    let user: UserSeed = try_or!(parse(&body));
    state(&data).add_user(&user);
    HttpResponse::NoContent().finish()
}

async fn add_guild(data: Data, body: web::Bytes) -> HttpResponse {
    let guild: GuildSeed = try_or!(parse(&body));
    done(state(&data).add_guild(&guild))
}

async fn add_channel(data: Data, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let [guild] = try_or!(ids(&[path.into_inner()]))[..] else { return fail(400, "bad path") };
    let channel: ChannelSeed = try_or!(parse(&body));
    done(state(&data).add_channel(guild, &channel))
}

async fn add_role(data: Data, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let [guild] = try_or!(ids(&[path.into_inner()]))[..] else { return fail(400, "bad path") };
    let role: RoleSeed = try_or!(parse(&body));
    done(state(&data).add_role(guild, &role))
}

#[allow(clippy::result_large_err)] // NOTE: as `parse`: the error is the admin answer itself.
fn guild_id(path: web::Path<String>) -> Result<u64, HttpResponse> {
    let text = path.into_inner();
    crate::ids::parse_id(&text).ok_or_else(|| fail(400, &format!("{text:?} is not a snowflake")))
}

async fn remove_guild(data: Data, path: web::Path<String>) -> HttpResponse {
    let guild = try_or!(guild_id(path));
    done(state(&data).remove_guild(guild))
}

async fn guild_outage(data: Data, path: web::Path<String>) -> HttpResponse {
    let guild = try_or!(guild_id(path));
    done(state(&data).guild_outage(guild))
}

async fn end_guild_outage(data: Data, path: web::Path<String>) -> HttpResponse {
    let guild = try_or!(guild_id(path));
    done(state(&data).end_guild_outage(guild))
}

/// One member or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Members {
    One(MemberSeed),
    Many(Vec<MemberSeed>),
}

async fn add_member(data: Data, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let guild = try_or!(guild_id(path));
    match try_or!(parse(&body)) {
        Members::One(member) => done(state(&data).add_member(guild, &member)),
        Members::Many(members) => done(state(&data).add_members(guild, &members)),
    }
}

#[derive(Deserialize)]
struct BurstRequest {
    count: usize,
}

async fn burst(data: Data, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let guild = try_or!(guild_id(path));
    let request: BurstRequest = try_or!(parse(&body));
    done(state(&data).emit_member_updates(guild, request.count))
}

async fn remove_member(data: Data, path: web::Path<(String, String)>) -> HttpResponse {
    let (guild, user) = path.into_inner();
    let [guild, user] = try_or!(ids(&[guild, user]))[..] else { return fail(400, "bad path") };
    done(state(&data).remove_member(guild, user))
}

async fn member_role(
    data: Data,
    request: actix_web::HttpRequest,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (guild, user, role) = path.into_inner();
    let [guild, user, role] = try_or!(ids(&[guild, user, role]))[..] else { return fail(400, "bad path") };
    let state = state(&data);
    if request.method() == actix_web::http::Method::PUT {
        done(state.add_member_role(guild, user, role))
    } else {
        done(state.remove_member_role(guild, user, role))
    }
}

async fn permissions(data: Data, path: web::Path<(String, String)>) -> HttpResponse {
    let (guild, user) = path.into_inner();
    let [guild, user] = try_or!(ids(&[guild, user]))[..] else { return fail(400, "bad path") };
    match state(&data).member_permissions(guild, user) {
        Some(bits) => ok(json!({"permissions": bits.to_string()})),
        None => fail(404, "unknown guild or member"),
    }
}

async fn interact(data: Data, body: web::Bytes) -> HttpResponse {
    let spec: InteractionSpec = try_or!(parse(&body));
    match state(&data).send_interaction(&spec).await {
        Ok(outcome) => ok(outcome),
        Err(error) => refused(&error),
    }
}

#[derive(Deserialize)]
struct ProbeRequest {
    kind: Option<ProbeKind>,
}

async fn probes(data: Data, body: web::Bytes) -> HttpResponse {
    let request: ProbeRequest = if body.is_empty() { ProbeRequest { kind: None } } else { try_or!(parse(&body)) };
    let state = state(&data);
    let result = match request.kind {
        Some(kind) => state.probe(kind).await.map(|outcome| vec![outcome]),
        None => state.probe_all().await,
    };
    match result {
        Ok(outcomes) => ok(outcomes),
        Err(error) => refused(&error),
    }
}

#[derive(Deserialize)]
struct UrlRequest {
    url: Option<String>,
}

async fn interactions_url(data: Data, body: web::Bytes) -> HttpResponse {
    let request: UrlRequest = try_or!(parse(&body));
    let url = match request.url.as_deref().map(url::Url::parse) {
        None => None,
        Some(Ok(url)) => Some(url),
        Some(Err(error)) => return fail(400, &format!("invalid url: {error}")),
    };
    state(&data).set_interactions_url(url);
    HttpResponse::NoContent().finish()
}

async fn add_fault(data: Data, body: web::Bytes) -> HttpResponse {
    let fault: Fault = try_or!(parse(&body));
    state(&data).add_fault(fault);
    HttpResponse::NoContent().finish()
}

async fn clear_faults(data: Data) -> HttpResponse {
    state(&data).clear_faults();
    HttpResponse::NoContent().finish()
}

async fn requests(data: Data) -> HttpResponse {
    ok(state(&data).requests())
}

async fn clear_requests(data: Data) -> HttpResponse {
    state(&data).clear_requests();
    HttpResponse::NoContent().finish()
}

async fn violations(data: Data) -> HttpResponse {
    ok(state(&data).schema_violations())
}

async fn messages(data: Data) -> HttpResponse {
    ok(state(&data).messages())
}

async fn commands(data: Data) -> HttpResponse {
    ok(state(&data).commands())
}

async fn events(data: Data, path: web::Path<String>) -> HttpResponse {
    let [guild] = try_or!(ids(&[path.into_inner()]))[..] else { return fail(400, "bad path") };
    ok(state(&data).scheduled_events(guild))
}

#[derive(Deserialize)]
struct OAuthRequest {
    #[serde(with = "crate::ids::string")]
    user_id: u64,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
}

async fn oauth_code(data: Data, body: web::Bytes) -> HttpResponse {
    let request: OAuthRequest = try_or!(parse(&body));
    let scopes: Vec<&str> = request.scopes.iter().map(String::as_str).collect();
    ok(json!({"code": state(&data).authorization_code(request.user_id, &scopes, request.redirect_uri.as_deref())}))
}

async fn oauth_token(data: Data, body: web::Bytes) -> HttpResponse {
    let request: OAuthRequest = try_or!(parse(&body));
    let scopes: Vec<&str> = request.scopes.iter().map(String::as_str).collect();
    ok(state(&data).oauth_tokens(request.user_id, &scopes))
}

async fn oauth_user(data: Data, body: web::Bytes) -> HttpResponse {
    let request: OAuthRequest = try_or!(parse(&body));
    state(&data).set_oauth_user(request.user_id);
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct ClockRequest {
    seconds: f64,
}

async fn advance_clock(data: Data, body: web::Bytes) -> HttpResponse {
    let request: ClockRequest = try_or!(parse(&body));
    let Ok(by) = Duration::try_from_secs_f64(request.seconds) else { return fail(400, "seconds must be >= 0") };
    state(&data).advance_clock(by);
    HttpResponse::NoContent().finish()
}

async fn sessions(data: Data) -> HttpResponse {
    ok(state(&data).gateway_sessions())
}

#[derive(Deserialize)]
struct ActionRequest {
    #[serde(default)]
    session_id: Option<String>,
    #[serde(flatten)]
    action: GatewayAction,
}

async fn identifies(data: Data) -> HttpResponse {
    ok(state(&data).identifies())
}

async fn gateway_action(data: Data, body: web::Bytes) -> HttpResponse {
    let request: ActionRequest = try_or!(parse(&body));
    ok(json!({"reached": state(&data).gateway_action(request.session_id.as_deref(), &request.action)}))
}

#[derive(Deserialize)]
struct InstanceRequest {
    instance_id: String,
    #[serde(with = "crate::ids::string")]
    channel_id: u64,
    #[serde(default, with = "crate::ids::option_string")]
    guild_id: Option<u64>,
    #[serde(default, with = "crate::ids::vec_string")]
    users: Vec<u64>,
}

async fn add_instance(data: Data, body: web::Bytes) -> HttpResponse {
    let request: InstanceRequest = try_or!(parse(&body));
    state(&data).add_activity_instance(&request.instance_id, request.channel_id, request.guild_id, &request.users);
    HttpResponse::NoContent().finish()
}

async fn reset_limits(data: Data) -> HttpResponse {
    state(&data).reset_rate_limits();
    HttpResponse::NoContent().finish()
}

async fn not_found() -> HttpResponse {
    fail(404, "no such admin route")
}

/// Mounts `/_emulator/...`.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/_emulator")
            .route("/info", web::get().to(info))
            .route("/world", web::get().to(world))
            .route("/users", web::post().to(add_user))
            .route("/guilds", web::post().to(add_guild))
            .route("/guilds/{guild}", web::delete().to(remove_guild))
            .route("/guilds/{guild}/outage", web::post().to(guild_outage))
            .route("/guilds/{guild}/outage", web::delete().to(end_guild_outage))
            .route("/guilds/{guild}/burst", web::post().to(burst))
            .route("/guilds/{guild}/channels", web::post().to(add_channel))
            .route("/guilds/{guild}/roles", web::post().to(add_role))
            .route("/guilds/{guild}/members", web::post().to(add_member))
            .route("/guilds/{guild}/members/{user}", web::delete().to(remove_member))
            .route("/guilds/{guild}/members/{user}/permissions", web::get().to(permissions))
            .route("/guilds/{guild}/members/{user}/roles/{role}", web::put().to(member_role))
            .route("/guilds/{guild}/members/{user}/roles/{role}", web::delete().to(member_role))
            .route("/guilds/{guild}/scheduled-events", web::get().to(events))
            .route("/interactions", web::post().to(interact))
            .route("/interactions-url", web::put().to(interactions_url))
            .route("/probes", web::post().to(probes))
            .route("/faults", web::post().to(add_fault))
            .route("/faults", web::delete().to(clear_faults))
            .route("/requests", web::get().to(requests))
            .route("/requests", web::delete().to(clear_requests))
            .route("/schema-violations", web::get().to(violations))
            .route("/messages", web::get().to(messages))
            .route("/commands", web::get().to(commands))
            .route("/oauth/code", web::post().to(oauth_code))
            .route("/oauth/token", web::post().to(oauth_token))
            .route("/oauth/user", web::put().to(oauth_user))
            .route("/clock/advance", web::post().to(advance_clock))
            .route("/gateway/sessions", web::get().to(sessions))
            .route("/gateway/identifies", web::get().to(identifies))
            .route("/gateway/actions", web::post().to(gateway_action))
            .route("/activity-instances", web::post().to(add_instance))
            .route("/rate-limits/reset", web::post().to(reset_limits))
            .default_service(web::to(not_found)),
    );
}
