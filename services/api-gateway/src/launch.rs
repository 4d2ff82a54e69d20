//! `GET /m/{guild_id}/{meeting_id}`: the launch page a meeting's scheduled event links to.
//!
//! A member clicking the event's location in Discord lands here. With a valid session cookie
//! ([`SESSION_COOKIE`], set by `/oauth2/callback` after a sign-in started here) the page reads
//! the member's roles in the guild with the bot token, as the REST API does, asks the identity
//! service for the member's own join link (`identity.join`, the request of the Join button) and
//! answers 302 to it, uncached and without a referrer: the link carries the member's KS. Without
//! a session it sends the browser to `/oauth2/login?next=/m/…`. Failures are small HTML pages.

mod page;

use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use kalcord_proto::subject;
use kalcord_proto::v1::{JoinReply, JoinRequest, MeetingRole, join_reply};

use self::page::Page;
use crate::AppState;
use crate::error::{ApiError, Code};
use crate::token::Claims;

/// Cookie holding the launch page's session: an API token, sent only to [`SESSION_PATH`].
pub const SESSION_COOKIE: &str = "kalcord_session";
/// Path the session cookie is scoped to.
pub const SESSION_PATH: &str = "/m";
/// A session at least this old whose token does not list the guild signs in again (the member
/// may have joined since); a younger one is refused, so the two never loop.
const GUILDS_STALE_AFTER_SECONDS: i64 = 60;
/// What the "try again" pages ask the browser to wait.
const RETRY_AFTER_SECONDS: u32 = 5;

/// A launch page's target: a guild and one of its meetings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchPath {
    /// Guild (server) id.
    pub guild_id: u64,
    /// Meeting id.
    pub meeting_id: uuid::Uuid,
}

impl LaunchPath {
    /// The target of `/m/{guild}/{meeting}`: a snowflake and a UUID, else `None`.
    #[must_use]
    pub fn parse(guild: &str, meeting: &str) -> Option<Self> {
        let digits = (1..=20).contains(&guild.len()) && guild.bytes().all(|b| b.is_ascii_digit());
        let guild_id = guild.parse::<u64>().ok().filter(|id| digits && *id > 0)?;
        let meeting_id = uuid::Uuid::try_parse(meeting).ok()?;
        Some(Self { guild_id, meeting_id })
    }

    /// The target of a sign-in's `next`, which must be exactly a launch page path as this
    /// gateway writes it: no other host, scheme, query or spelling, so never an open redirect.
    #[must_use]
    pub fn from_next(next: &str) -> Option<Self> {
        let (guild, meeting) = next.strip_prefix("/m/")?.split_once('/')?;
        Self::parse(guild, meeting).filter(|path| path.to_string() == next)
    }

    /// Where a browser without a session signs in, to come back here.
    #[must_use]
    pub fn sign_in_url(&self) -> String {
        let query =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("next", &self.to_string()).finish();
        format!("/oauth2/login?{query}")
    }
}

impl fmt::Display for LaunchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&kalcord_discord::launch_path(self.guild_id, &self.meeting_id.to_string()))
    }
}

/// The `Set-Cookie` value of a session holding `token` for `max_age` seconds (0 clears it).
pub(crate) fn session_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    crate::cookie::set(state, SESSION_COOKIE, token, SESSION_PATH, max_age)
}

/// A member's launch URL; it carries their KS, so its `Debug` says nothing.
struct LaunchUrl(url::Url);

impl fmt::Debug for LaunchUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LaunchUrl([redacted])")
    }
}

/// Where the page sends the browser.
#[derive(Debug)]
enum Redirect {
    /// Into the meeting, with the member's own link.
    Room(LaunchUrl),
    /// To Discord sign-in, coming back to `target`; `clear` drops a refused session cookie.
    SignIn { target: LaunchPath, clear: bool },
}

impl Redirect {
    fn outcome(&self) -> &'static str {
        match self {
            Self::Room(_) => "joined",
            Self::SignIn { .. } => "sign_in",
        }
    }

    fn response(&self, state: &AppState) -> HttpResponse {
        let mut response = HttpResponse::Found();
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"));
        match self {
            Self::Room(url) => response.insert_header((header::LOCATION, url.0.as_str())),
            Self::SignIn { target, clear } => {
                if *clear {
                    response.insert_header((header::SET_COOKIE, session_cookie(state, "", 0)));
                }
                response.insert_header((header::LOCATION, target.sign_in_url()))
            }
        };
        response.finish()
    }
}

