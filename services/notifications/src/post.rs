//! What each meeting event posts: a short embed per kind, or nothing.

use kalcord_discord::response::{AllowedMentions, Embed, MessageData};
use kalcord_proto::v1::{Meeting, MeetingEvent};
use kalcord_store::entity::guild::MENTIONING_POSTS;
use serde_json::Value;

/// Colour of announcements (scheduled, updated).
const BLUE: u32 = 0x0058_65F2;
/// Colour of a meeting going live.
const GREEN: u32 = 0x0057_F287;
/// Colour of a meeting that ended.
const GREY: u32 = 0x0099_AAB5;
/// Colour of a cancellation.
const RED: u32 = 0x00ED_4245;
/// Discord's longest nonce.
const NONCE_CHARS: usize = 25;

/// Fields of an `updated` event worth a post (others change nothing members act on).
const ANNOUNCED_FIELDS: &[&str] = &["title", "scheduled_start_unix_ms"];

/// Facts the event does not carry, looked up when rendering.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Extra {
    /// Members who joined (for `ended`).
    pub(crate) joined: Option<u64>,
    /// Role the guild pings in posts calling members to a meeting.
    pub(crate) mention: Option<u64>,
}

/// Whether `event` changes what the meeting's announcement and scheduled event show.
pub(crate) fn changes_the_meeting(event: &MeetingEvent) -> bool {
    matches!(event.kind.as_str(), "scheduled" | "started" | "updated" | "ended" | "cancelled")
}

/// Whether `event` posts at all (before any lookup).
pub(crate) fn posts(event: &MeetingEvent) -> bool {
    match event.kind.as_str() {
        "scheduled" | "started" | "ended" | "cancelled" | "reminder" => true,
        "recording_ready" => event.recording.is_some(),
        "updated" => event.changed_fields.iter().any(|field| ANNOUNCED_FIELDS.contains(&field.as_str())),
        _ => false,
    }
}

/// The message of `event`, `None` when its kind does not post.
pub(crate) fn render(event: &MeetingEvent, extra: Extra) -> Option<MessageData> {
    if !posts(event) {
        return None;
    }
    let meeting = event.meeting.as_ref()?;
    let title = if meeting.title.is_empty() { "Meeting" } else { meeting.title.as_str() };
    let embed = match event.kind.as_str() {
        "scheduled" => Embed::titled(&format!("Scheduled: {title}"))
            .description(
                &starts(meeting).map_or_else(|| "A meeting was scheduled.".to_owned(), |at| format!("Starts {at}.")),
            )
            .color(BLUE),
        "started" => Embed::titled(&format!("Live now: {title}"))
            .description("The meeting has started. Use `/meeting join` to get your link.")
            .color(GREEN),
        "ended" => ended(meeting, title, extra),
        "reminder" => Embed::titled(&format!("Starting soon: {title}"))
            .description(&starts(meeting).map_or_else(
                || "The meeting starts soon. Use `/meeting join` to get your link.".to_owned(),
                |at| format!("Starts {at}. Use `/meeting join` to get your link."),
            ))
            .color(BLUE),
        "recording_ready" => recording(event, title),
        "cancelled" => Embed::titled(&format!("Cancelled: {title}"))
            .description(
                &starts(meeting)
                    .map_or_else(|| "The meeting was cancelled.".to_owned(), |at| format!("It was to start {at}.")),
            )
            .color(RED),
        _ => updated(event, meeting, title),
    };
    let mut message = MessageData::embed(embed.footer(&format!("Meeting {}", meeting.id)));
    if let Some(role) = extra.mention.filter(|_| MENTIONING_POSTS.contains(&event.kind.as_str())) {
        message.content = Some(format!("<@&{role}>"));
        message.allowed_mentions = AllowedMentions::role(role);
    }
    Some(message)
}

