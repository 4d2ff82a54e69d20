#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

use kalcord_discord::custom_id::CustomId;
use kalcord_discord::response::{ButtonStyle, Component, Embed, MessageData};
use kalcord_proto::v1::{Meeting, MeetingKind, MeetingRole, MeetingStatus};

/// Colours.
const LIVE: u32 = 0x0057_F287;
const SCHEDULED: u32 = 0x0058_65F2;
const OVER: u32 = 0x0099_AAB5;

/// The label of a kind.
#[must_use]
pub fn kind_label(kind: i32) -> &'static str {
    match MeetingKind::try_from(kind) {
        Ok(MeetingKind::VirtualClassroom) => "Virtual Classroom",
        Ok(MeetingKind::Webinar) => "Webinar",
        _ => "Interactive Meeting Room",
    }
}

/// The kind an option value names (default: meeting room).
#[must_use]
pub fn kind_of(value: Option<&str>) -> MeetingKind {
    match value {
        Some("virtual_classroom") => MeetingKind::VirtualClassroom,
        Some("webinar") => MeetingKind::Webinar,
        _ => MeetingKind::MeetingRoom,
    }
}

/// The label of a status.
#[must_use]
pub fn status_label(status: i32) -> &'static str {
    match MeetingStatus::try_from(status) {
        Ok(MeetingStatus::Scheduled) => "scheduled",
        Ok(MeetingStatus::Live) => "live",
        Ok(MeetingStatus::Ended) => "ended",
        Ok(MeetingStatus::Cancelled) => "cancelled",
        _ => "unknown",
    }
}

/// The label of a meeting role.
#[must_use]
pub fn role_label(role: i32) -> &'static str {
    match MeetingRole::try_from(role) {
        Ok(MeetingRole::Host) => "host",
        Ok(MeetingRole::Moderator) => "moderator",
        Ok(MeetingRole::Attendee) => "attendee",
        _ => "none",
    }
}

/// Discord timestamp markup of Unix milliseconds (`style` F, R, ...).
#[must_use]
pub fn stamp(unix_ms: i64, style: char) -> String {
    format!("<t:{}:{style}>", unix_ms.div_euclid(1000))
}

/// When the meeting starts (or started): actual start, else scheduled, else creation.
#[must_use]
pub fn start_ms(meeting: &Meeting) -> i64 {
    [meeting.actual_start_unix_ms, meeting.scheduled_start_unix_ms, meeting.created_at_unix_ms]
        .into_iter()
        .find(|ms| *ms > 0)
        .unwrap_or(0)
}

fn when_text(ms: i64) -> String {
    if ms > 0 { format!("{} ({})", stamp(ms, 'F'), stamp(ms, 'R')) } else { "—".to_owned() }
}

/// The embed announcing a meeting.
#[must_use]
pub fn meeting_embed(meeting: &Meeting) -> Embed {
    let status = MeetingStatus::try_from(meeting.status).unwrap_or(MeetingStatus::Unspecified);
    let (color, when_name) = match status {
        MeetingStatus::Scheduled => (SCHEDULED, "Starts"),
        MeetingStatus::Live => (LIVE, "Started"),
        _ => (OVER, "Started"),
    };
    let mut embed = Embed::titled(&meeting.title)
        .color(color)
        .field("Kind", kind_label(meeting.kind), true)
        .field("Host", &format!("<@{}>", meeting.host_user_id), true)
        .field("Status", status_label(meeting.status), true)
        .field(when_name, &when_text(start_ms(meeting)), false)
        .footer(&format!("Meeting {}", meeting.id));
    if !meeting.description.trim().is_empty() {
        embed = embed.description(&meeting.description);
    }
    if meeting.scheduled_end_unix_ms > 0 && status == MeetingStatus::Scheduled {
        embed = embed.field("Ends", &stamp(meeting.scheduled_end_unix_ms, 't'), true);
    }
    embed
}

fn button(style: ButtonStyle, label: &str, action: &str, meeting_id: &str) -> Option<Component> {
    CustomId::new(action, &[meeting_id]).encode().ok().map(|id| Component::button(style, label, id))
}

/// The public announcement: the embed with Join and End (live) or Cancel (scheduled).
#[must_use]
pub fn announcement(meeting: &Meeting) -> MessageData {
    let message = MessageData::embed(meeting_embed(meeting));
    let second = match MeetingStatus::try_from(meeting.status) {
        Ok(MeetingStatus::Live) => button(ButtonStyle::Danger, "End", "end", &meeting.id),
        Ok(MeetingStatus::Scheduled) => button(ButtonStyle::Secondary, "Cancel", "cancel", &meeting.id),
        _ => return ended(meeting),
    };
    let buttons: Vec<Component> =
        [button(ButtonStyle::Primary, "Join", "join", &meeting.id), second].into_iter().flatten().collect();
    if buttons.is_empty() { message } else { message.row(Component::row(buttons)) }
}

/// The announcement once the meeting is over: the embed without any button.
#[must_use]
pub fn ended(meeting: &Meeting) -> MessageData {
    let cancelled = meeting.status == MeetingStatus::Cancelled as i32;
    let end = [meeting.actual_end_unix_ms, meeting.updated_at_unix_ms].into_iter().find(|ms| *ms > 0);
    let note = match (cancelled, end) {
        (true, _) => "This meeting was cancelled.".to_owned(),
        (false, Some(ms)) => format!("This meeting ended {}.", stamp(ms, 'R')),
        (false, None) => "This meeting has ended.".to_owned(),
    };
    let mut embed = meeting_embed(meeting).color(OVER);
    embed.title = Some(kalcord_discord::response::truncate(
        &format!("{} ({})", meeting.title, if cancelled { "cancelled" } else { "ended" }),
        256,
    ));
    let description =
        if meeting.description.trim().is_empty() { note } else { format!("{}\n\n{note}", meeting.description) };
    MessageData::embed(embed.description(&description)).replacing()
}

/// A short form of a meeting id.
#[must_use]
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(status: MeetingStatus) -> Meeting {
        Meeting {
            id: "0190f7a4-1c2b-7d3e-8f40-123456789abc".to_owned(),
            title: "Maths 101".to_owned(),
            status: status.into(),
            scheduled_start_unix_ms: 1_800_000_000_000,
            ..Meeting::default()
        }
    }

    fn labels(message: &MessageData) -> Vec<String> {
        let json = serde_json::to_value(message).unwrap();
        json["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .map(|button| button["label"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn the_buttons_follow_the_status() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(labels(&announcement(&meeting(MeetingStatus::Scheduled))), ["Join", "Cancel"]);
        assert_eq!(labels(&announcement(&meeting(MeetingStatus::Live))), ["Join", "End"]);
        for over in [MeetingStatus::Ended, MeetingStatus::Cancelled] {
            let message = announcement(&meeting(over));
            assert!(labels(&message).is_empty(), "{over:?} has no buttons");
            let json = serde_json::to_value(&message).unwrap();
            assert_eq!(json["components"], serde_json::json!([]), "an edit removes the old buttons");
        }
        let cancelled = serde_json::to_string(&ended(&meeting(MeetingStatus::Cancelled))).unwrap();
        assert!(cancelled.contains("Maths 101 (cancelled)") && cancelled.contains("was cancelled"), "{cancelled}");
    }
}
