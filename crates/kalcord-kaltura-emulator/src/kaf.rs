//! The fake KAF host: `GET /virtualEvent/launch?ks=…` (§3.1 step 4-5).
//!
//! The USER KS must carry `eventId` or `resourceId` of an active room of its partner; `role`
//! (`adminRole`/`viewerRole`, default viewer) and `userContextualRole` (default 3) pick the
//! in-room role. Answers a small HTML page with `<meta name="kaltura-…">` tags to assert on.

use actix_web::{HttpRequest, HttpResponse, web};
use kalcord_kaltura::ks::{self, KsError, SessionType};

use crate::api::auth::{KsFailure, check_ks};
use crate::api::form::parse_urlencoded;
use crate::api::params::{Param, php_int};
use crate::api::services::{event, resource};
use crate::model::{KafLaunch, RoomRole};
use crate::state::{Inner, PartnerData, push_capped};

/// Why a launch is refused.
struct Refusal {
    status: u16,
    code: &'static str,
    message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status, code, message: message.into() }
}

/// The room a launch resolves to.
struct Room {
    kind: &'static str,
    id: i64,
    name: String,
    resource_id: Option<i64>,
}

/// `GET /virtualEvent/launch`.
pub(crate) async fn launch(req: HttpRequest, inner: web::Data<Inner>) -> HttpResponse {
    let query = parse_urlencoded(req.query_string().as_bytes());
    let ks = query.get("ks").and_then(Param::as_str).map(str::trim).filter(|ks| !ks.is_empty());
    let mut record = KafLaunch {
        seq: 0,
        at: inner.now(),
        status: 200,
        error: None,
        partner_id: None,
        user_id: None,
        display_name: None,
        kaltura_role: None,
        user_contextual_role: None,
        role: None,
        event_id: None,
        resource_id: None,
        room_name: None,
    };
    let outcome = resolve(&inner, ks, &mut record);
    let response = match outcome {
        Ok(page) => HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page),
        Err(refusal) => {
            record.status = refusal.status;
            record.error = Some(refusal.code.to_owned());
            let status = actix_web::http::StatusCode::from_u16(refusal.status)
                .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
            HttpResponse::build(status).content_type("text/html; charset=utf-8").body(error_page(&refusal))
        }
    };
    let mut launches = inner.launches.lock();
    record.seq = launches.last().map_or(1, |last| last.seq + 1);
    push_capped(&mut launches, record);
    response
}

fn resolve(inner: &Inner, ks: Option<&str>, record: &mut KafLaunch) -> Result<String, Refusal> {
    let ks = ks.ok_or_else(|| refuse(400, "missing-ks", "The launch URL has no ks parameter."))?;
    record.partner_id = ks::peek_partner(ks).ok();
    let now = inner.now();
    let world = inner.world.lock();
    let parsed = check_ks(&world, ks, now).map_err(ks_refusal)?;
    record.user_id = Some(parsed.user_id.clone());
    if parsed.session_type != SessionType::User {
        return Err(refuse(403, "not-user-session", "Rooms are entered with a USER session (type 0)."));
    }
    let privileges = &parsed.privileges;
    let names: Vec<&str> = ["firstName", "lastName"].iter().filter_map(|name| privileges.get(name)).collect();
    let display = names.join(" ").trim().to_owned();
    record.display_name = Some(if display.is_empty() { parsed.user_id.clone() } else { display });
    record.kaltura_role = privileges.get("role").map(str::to_owned);
    let contextual = privileges.get("userContextualRole").map_or(3, php_int);
    record.user_contextual_role = Some(contextual);
    record.event_id = privileges.get("eventId").map(php_int);
    record.resource_id = privileges.get("resourceId").map(php_int);
    let role = match privileges.get("role").unwrap_or("viewerRole") {
        "adminRole" if contextual == 0 => RoomRole::Host,
        "adminRole" => RoomRole::Moderator,
        "viewerRole" => RoomRole::Attendee,
        other => {
            return Err(refuse(400, "invalid-role", format!("Unknown role \"{other}\" (adminRole or viewerRole).")));
        }
    };
    record.role = Some(role);
    let partner =
        world.partners.get(&parsed.partner_id).ok_or_else(|| refuse(403, "invalid-ks", "Unknown partner."))?;
    let room = find_room(partner, record.event_id, record.resource_id)?;
    drop(world);
    record.resource_id = room.resource_id;
    record.room_name = Some(room.name.clone());
    let waiting = role == RoomRole::Attendee && room.kind == "resource" && !moderator_present(inner, record, &room);
    Ok(page(record, &room, role, waiting))
}