fn ended(meeting: &Meeting, title: &str, extra: Extra) -> Embed {
    let mut embed = Embed::titled(&format!("Ended: {title}")).description("The meeting has ended.").color(GREY);
    if let Some(length) = duration(meeting) {
        embed = embed.field("Duration", &length, true);
    }
    if let Some(joined) = extra.joined {
        embed = embed.field("Joined", &joined.to_string(), true);
    }
    embed
}

/// The recording of a meeting: its name, length and where to watch it.
fn recording(event: &MeetingEvent, title: &str) -> Embed {
    let mut embed = Embed::titled(&format!("Recording ready: {title}")).color(GREEN);
    let Some(recording) = &event.recording else { return embed };
    let link = recording.url.trim();
    // NOTE: only web links are shown; anything else in the notification is not trusted as a link.
    let description = if link.starts_with("https://") || link.starts_with("http://") {
        format!("[Watch the recording]({link})")
    } else {
        "The recording is ready in Kaltura.".to_owned()
    };
    embed = embed.description(&description);
    if !recording.title.trim().is_empty() {
        embed = embed.field("Recording", recording.title.trim(), true);
    }
    if recording.duration_seconds > 0 {
        embed = embed.field("Length", &minutes_text(u64::from(recording.duration_seconds.div_ceil(60))), true);
    }
    embed
}

fn updated(event: &MeetingEvent, meeting: &Meeting, title: &str) -> Embed {
    let changed = |name: &str| event.changed_fields.iter().any(|field| field == name);
    let mut lines = Vec::new();
    if changed("title") {
        lines.push(format!("New title: **{title}**"));
    }
    if changed("scheduled_start_unix_ms")
        && let Some(at) = starts(meeting)
    {
        lines.push(format!("Now starts {at}."));
    }
    Embed::titled(&format!("Updated: {title}")).description(&lines.join("\n")).color(BLUE)
}

/// `<t:unix:F> (<t:unix:R>)`: Discord shows it in each member's own time zone.
fn starts(meeting: &Meeting) -> Option<String> {
    let unix = (meeting.scheduled_start_unix_ms > 0).then_some(meeting.scheduled_start_unix_ms / 1000)?;
    Some(format!("<t:{unix}:F> (<t:{unix}:R>)"))
}

/// How long the meeting ran, e.g. `1 h 05 min`, from its actual start and end.
fn duration(meeting: &Meeting) -> Option<String> {
    let (start, end) = (meeting.actual_start_unix_ms, meeting.actual_end_unix_ms);
    if start <= 0 || end < start {
        return None;
    }
    Some(minutes_text(u64::try_from((end - start) / 60_000).unwrap_or(0)))
}

/// A length in minutes as members read it: `45 min`, `1 h 05 min`.
fn minutes_text(minutes: u64) -> String {
    if minutes >= 60 { format!("{} h {:02} min", minutes / 60, minutes % 60) } else { format!("{minutes} min") }
}

