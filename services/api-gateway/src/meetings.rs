//! `/api/v1/meetings`: the meetings REST API, each request crossing the bus to the meetings service.
//!
//! Requests carry `Authorization: Bearer <token>` from `/oauth2/callback`. The guild must be one
//! the token lists, else 404 (a guild the caller is not in looks like one that does not exist).
//! The acting member's roles and permissions are read from Discord with the bot token (cached
//! briefly), so the meetings service applies the same rules as for slash commands.

use std::collections::BTreeMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use kalcord_discord::egress::{EgressError, Method};
use kalcord_proto::subject;
use kalcord_proto::v1::{
    Actor, CreateMeetingRequest, EndMeetingRequest, GetMeetingRequest, ListMeetingsReply, ListMeetingsRequest, Meeting,
    MeetingKind, MeetingReply, MeetingStatus, UpdateMeetingRequest, meeting_reply,
};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::discord::DiscordError;
use crate::error::{ApiError, Code};
pub use crate::service::bus_reply_error;
use crate::service::request_reply;
use crate::token::{Claims, TokenError};

/// Largest JSON body accepted by the REST API.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Longest `Idempotency-Key`: the meetings service takes 200 characters, and the key travels as
/// `rest:<user id>:<key>` (up to 26 more).
const MAX_IDEMPOTENCY_KEY: usize = 160;
/// Largest page.
const MAX_LIMIT: u32 = 100;

/// Unix milliseconds as RFC 3339 (UTC, seconds precision unless the instant has milliseconds).
#[must_use]
pub fn rfc3339(unix_ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(unix_ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn instant(unix_ms: i64) -> Value {
    if unix_ms == 0 { Value::Null } else { Value::from(rfc3339(unix_ms)) }
}

fn snowflake(id: u64) -> Value {
    if id == 0 { Value::Null } else { Value::from(id.to_string()) }
}

fn text(value: &str) -> Value {
    if value.is_empty() { Value::Null } else { Value::from(value) }
}

fn kind_name(kind: i32) -> &'static str {
    match MeetingKind::try_from(kind) {
        Ok(MeetingKind::VirtualClassroom) => "virtual_classroom",
        Ok(MeetingKind::MeetingRoom) => "meeting_room",
        Ok(MeetingKind::Webinar) => "webinar",
        _ => "unspecified",
    }
}

fn status_name(status: i32) -> &'static str {
    match MeetingStatus::try_from(status) {
        Ok(MeetingStatus::Scheduled) => "scheduled",
        Ok(MeetingStatus::Live) => "live",
        Ok(MeetingStatus::Ended) => "ended",
        Ok(MeetingStatus::Cancelled) => "cancelled",
        _ => "unspecified",
    }
}

/// Meeting kinds accepted in bodies.
pub const KINDS: [&str; 3] = ["virtual_classroom", "meeting_room", "webinar"];
/// Meeting statuses accepted in `status=`.
pub const STATUSES: [&str; 4] = ["scheduled", "live", "ended", "cancelled"];

fn parse_kind(name: &str) -> Option<MeetingKind> {
    match name {
        "virtual_classroom" => Some(MeetingKind::VirtualClassroom),
        "meeting_room" => Some(MeetingKind::MeetingRoom),
        "webinar" => Some(MeetingKind::Webinar),
        _ => None,
    }
}

fn parse_status(name: &str) -> Option<MeetingStatus> {
    match name {
        "scheduled" => Some(MeetingStatus::Scheduled),
        "live" => Some(MeetingStatus::Live),
        "ended" => Some(MeetingStatus::Ended),
        "cancelled" => Some(MeetingStatus::Cancelled),
        _ => None,
    }
}