fn ks_refusal(failure: KsFailure) -> Refusal {
    match failure {
        KsFailure::Status(KsError::Expired) => refuse(403, "ks-expired", "The session has expired."),
        KsFailure::Status(KsError::Logout) => refuse(403, "ks-revoked", "The session was ended."),
        _ => refuse(403, "invalid-ks", "The session is not valid."),
    }
}

/// The event (named after its first active linked room, else its summary) or the room.
fn find_room(partner: &PartnerData, event_id: Option<i64>, resource_id: Option<i64>) -> Result<Room, Refusal> {
    let active_resource =
        |id: i64| partner.resources.get(&id).filter(|room| room.int("status") == Some(resource::ACTIVE));
    if let Some(event_id) = event_id {
        let event = partner
            .events
            .get(&event_id)
            .filter(|found| matches!(found.int("status"), Some(event::ACTIVE | event::CANCELLED)))
            .ok_or_else(|| refuse(400, "room-not-found", format!("There is no event {event_id}.")))?;
        if event.int("status") == Some(event::CANCELLED) {
            return Err(refuse(400, "event-cancelled", format!("Event {event_id} was cancelled.")));
        }
        let linked = partner
            .links
            .iter()
            .filter(|link| link.int("eventId") == Some(event_id))
            .find_map(|link| active_resource(link.int("resourceId")?));
        if let Some(room) = linked {
            meeting_room(room.str("tags"))?;
        }
        let name = linked.and_then(|room| room.str("name")).or_else(|| event.str("summary")).unwrap_or_default();
        return Ok(Room {
            kind: "event",
            id: event_id,
            name: name.to_owned(),
            resource_id: linked.and_then(|room| room.int("id")),
        });
    }
    let resource_id = resource_id
        .ok_or_else(|| refuse(400, "missing-room-privilege", "The ks has neither eventId nor resourceId."))?;
    let room = active_resource(resource_id)
        .ok_or_else(|| refuse(400, "room-not-found", format!("There is no room {resource_id}.")))?;
    meeting_room(room.str("tags"))?;
    Ok(Room {
        kind: "resource",
        id: resource_id,
        name: room.str("name").unwrap_or_default().to_owned(),
        resource_id: Some(resource_id),
    })
}

/// Legacy rooms are KME rooms only with the `vcprovider:newrow` tag.
fn meeting_room(tags: Option<&str>) -> Result<(), Refusal> {
    if tags.unwrap_or_default().split(',').any(|tag| tag.trim() == "vcprovider:newrow") {
        Ok(())
    } else {
        Err(refuse(400, "not-a-meeting-room", "The resource is not a meeting room (its tags lack vcprovider:newrow)."))
    }
}

/// Whether a host or moderator entered this room before (attendees wait for one, §3.1).
fn moderator_present(inner: &Inner, record: &KafLaunch, room: &Room) -> bool {
    inner.launches.lock().iter().any(|launch| {
        launch.status == 200
            && launch.partner_id == record.partner_id
            && launch.resource_id == Some(room.id)
            && matches!(launch.role, Some(RoomRole::Host | RoomRole::Moderator))
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(record: &KafLaunch, room: &Room, role: RoomRole, waiting: bool) -> String {
    let name = escape(&room.name);
    let user = escape(record.user_id.as_deref().unwrap_or_default());
    let display = escape(record.display_name.as_deref().unwrap_or_default());
    let partner = record.partner_id.unwrap_or_default();
    let role = role.as_str();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\" data-role=\"{role}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Kaltura Room: {name}</title>\n\
         <meta name=\"kaltura-partner-id\" content=\"{partner}\">\n\
         <meta name=\"kaltura-room-kind\" content=\"{kind}\">\n\
         <meta name=\"kaltura-room-id\" content=\"{id}\">\n\
         <meta name=\"kaltura-room-name\" content=\"{name}\">\n\
         <meta name=\"kaltura-user-id\" content=\"{user}\">\n\
         <meta name=\"kaltura-display-name\" content=\"{display}\">\n\
         <meta name=\"kaltura-role\" content=\"{role}\">\n\
         <meta name=\"kaltura-waiting\" content=\"{waiting}\">\n\
         </head>\n<body data-role=\"{role}\">\n<h1>{name}</h1>\n<p>{display} joined as {role}.</p>\n</body>\n</html>\n",
        kind = room.kind,
        id = room.id,
    )
}

fn error_page(refusal: &Refusal) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Kaltura launch error</title>\n\
         <meta name=\"kaltura-error\" content=\"{code}\">\n</head>\n<body>\n<h1>Cannot open the room</h1>\n<p>{message}</p>\n</body>\n</html>\n",
        code = refusal.code,
        message = escape(&refusal.message),
    )
}