/// Discord's message `nonce` for a post: at most 25 characters, the same for the same key.
///
/// A UUID key (every meeting event id) is written in base 36 (at most 25 digits, so distinct
/// ids never share a nonce); any other key is hashed (FNV-1a, 128 bits) the same way.
pub(crate) fn nonce(key: &str) -> String {
    let number = uuid::Uuid::parse_str(key).map_or_else(|_| fnv1a(key.as_bytes()), |id| id.as_u128());
    let mut digits = Vec::with_capacity(NONCE_CHARS);
    let mut rest = number;
    loop {
        let digit = u32::try_from(rest % 36).unwrap_or_default();
        digits.push(char::from_digit(digit, 36).unwrap_or('0'));
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

fn fnv1a(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes.iter().fold(OFFSET, |hash, byte| (hash ^ u128::from(*byte)).wrapping_mul(PRIME))
}

/// The request body: the message with its nonce, enforced (Discord then answers a repeated
/// nonce with the first message instead of posting again).
pub(crate) fn body(message: &MessageData, nonce: &str) -> Value {
    let mut body = serde_json::to_value(message).unwrap_or_else(|_| Value::Object(serde_json::Map::new()));
    if let Value::Object(map) = &mut body {
        map.insert("nonce".to_owned(), Value::String(nonce.to_owned()));
        map.insert("enforce_nonce".to_owned(), Value::Bool(true));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, fields: &[&str]) -> MeetingEvent {
        MeetingEvent {
            event_id: "0190f7a4-1c2b-7d3e-8f40-123456789abc".to_owned(),
            kind: kind.to_owned(),
            meeting: Some(Meeting {
                id: "m-1".to_owned(),
                title: "Weekly sync".to_owned(),
                scheduled_start_unix_ms: 1_800_000_000_000,
                actual_start_unix_ms: 1_800_000_000_000,
                actual_end_unix_ms: 1_800_000_000_000 + 65 * 60_000,
                ..Meeting::default()
            }),
            changed_fields: fields.iter().map(|field| (*field).to_owned()).collect(),
            ..MeetingEvent::default()
        }
    }

    fn text(kind: &str, fields: &[&str], extra: Extra) -> Option<String> {
        render(&event(kind, fields), extra).map(|message| serde_json::to_string(&message).unwrap())
    }

    #[test]
    fn each_kind_posts_its_embed() {
        let _trace = kalcord_test_util::trace_init();
        let scheduled = text("scheduled", &[], Extra::default()).unwrap();
        assert!(scheduled.contains("Scheduled: Weekly sync") && scheduled.contains("<t:1800000000:F>"), "{scheduled}");
        assert!(text("started", &[], Extra::default()).unwrap().contains("Live now: Weekly sync"));
        let ended = text("ended", &[], Extra { joined: Some(7), mention: None }).unwrap();
        assert!(ended.contains("1 h 05 min") && ended.contains("\"value\":\"7\""), "{ended}");
        assert!(text("cancelled", &[], Extra::default()).unwrap().contains("Cancelled: Weekly sync"));
        assert!(text("updated", &["scheduled_start_unix_ms"], Extra::default()).unwrap().contains("Now starts <t:"));
    }

    #[test]
    fn only_title_and_start_changes_post() {
        let _trace = kalcord_test_util::trace_init();
        assert!(text("updated", &["description", "custom_fields"], Extra::default()).is_none());
        assert!(text("updated", &["title"], Extra::default()).unwrap().contains("New title"));
        assert!(text("reminder", &[], Extra::default()).unwrap().contains("Starting soon: Weekly sync"));
        assert!(text("recording_ready", &[], Extra::default()).is_none(), "no recording, no post");
        assert!(text("mystery", &[], Extra::default()).is_none(), "unknown kinds post nothing");
    }

    #[test]
    fn the_mention_role_is_pinged_only_where_members_are_called() {
        let _trace = kalcord_test_util::trace_init();
        let extra = Extra { mention: Some(77), ..Extra::default() };
        for kind in ["scheduled", "reminder", "started"] {
            let json = text(kind, &[], extra).unwrap();
            assert!(json.contains("\"content\":\"<@&77>\"") && json.contains("\"roles\":[\"77\"]"), "{kind}: {json}");
        }
        for kind in ["ended", "cancelled"] {
            let json = text(kind, &[], extra).unwrap();
            assert!(!json.contains("<@&77>") && json.contains("\"parse\":[]"), "{kind}: {json}");
        }
    }

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let _trace = kalcord_test_util::trace_init();
        let max = nonce("ffffffff-ffff-ffff-ffff-ffffffffffff");
        assert_eq!(max.len(), NONCE_CHARS);
        let a = nonce("0190f7a4-1c2b-7d3e-8f40-123456789abc");
        assert_eq!(a, nonce("0190f7a4-1c2b-7d3e-8f40-123456789abc"));
        assert_ne!(a, nonce("0190f7a4-1c2b-7d3e-8f40-123456789abd"));
        assert!(nonce("not-a-uuid:edit").len() <= NONCE_CHARS);
        let body = body(&MessageData::text("hi"), &a);
        assert_eq!((body["nonce"].as_str(), body["enforce_nonce"].as_bool()), (Some(a.as_str()), Some(true)));
    }
}