/// A meeting as the REST API shows it (snowflakes as strings, instants as RFC 3339 or null).
#[must_use]
pub fn meeting_json(meeting: &Meeting) -> Value {
    let custom_fields = serde_json::from_str::<Value>(&meeting.custom_fields_json)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    json!({
        "id": meeting.id,
        "guild_id": meeting.guild_id.to_string(),
        "kind": kind_name(meeting.kind),
        "title": meeting.title,
        "description": meeting.description,
        "status": status_name(meeting.status),
        "host_user_id": snowflake(meeting.host_user_id),
        "scheduled_start": instant(meeting.scheduled_start_unix_ms),
        "scheduled_end": instant(meeting.scheduled_end_unix_ms),
        "actual_start": instant(meeting.actual_start_unix_ms),
        "actual_end": instant(meeting.actual_end_unix_ms),
        "kaltura_resource_id": text(&meeting.kaltura_resource_id),
        "kaltura_event_id": text(&meeting.kaltura_event_id),
        "kaltura_entry_id": text(&meeting.kaltura_entry_id),
        "channel_id": snowflake(meeting.discord_channel_id),
        "message_id": snowflake(meeting.discord_message_id),
        "custom_fields": custom_fields,
        "created_at": instant(meeting.created_at_unix_ms),
        "updated_at": instant(meeting.updated_at_unix_ms),
        "version": meeting.version,
    })
}

/// The verified bearer token of a request.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Claims);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let unauthorized = |message: &str| ApiError::new(Code::UNAUTHORIZED, message);
        let Some(state) = request.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::new(Code::INTERNAL, "the gateway state is missing")));
        };
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim);
        let Some(token) = token.filter(|token| !token.is_empty()) else {
            return ready(Err(unauthorized("missing bearer token; sign in at /oauth2/login")));
        };
        ready(match state.token_key.verify(token, crate::unix_seconds()) {
            Ok(claims) => Ok(Self(claims)),
            Err(TokenError::Expired) => Err(unauthorized("the token has expired; sign in again at /oauth2/login")),
            Err(TokenError::Invalid) => Err(unauthorized("invalid bearer token")),
        })
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(Code::INVALID, message).with_field(field)
}

fn not_found() -> ApiError {
    ApiError::new(Code::NOT_FOUND, "no such meeting or guild")
}

/// A JSON object body, read field by field so every error names its field.
struct Body(Map<String, Value>);

impl Body {
    fn new(value: Value, allowed: &[&str]) -> Result<Self, ApiError> {
        let Value::Object(map) = value else {
            return Err(ApiError::new(Code::BAD_REQUEST, "the body must be a JSON object"));
        };
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(invalid(unknown, format!("unknown field `{unknown}`")));
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|value| {
                value.as_str().map(str::to_owned).ok_or_else(|| invalid(name, format!("`{name}` must be a string")))
            })
            .transpose()
    }

    fn snowflake(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name).map(|value| parse_snowflake(name, value)).transpose()
    }

    fn instant(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.string(name)?.map(|text| parse_instant(name, &text)).transpose()
    }

    fn minutes(&self, name: &str) -> Result<Option<u32>, ApiError> {
        self.get(name)
            .map(|value| {
                value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (1..=24 * 60).contains(n))
                    .ok_or_else(|| invalid(name, format!("`{name}` must be a whole number of minutes from 1 to 1440")))
            })
            .transpose()
    }

    fn object(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|value| match value {
                Value::Object(_) => Ok(value.to_string()),
                _ => Err(invalid(name, format!("`{name}` must be a JSON object"))),
            })
            .transpose()
    }

    fn version(&self, name: &str) -> Result<Option<i32>, ApiError> {
        self.get(name)
            .map(|value| {
                value
                    .as_u64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| invalid(name, format!("`{name}` must be a positive integer")))
            })
            .transpose()
    }
}

fn parse_snowflake(name: &str, value: &Value) -> Result<u64, ApiError> {
    let parsed = match value {
        Value::String(text) => text.parse::<u64>().ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    };
    parsed
        .filter(|id| *id > 0)
        .ok_or_else(|| invalid(name, format!("`{name}` must be a Discord id (a decimal string)")))
}

fn parse_instant(name: &str, text: &str) -> Result<i64, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.timestamp_millis())
        .map_err(|_| invalid(name, format!("`{name}` must be an RFC 3339 instant, e.g. 2030-01-31T18:00:00Z")))
}

