//! The Discord scheduled event mirroring a scheduled meeting: its body and the status steps that
//! take it where the meeting is (discord-api.md §4.3: `EXTERNAL` events need a location of 1 to 100
//! characters and an end time; statuses move SCHEDULED → ACTIVE → COMPLETED or SCHEDULED → CANCELED).

use chrono::{DateTime, SecondsFormat, Utc};
use kalcord_proto::v1::{Meeting, MeetingStatus};
use serde_json::{Value, json};

/// `GUILD_ONLY`, the only privacy level Discord accepts.
const GUILD_ONLY: u8 = 2;
/// `EXTERNAL`: held somewhere else, at `entity_metadata.location`.
const EXTERNAL: u8 = 3;
/// Longest event name.
const NAME_CHARS: usize = 100;
/// Longest event description.
const DESCRIPTION_CHARS: usize = 1000;
/// Longest location.
const LOCATION_CHARS: usize = kalcord_discord::LOCATION_MAX_CHARS;
/// Length of a meeting without a planned end.
const DEFAULT_LENGTH_MS: i64 = 60 * 60 * 1000;

/// Discord's scheduled event statuses.
pub(crate) mod status {
    /// Not started yet.
    pub(crate) const SCHEDULED: i16 = 1;
    /// Going on.
    pub(crate) const ACTIVE: i16 = 2;
    /// Over.
    pub(crate) const COMPLETED: i16 = 3;
    /// Called off.
    pub(crate) const CANCELED: i16 = 4;
}

/// The Discord status mirroring the meeting's.
pub(crate) fn target_status(meeting: &Meeting) -> Option<i16> {
    match MeetingStatus::try_from(meeting.status).ok()? {
        MeetingStatus::Scheduled => Some(status::SCHEDULED),
        MeetingStatus::Live => Some(status::ACTIVE),
        MeetingStatus::Ended => Some(status::COMPLETED),
        MeetingStatus::Cancelled => Some(status::CANCELED),
        MeetingStatus::Unspecified => None,
    }
}

/// The status changes that take an event from `current` to `target`, one allowed step at a
/// time (an event that missed its start goes ACTIVE before COMPLETED); none when it is there
/// or cannot get there (over already, or started and then cancelled).
pub(crate) fn steps(current: i16, target: i16) -> Vec<i16> {
    use status::{ACTIVE, CANCELED, COMPLETED, SCHEDULED};
    match (current, target) {
        (SCHEDULED, ACTIVE | CANCELED) | (ACTIVE, COMPLETED) => vec![target],
        (SCHEDULED, COMPLETED) => vec![ACTIVE, COMPLETED],
        _ => Vec::new(),
    }
}