/// Why the page does not send the member on.
#[derive(Debug, thiserror::Error)]
enum LaunchError {
    /// The path is not a guild id and a meeting id.
    #[error("the launch path is not a guild id and a meeting id")]
    BadPath,
    /// Discord sign-in is not configured.
    #[error("discord sign-in is not configured")]
    SignInNotConfigured,
    /// Member lookups (the bot token) are not configured.
    #[error("member lookups are not configured")]
    LookupNotConfigured,
    /// The member is not in the guild.
    #[error("not a member of the guild")]
    NotMember,
    /// Discord, the identity service or Kaltura did not answer.
    #[error("a dependency did not answer")]
    Unavailable(#[source] ApiError),
    /// The identity service refused (no such meeting, ended, cancelled, not linked, ...).
    #[error("the identity service refused the join")]
    Refused(#[source] ApiError),
    /// The identity service answered a link that is not http(s).
    #[error("the launch url is not http(s)")]
    BadLaunchUrl,
}

impl LaunchError {
    /// The `outcome` label of `kalcord_api_launches_total`.
    fn outcome(&self) -> &'static str {
        match self {
            Self::BadPath => "bad_path",
            Self::SignInNotConfigured | Self::LookupNotConfigured => "not_configured",
            Self::NotMember => "not_member",
            Self::Unavailable(_) => "unavailable",
            Self::Refused(err) => err.code().name,
            Self::BadLaunchUrl => "bad_launch_url",
        }
    }

    /// The page telling the member; `target` is the page's own path when it parsed.
    fn page(&self, target: Option<LaunchPath>) -> HttpResponse {
        let page = |status, title, message| Page { status, title, message, link: None, retry_after: None };
        match self {
            Self::BadPath => page(
                StatusCode::BAD_REQUEST,
                "This is not a meeting link",
                "A meeting link looks like /m/<server id>/<meeting id>. Open the meeting again from Discord.",
            )
            .response(),
            Self::SignInNotConfigured => page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is not set up yet",
                "kalcord cannot sign you in with Discord: an administrator must set discord.application_id, discord.client_secret and discord.oauth_redirect_uri.",
            )
            .response(),
            Self::LookupNotConfigured => page(
                StatusCode::SERVICE_UNAVAILABLE,
                "kalcord is not fully set up yet",
                "kalcord cannot read your roles in this server: an administrator must set discord.bot_token and discord.application_id.",
            )
            .response(),
            Self::NotMember => Page {
                link: target.map(|target| (target.sign_in_url(), "Signed in with another Discord account? Sign in again")),
                ..page(
                    StatusCode::FORBIDDEN,
                    "You are not a member of this server",
                    "Only members of the Discord server that scheduled this meeting can join it.",
                )
            }
            .response(),
            Self::Unavailable(_) => Page {
                link: target.map(|target| (target.to_string(), "Try again")),
                retry_after: Some(RETRY_AFTER_SECONDS),
                ..page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Please try again in a moment",
                    "Discord, Kaltura or kalcord did not answer in time.",
                )
            }
            .response(),
            Self::Refused(err) => refused_page(err),
            Self::BadLaunchUrl => page(
                StatusCode::BAD_GATEWAY,
                "The meeting could not be opened",
                "Kaltura answered an unexpected link; try again, or ask an administrator.",
            )
            .response(),
        }
    }
}

/// The page of a refusal by the identity service, whose messages are written for members.
fn refused_page(err: &ApiError) -> HttpResponse {
    let code = err.code();
    let title = if code == Code::NOT_FOUND {
        "Meeting not found"
    } else if code == Code::CONFLICT {
        "This meeting cannot be joined"
    } else if code == Code::FORBIDDEN {
        "You may not join this meeting"
    } else if code == Code::GUILD_NOT_CONFIGURED {
        "This server is not linked to Kaltura yet"
    } else {
        "The meeting could not be opened"
    };
    let message = err.to_string();
    let message =
        if code == Code::INTERNAL { "Something went wrong on our side; try again in a moment." } else { &message };
    Page { status: code.status, title, message, link: None, retry_after: None }.response()
}

/// What the request's session cookie says.
enum Session {
    /// No cookie.
    Missing,
    /// A cookie that is not a valid token (forged, from another key, or expired).
    Refused,
    /// A valid token.
    Valid(Claims),
}

fn session(request: &HttpRequest, state: &AppState) -> Session {
    let Some(token) = crate::cookie::read(request, SESSION_COOKIE).filter(|token| !token.is_empty()) else {
        return Session::Missing;
    };
    match state.token_key.verify(token, crate::unix_seconds()) {
        Ok(claims) => Session::Valid(claims),
        Err(err) => {
            tracing::debug!(error = %err, "launch session refused");
            Session::Refused
        }
    }
}

/// To sign-in, when it is configured.
fn sign_in(state: &AppState, target: LaunchPath, clear: bool) -> Result<Redirect, LaunchError> {
    if state.oauth.is_none() {
        return Err(LaunchError::SignInNotConfigured);
    }
    Ok(Redirect::SignIn { target, clear })
}