/// Turns a body that is not JSON at all into a 400 (bodies over the limit into a 413).
#[must_use]
#[expect(clippy::needless_pass_by_value, reason = "the signature actix's JsonConfig::error_handler takes")]
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let error = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(Code::PAYLOAD_TOO_LARGE, format!("JSON bodies are limited to {MAX_JSON_BODY} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::new(Code::BAD_REQUEST, "the body must be JSON (Content-Type: application/json)")
        }
        JsonPayloadError::Deserialize(inner) => ApiError::new(Code::BAD_REQUEST, format!("malformed JSON: {inner}")),
        _ => ApiError::new(Code::BAD_REQUEST, "the body could not be read"),
    };
    error.into()
}

/// The acting member in `guild_id`, or 404 when the token does not list the guild.
///
/// # Errors
///
/// 404 `not_found` for a guild the token does not list or a member Discord does not know,
/// 503 `not_configured` without the bot token, 502 `discord_unavailable`.
pub(crate) async fn actor(state: &AppState, claims: &Claims, guild_id: u64) -> Result<Actor, ApiError> {
    if !claims.in_guild(guild_id) {
        return Err(not_found());
    }
    let Some(egress) = &state.egress else {
        return Err(ApiError::new(
            Code::NOT_CONFIGURED,
            "the REST API needs discord.bot_token and discord.application_id",
        ));
    };
    let user_id = claims.user_id();
    let member = crate::discord::member(egress, &state.cache, state.config.member_cache_ttl, guild_id, user_id)
        .await
        .map_err(|err| match err {
        // NOTE: no longer a member, or the bot is not in the guild: as if it did not exist.
        DiscordError::Refused { .. } => not_found(),
        DiscordError::Unavailable(detail) => {
            tracing::warn!(%detail, guild_id, "member lookup failed");
            ApiError::new(Code::DISCORD_UNAVAILABLE, "Discord did not answer the member lookup; try again")
        }
    })?;
    Ok(Actor {
        guild_id,
        user_id,
        role_ids: member.role_ids,
        permissions: member.permissions,
        display_name: member.display_name,
        username: member.username,
        channel_id: 0,
        is_owner: member.is_owner,
    })
}

/// A channel given for announcements must be one of the guild's (0: none given).
async fn check_channel(state: &AppState, guild_id: u64, channel_id: u64) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct ChannelJson {
        #[serde(default)]
        guild_id: Option<String>,
    }
    if channel_id == 0 {
        return Ok(());
    }
    let Some(egress) = &state.egress else { return Ok(()) };
    let not_here = || invalid("channel_id", "`channel_id` is not a channel of this server");
    match egress.request::<ChannelJson>(Method::Get, &format!("channels/{channel_id}"), None::<&()>).await {
        Ok(channel) if channel.guild_id.as_deref().and_then(|id| id.parse().ok()) == Some(guild_id) => Ok(()),
        Ok(_) | Err(EgressError::Discord { status: 403 | 404, .. }) => Err(not_here()),
        Err(err) => {
            tracing::warn!(error = %kalcord_runtime::chain(&err), channel_id, "channel lookup failed");
            Err(ApiError::new(Code::DISCORD_UNAVAILABLE, "Discord did not answer the channel lookup; try again"))
        }
    }
}

/// Sends a request expecting a [`MeetingReply`]; the meeting must be in `guild_id`.
async fn call<Q: prost::Message>(
    state: &AppState,
    subject: &str,
    request: &Q,
    guild_id: u64,
) -> Result<(Meeting, bool), ApiError> {
    let reply: MeetingReply = request_reply(state, subject, request).await?;
    match reply.result {
        Some(meeting_reply::Result::Meeting(meeting)) if meeting.guild_id == guild_id => Ok((meeting, reply.replayed)),
        Some(meeting_reply::Result::Meeting(_)) => Err(not_found()),
        Some(meeting_reply::Result::Error(error)) => Err(bus_reply_error(&error)),
        None => Err(ApiError::new(Code::INTERNAL, "the meetings service answered nothing")),
    }
}