/// Where members go: the launch page (personal link after Discord sign-in) when kalcord knows
/// its public address, else where to find the meeting in Discord. Both name the meeting, which
/// is how an event created before a crash is found again.
pub(crate) fn location(launch_url: Option<String>, meeting: &Meeting) -> String {
    // NOTE: a link is never cut (it would lead nowhere, and two cut links could look alike).
    launch_url.filter(|url| url.chars().count() <= LOCATION_CHARS).unwrap_or_else(|| {
        truncate(&format!("In Discord: Join button or /meeting join (meeting {})", meeting.id), LOCATION_CHARS)
    })
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn instant(unix_ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(unix_ms).map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The planned end, after the start (an hour after it when none is planned).
fn end_ms(meeting: &Meeting) -> i64 {
    let start = meeting.scheduled_start_unix_ms;
    if meeting.scheduled_end_unix_ms > start { meeting.scheduled_end_unix_ms } else { start + DEFAULT_LENGTH_MS }
}

fn description(meeting: &Meeting) -> String {
    let how = "Open the event's link to get your own way in (Discord sign-in), or press Join on the announcement.";
    let text = meeting.description.trim();
    let text = if text.is_empty() { how.to_owned() } else { format!("{text}\n\n{how}") };
    truncate(&text, DESCRIPTION_CHARS)
}

fn name(meeting: &Meeting) -> String {
    let title = meeting.title.trim();
    truncate(if title.is_empty() { "Meeting" } else { title }, NAME_CHARS)
}

/// The fields a scheduled meeting's event shows (name, description, times, location).
pub(crate) fn fields(meeting: &Meeting, location: &str) -> Value {
    json!({
        "name": name(meeting),
        "description": description(meeting),
        "scheduled_start_time": instant(meeting.scheduled_start_unix_ms),
        "scheduled_end_time": instant(end_ms(meeting)),
        "entity_metadata": {"location": location},
    })
}

/// The body creating the event of a scheduled meeting.
pub(crate) fn create_body(meeting: &Meeting, location: &str) -> Value {
    let mut body = fields(meeting, location);
    if let Value::Object(map) = &mut body {
        map.insert("privacy_level".to_owned(), json!(GUILD_ONLY));
        map.insert("entity_type".to_owned(), json!(EXTERNAL));
    }
    body
}

/// The event id and status of the event among `events` (a guild's list) at `location`.
pub(crate) fn find(events: &Value, location: &str) -> Option<(i64, i16)> {
    events.as_array()?.iter().find_map(|event| {
        if event["entity_metadata"]["location"].as_str()? != location {
            return None;
        }
        let id = event["id"].as_str()?.parse().ok()?;
        let status = i16::try_from(event["status"].as_i64()?).ok()?;
        Some((id, status))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting() -> Meeting {
        Meeting {
            id: "0190f7a4-1c2b-7d3e-8f40-123456789abc".to_owned(),
            title: "Weekly sync".to_owned(),
            status: MeetingStatus::Scheduled.into(),
            scheduled_start_unix_ms: 1_800_000_000_000,
            ..Meeting::default()
        }
    }

    #[test]
    fn a_meeting_becomes_an_external_event_with_a_location_and_an_end() {
        let _trace = kalcord_test_util::trace_init();
        let body = create_body(&meeting(), "https://kalcord.example.com/m/1/x");
        assert_eq!((body["entity_type"].as_u64(), body["privacy_level"].as_u64()), (Some(3), Some(2)));
        assert_eq!(body["scheduled_start_time"], "2027-01-15T08:00:00Z");
        assert_eq!(body["scheduled_end_time"], "2027-01-15T09:00:00Z", "an hour unless planned");
        assert_eq!(body["entity_metadata"]["location"], "https://kalcord.example.com/m/1/x");
        assert!(body.get("channel_id").is_none(), "EXTERNAL events have no channel");
        let long = Meeting { title: "x".repeat(300), description: "y".repeat(2000), ..meeting() };
        let body = create_body(&long, "here");
        assert_eq!(body["name"].as_str().unwrap().chars().count(), 100);
        assert_eq!(body["description"].as_str().unwrap().chars().count(), 1000);
        let fallback = location(None, &meeting());
        assert!(
            fallback.contains("0190f7a4-1c2b-7d3e-8f40-123456789abc") && fallback.chars().count() <= 100,
            "{fallback}"
        );
    }

    #[test]
    fn statuses_move_one_allowed_step_at_a_time() {
        use status::{ACTIVE, CANCELED, COMPLETED, SCHEDULED};
        assert_eq!(steps(SCHEDULED, ACTIVE), [ACTIVE]);
        assert_eq!(steps(SCHEDULED, COMPLETED), [ACTIVE, COMPLETED]);
        assert_eq!(steps(ACTIVE, COMPLETED), [COMPLETED]);
        assert_eq!(steps(SCHEDULED, CANCELED), [CANCELED]);
        assert!(
            steps(ACTIVE, CANCELED).is_empty()
                && steps(COMPLETED, ACTIVE).is_empty()
                && steps(ACTIVE, ACTIVE).is_empty()
        );
    }

    #[test]
    fn an_event_is_found_again_by_its_location() {
        let events = json!([
            {"id": "11", "status": 1, "entity_metadata": {"location": "elsewhere"}},
            {"id": "12", "status": 2, "entity_metadata": {"location": "https://k.example/m/1/x"}},
        ]);
        assert_eq!(find(&events, "https://k.example/m/1/x"), Some((12, 2)));
        assert_eq!(find(&events, "nowhere"), None);
        assert_eq!(find(&json!({"message": "no"}), "x"), None);
    }
}