/// A refusal that says "later" is an outage, not an answer.
fn refusal(err: ApiError) -> LaunchError {
    let code = err.code();
    if code == Code::KALTURA_UNAVAILABLE || code == Code::SERVICE_UNAVAILABLE {
        LaunchError::Unavailable(err)
    } else {
        LaunchError::Refused(err)
    }
}

async fn launch(request: &HttpRequest, state: &AppState, target: LaunchPath) -> Result<Redirect, LaunchError> {
    let claims = match session(request, state) {
        Session::Valid(claims) => claims,
        Session::Missing => return sign_in(state, target, false),
        Session::Refused => return sign_in(state, target, true),
    };
    if !claims.in_guild(target.guild_id) && crate::unix_seconds() - claims.iat >= GUILDS_STALE_AFTER_SECONDS {
        // NOTE: the token lists the guilds of its sign-in; the member may have joined since.
        return sign_in(state, target, false);
    }
    let actor = crate::meetings::actor(state, &claims, target.guild_id).await.map_err(|err| {
        let code = err.code();
        if code == Code::NOT_FOUND {
            LaunchError::NotMember
        } else if code == Code::NOT_CONFIGURED {
            LaunchError::LookupNotConfigured
        } else {
            LaunchError::Unavailable(err)
        }
    })?;
    let join = JoinRequest { actor: Some(actor), meeting_id: target.meeting_id.to_string() };
    let reply: JoinReply =
        crate::service::request_reply(state, subject::IDENTITY_JOIN, &join).await.map_err(LaunchError::Unavailable)?;
    let join = match reply.result {
        Some(join_reply::Result::Join(join)) => join,
        Some(join_reply::Result::Error(error)) => return Err(refusal(crate::service::bus_reply_error(&error))),
        None => {
            return Err(LaunchError::Refused(ApiError::new(Code::INTERNAL, "the identity service answered nothing")));
        }
    };
    let url = url::Url::parse(&join.launch_url)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"))
        .ok_or(LaunchError::BadLaunchUrl)?;
    let role = MeetingRole::try_from(join.role).unwrap_or(MeetingRole::Unspecified);
    tracing::info!(
        guild_id = target.guild_id,
        meeting_id = %target.meeting_id,
        user_id = claims.user_id(),
        role = role.as_str_name(),
        "launch page sent a member to their room"
    );
    Ok(Redirect::Room(LaunchUrl(url)))
}

/// `GET /m/{guild_id}/{meeting_id}`: 302 to the member's own launch URL, to sign-in without a
/// session, or an HTML page saying why not.
pub async fn get_launch(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let target = LaunchPath::parse(&path.0, &path.1);
    let result = match target {
        Some(target) => launch(&request, &state, target).await,
        None => Err(LaunchError::BadPath),
    };
    let outcome = result.as_ref().map_or_else(LaunchError::outcome, Redirect::outcome);
    metrics::counter!("kalcord_api_launches_total", "outcome" => outcome).increment(1);
    match result {
        Ok(redirect) => redirect.response(&state),
        Err(err) => {
            tracing::info!(outcome, error = %kalcord_runtime::chain(&err), "launch page refused");
            err.page(target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LaunchPath;

    const MEETING: &str = "0190f7a4-1c2b-7d3e-8f40-123456789abc";

    #[test]
    fn launch_paths_are_a_snowflake_and_a_uuid() {
        let path = LaunchPath::parse("42", MEETING);
        assert_eq!(path.map(|path| path.to_string()), Some(format!("/m/42/{MEETING}")));
        for (guild, meeting) in [("", MEETING), ("0", MEETING), ("-1", MEETING), ("4a", MEETING), ("42", "nope")] {
            assert_eq!(LaunchPath::parse(guild, meeting), None, "{guild} {meeting}");
        }
        assert_eq!(LaunchPath::parse(&"9".repeat(21), MEETING), None, "over u64");
    }

    #[test]
    fn next_must_be_exactly_a_launch_path() {
        let next = format!("/m/42/{MEETING}");
        assert!(LaunchPath::from_next(&next).is_some());
        for bad in [
            "//evil.example".to_owned(),
            "https://evil.example/m/42/x".to_owned(),
            "/api/v1/meetings".to_owned(),
            format!("/m/042/{MEETING}"),
            format!("/m/42/{}", MEETING.to_uppercase()),
            format!("/m/42/{MEETING}/x"),
            format!("/m/42/{MEETING}?x=1"),
            format!("//m/42/{MEETING}"),
            format!("/m/42/{}", MEETING.replace('-', "")),
            format!("https://evil.example/m/42/{MEETING}"),
        ] {
            assert_eq!(LaunchPath::from_next(&bad), None, "{bad}");
        }
        let url = LaunchPath::from_next(&next).map(|path| path.sign_in_url());
        assert_eq!(url, Some(format!("/oauth2/login?next=%2Fm%2F42%2F{MEETING}")));
    }
}