fn meeting_response(mut response: actix_web::HttpResponseBuilder, meeting: &Meeting) -> HttpResponse {
    response.insert_header((header::ETAG, format!("\"{}\"", meeting.version))).json(meeting_json(meeting))
}

fn query_guild(query: &BTreeMap<String, String>) -> Result<u64, ApiError> {
    let value = query.get("guild_id").ok_or_else(|| invalid("guild_id", "`guild_id` is required"))?;
    parse_snowflake("guild_id", &Value::from(value.as_str()))
}

fn meeting_id(path: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(path).map(|id| id.to_string()).map_err(|_| not_found())
}

/// `POST /api/v1/meetings`.
///
/// # Errors
///
/// See the error table in `docs/api.md`.
pub async fn create(
    request: HttpRequest,
    auth: Authenticated,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    const FIELDS: [&str; 8] = [
        "guild_id",
        "kind",
        "title",
        "description",
        "scheduled_start",
        "duration_minutes",
        "channel_id",
        "custom_fields",
    ];
    let body = Body::new(body.into_inner(), &FIELDS)?;
    let guild_id = body.snowflake("guild_id")?.ok_or_else(|| invalid("guild_id", "`guild_id` is required"))?;
    let kind = body.string("kind")?.ok_or_else(|| invalid("kind", "`kind` is required"))?;
    let kind =
        parse_kind(&kind).ok_or_else(|| invalid("kind", format!("`kind` must be one of {}", KINDS.join(", "))))?;
    let title = body.string("title")?.ok_or_else(|| invalid("title", "`title` is required"))?;
    let key = match request.headers().get("idempotency-key") {
        Some(value) => value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|key| !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY)
            .map(str::to_owned)
            .ok_or_else(|| {
                invalid(
                    "Idempotency-Key",
                    format!("`Idempotency-Key` must be 1 to {MAX_IDEMPOTENCY_KEY} visible characters"),
                )
            })?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let create = CreateMeetingRequest {
        actor: None,
        kind: kind.into(),
        title,
        description: body.string("description")?.unwrap_or_default(),
        scheduled_start_unix_ms: body.instant("scheduled_start")?.unwrap_or(0),
        duration_minutes: body.minutes("duration_minutes")?.unwrap_or(0),
        channel_id: body.snowflake("channel_id")?.unwrap_or(0),
        idempotency_key: format!("rest:{}:{key}", auth.0.sub),
        custom_fields_json: body.object("custom_fields")?.unwrap_or_default(),
    };
    let create = CreateMeetingRequest { actor: Some(actor(&state, &auth.0, guild_id).await?), ..create };
    check_channel(&state, guild_id, create.channel_id).await?;
    let (meeting, replayed) = call(&state, subject::MEETINGS_CREATE, &create, guild_id).await?;
    let mut response = if replayed { HttpResponse::Ok() } else { HttpResponse::Created() };
    response
        .insert_header((header::LOCATION, format!("/api/v1/meetings/{}?guild_id={guild_id}", meeting.id)))
        .insert_header(("Idempotency-Key", key));
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(meeting_response(response, &meeting))
}

