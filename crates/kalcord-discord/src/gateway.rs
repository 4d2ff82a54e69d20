//! The contract between the gateway-shard service and the consumers of Discord gateway events.
//!
//! Every dispatch (op 0) a shard receives is published on JetStream, unchanged, as
//! `discord.gateway.<EVENT_NAME>` (e.g. `discord.gateway.GUILD_MEMBER_UPDATE`): the payload is
//! the raw JSON of the event's `d`, the headers say where it came from, and the dedup id makes a
//! replayed dispatch (after a RESUME, or a restart that resumes from an older sequence) a
//! duplicate that the stream drops.

/// Stream that stores gateway events (see `kalcord_bus::streams`).
pub const STREAM: &str = "DISCORD_GATEWAY";
/// Subject prefix; the event name follows after a dot.
pub const SUBJECT_PREFIX: &str = "discord.gateway";
/// Filter matching every gateway event.
pub const ALL_EVENTS: &str = "discord.gateway.>";

/// Header: the shard id the dispatch came from (decimal).
pub const HEADER_SHARD: &str = "Discord-Shard";
/// Header: the number of shards of the session (decimal).
pub const HEADER_SHARD_COUNT: &str = "Discord-Shard-Count";
/// Header: the dispatch's sequence number `s` (decimal).
pub const HEADER_SEQUENCE: &str = "Discord-Sequence";
/// Header: the gateway session the sequence number belongs to.
pub const HEADER_SESSION: &str = "Discord-Session";
/// Header: the event name `t`.
pub const HEADER_EVENT: &str = "Discord-Event";
/// Header: the guild the event concerns (absent when it concerns none, e.g. `READY`).
pub const HEADER_GUILD: &str = "Discord-Guild-Id";

/// The subject of an event name, e.g. `discord.gateway.GUILD_CREATE`.
#[must_use]
pub fn subject(event: &str) -> String {
    format!("{SUBJECT_PREFIX}.{event}")
}

/// The event name of a subject (the inverse of [`subject`]); `None` for other subjects.
#[must_use]
pub fn event_of(subject: &str) -> Option<&str> {
    subject.strip_prefix(SUBJECT_PREFIX)?.strip_prefix('.').filter(|event| !event.is_empty())
}

/// The dedup id of a dispatch: the same for a replay of the same dispatch of the same session.
#[must_use]
pub fn dedup_id(shard: u32, session_id: &str, sequence: u64) -> String {
    format!("gw:{shard}:{session_id}:{sequence}")
}

/// Whether an event name is safe as a subject token (Discord's names are `A-Z`, `0-9` and `_`).
#[must_use]
pub fn is_event_name(event: &str) -> bool {
    !event.is_empty() && event.len() <= 64 && event.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        assert_eq!(subject("GUILD_CREATE"), "discord.gateway.GUILD_CREATE");
        assert_eq!(event_of("discord.gateway.GUILD_CREATE"), Some("GUILD_CREATE"));
        assert_eq!(event_of("discord.gatewayX"), None);
        assert_eq!(event_of("discord.gateway."), None);
        assert_eq!(event_of("meetings.events.x"), None);
    }

    #[test]
    fn event_names() {
        assert!(is_event_name("GUILD_MEMBER_UPDATE"));
        assert!(!is_event_name("a.b"));
        assert!(!is_event_name("*"));
        assert!(!is_event_name(""));
        assert_eq!(dedup_id(3, "abc", 42), "gw:3:abc:42");
    }
}