/// `GET /api/v1/meetings?guild_id&status&from&to&limit&cursor`.
///
/// # Errors
///
/// See the error table in `docs/api.md`.
pub async fn list(
    auth: Authenticated,
    query: web::Query<BTreeMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let guild_id = query_guild(&query)?;
    let statuses = query
        .get("status")
        .map(|list| {
            list.split(',')
                .map(|name| {
                    parse_status(name.trim()).map(i32::from).ok_or_else(|| {
                        invalid("status", format!("`status` must be a comma-separated list of {}", STATUSES.join(", ")))
                    })
                })
                .collect::<Result<Vec<i32>, ApiError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let instant = |name: &str| query.get(name).map(|text| parse_instant(name, text)).transpose();
    let limit = query
        .get("limit")
        .map(|text| {
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| invalid("limit", format!("`limit` must be from 1 to {MAX_LIMIT}")))
        })
        .transpose()?
        .unwrap_or(0);
    let channel_id =
        query.get("channel_id").map(|id| parse_snowflake("channel_id", &Value::from(id.as_str()))).transpose()?;
    let mut request = ListMeetingsRequest {
        actor: None,
        statuses,
        from_unix_ms: instant("from")?.unwrap_or(0),
        to_unix_ms: instant("to")?.unwrap_or(0),
        limit,
        cursor: query.get("cursor").cloned().unwrap_or_default(),
        title_contains: query.get("title").cloned().unwrap_or_default(),
        channel_id: channel_id.unwrap_or(0),
    };
    request.actor = Some(actor(&state, &auth.0, guild_id).await?);
    let reply: ListMeetingsReply = request_reply(&state, subject::MEETINGS_LIST, &request).await?;
    if let Some(error) = reply.error.filter(|error| !error.code.is_empty()) {
        return Err(bus_reply_error(&error));
    }
    let meetings: Vec<Value> = reply.meetings.iter().filter(|m| m.guild_id == guild_id).map(meeting_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "meetings": meetings, "next_cursor": text(&reply.next_cursor) })))
}

/// `GET /api/v1/meetings/{id}?guild_id`.
///
/// # Errors
///
/// See the error table in `docs/api.md`.
pub async fn get(
    auth: Authenticated,
    path: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let guild_id = query_guild(&query)?;
    let meeting_id = meeting_id(&path)?;
    let request = GetMeetingRequest { actor: Some(actor(&state, &auth.0, guild_id).await?), meeting_id };
    let (meeting, _) = call(&state, subject::MEETINGS_GET, &request, guild_id).await?;
    Ok(meeting_response(HttpResponse::Ok(), &meeting))
}

/// `PATCH /api/v1/meetings/{id}?guild_id`: changes the fields present; `If-Match` (or `version`)
/// refuses with 409 when the meeting changed meanwhile.
///
/// # Errors
///
/// See the error table in `docs/api.md`.
pub async fn update(
    request: HttpRequest,
    auth: Authenticated,
    path: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
    body: web::Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    const FIELDS: [&str; 6] =
        ["title", "description", "scheduled_start", "duration_minutes", "custom_fields", "version"];
    let guild_id = query_guild(&query)?;
    let meeting_id = meeting_id(&path)?;
    let body = Body::new(body.into_inner(), &FIELDS)?;
    let if_match = request
        .headers()
        .get(header::IF_MATCH)
        .map(|value| {
            value
                .to_str()
                .ok()
                .map(|text| text.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|text| text.parse::<i32>().ok())
                .filter(|version| *version > 0)
                .ok_or_else(|| invalid("If-Match", "`If-Match` must be the ETag of the meeting, e.g. \"3\""))
        })
        .transpose()?;
    let update = UpdateMeetingRequest {
        actor: None,
        meeting_id,
        title: body.string("title")?,
        description: body.string("description")?,
        scheduled_start_unix_ms: body.instant("scheduled_start")?,
        duration_minutes: body.minutes("duration_minutes")?,
        custom_fields_json: body.object("custom_fields")?,
        expected_version: if_match.or(body.version("version")?).unwrap_or(0),
    };
    let update = UpdateMeetingRequest { actor: Some(actor(&state, &auth.0, guild_id).await?), ..update };
    let (meeting, _) = call(&state, subject::MEETINGS_UPDATE, &update, guild_id).await?;
    Ok(meeting_response(HttpResponse::Ok(), &meeting))
}

/// `DELETE /api/v1/meetings/{id}?guild_id`: cancels a scheduled meeting.
///
/// # Errors
///
/// See the error table in `docs/api.md`.
pub async fn cancel(
    auth: Authenticated,
    path: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let guild_id = query_guild(&query)?;
    let meeting_id = meeting_id(&path)?;
    let request = EndMeetingRequest { actor: Some(actor(&state, &auth.0, guild_id).await?), meeting_id };
    let (meeting, _) = call(&state, subject::MEETINGS_CANCEL, &request, guild_id).await?;
    Ok(meeting_response(HttpResponse::Ok(), &meeting))
}
