//! From a gateway message to a bus event: the raw `d` of a dispatch, with its headers and dedup id.

use kalcord_bus::Event;
use kalcord_discord::gateway::{
    HEADER_EVENT, HEADER_GUILD, HEADER_SEQUENCE, HEADER_SESSION, HEADER_SHARD, HEADER_SHARD_COUNT, dedup_id,
    is_event_name, subject,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The envelope `{op, d, s, t}`, borrowing `d` unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    op: u8,
    #[serde(default)]
    s: Option<u64>,
    #[serde(default, borrow)]
    t: Option<&'a str>,
    #[serde(default, borrow)]
    d: Option<&'a RawValue>,
}

/// The fields of `d` that name a guild.
#[derive(Deserialize)]
struct GuildRef<'a> {
    #[serde(default, borrow)]
    guild_id: Option<&'a str>,
    #[serde(default, borrow)]
    id: Option<&'a str>,
}

/// A dispatch read from the gateway.
#[derive(Debug, PartialEq, Eq)]
pub struct Dispatch<'a> {
    /// Event name `t`.
    pub event: &'a str,
    /// Sequence number `s`.
    pub sequence: u64,
    /// Raw JSON of `d`.
    pub data: &'a str,
    /// The guild it concerns, if any.
    pub guild_id: Option<u64>,
}

/// Why a text message is not published.
#[derive(Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not a dispatch (HELLO, heartbeat ACK, op 7, op 9...).
    NotDispatch,
    /// A dispatch without a sequence number, or with an event name unfit for a subject.
    Malformed(&'static str),
}

/// Events whose guild is `d.id` rather than `d.guild_id`.
fn guild_in_id(event: &str) -> bool {
    matches!(event, "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE")
}

/// Reads a gateway text message.
///
/// # Errors
///
/// [`Skip`] for anything that is not a well-formed dispatch.
pub fn parse(text: &str) -> Result<Dispatch<'_>, Skip> {
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|_| Skip::Malformed("not a gateway payload"))?;
    if envelope.op != 0 {
        return Err(Skip::NotDispatch);
    }
    let event = envelope.t.ok_or(Skip::Malformed("dispatch without an event name"))?;
    if !is_event_name(event) {
        return Err(Skip::Malformed("event name unfit for a subject"));
    }
    let sequence = envelope.s.ok_or(Skip::Malformed("dispatch without a sequence"))?;
    let data = envelope.d.map_or("null", RawValue::get);
    let guild = serde_json::from_str::<GuildRef<'_>>(data).ok();
    let guild_id = guild
        .and_then(|guild| if guild_in_id(event) { guild.id } else { guild.guild_id })
        .and_then(|id| id.parse().ok());
    Ok(Dispatch { event, sequence, data, guild_id })
}

impl Dispatch<'_> {
    /// The bus event: subject `discord.gateway.<EVENT>`, payload `d`, headers and dedup id.
    #[must_use]
    pub fn to_event(&self, shard: u32, shards: u32, session_id: &str) -> Event {
        let mut event =
            Event::new(subject(self.event), dedup_id(shard, session_id, self.sequence), self.data.as_bytes().to_vec());
        let mut message = std::mem::take(&mut event.message)
            .with_header(HEADER_SHARD, shard.to_string())
            .with_header(HEADER_SHARD_COUNT, shards.to_string())
            .with_header(HEADER_SEQUENCE, self.sequence.to_string())
            .with_header(HEADER_SESSION, session_id)
            .with_header(HEADER_EVENT, self.event);
        if let Some(guild_id) = self.guild_id {
            message = message.with_header(HEADER_GUILD, guild_id.to_string());
        }
        event.message = message;
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_and_their_guild() {
        let text = r#"{"t":"GUILD_MEMBER_UPDATE","s":42,"op":0,"d":{"guild_id":"41771983423143937","roles":["1"],"user":{"id":"2"}}}"#;
        let dispatch = parse(text).expect("dispatch");
        assert_eq!(dispatch.event, "GUILD_MEMBER_UPDATE");
        assert_eq!(dispatch.sequence, 42);
        assert_eq!(dispatch.guild_id, Some(41_771_983_423_143_937));
        assert_eq!(dispatch.data, r#"{"guild_id":"41771983423143937","roles":["1"],"user":{"id":"2"}}"#);

        let create =
            parse(r#"{"op":0,"s":1,"t":"GUILD_CREATE","d":{"id":"7","name":"x","channels":[]}}"#).expect("create");
        assert_eq!(create.guild_id, Some(7));
        let ready = parse(r#"{"op":0,"s":1,"t":"READY","d":{"session_id":"a","guilds":[{"id":"9"}]}}"#).expect("ready");
        assert_eq!(ready.guild_id, None);
    }

    #[test]
    fn other_messages_are_skipped() {
        assert_eq!(parse(r#"{"op":11,"d":null,"s":null,"t":null}"#), Err(Skip::NotDispatch));
        assert_eq!(parse(r#"{"op":10,"d":{"heartbeat_interval":41250}}"#), Err(Skip::NotDispatch));
        assert!(matches!(parse(r#"{"op":0,"t":"X","d":{}}"#), Err(Skip::Malformed(_))));
        assert!(matches!(parse(r#"{"op":0,"t":"A.B","s":1,"d":{}}"#), Err(Skip::Malformed(_))));
        assert!(matches!(parse("not json"), Err(Skip::Malformed(_))));
    }

    #[test]
    fn events_carry_headers_and_dedup_ids() {
        let dispatch =
            parse(r#"{"op":0,"s":5,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"3","role_id":"4"}}"#).expect("x");
        let event = dispatch.to_event(1, 4, "abc");
        assert_eq!(event.subject, "discord.gateway.GUILD_ROLE_DELETE");
        assert_eq!(event.dedup_id, "gw:1:abc:5");
        assert_eq!(&event.message.payload[..], br#"{"guild_id":"3","role_id":"4"}"#);
        let header = |name: &str| event.message.headers.get(name).cloned();
        assert_eq!(header(HEADER_SHARD).as_deref(), Some("1"));
        assert_eq!(header(HEADER_SHARD_COUNT).as_deref(), Some("4"));
        assert_eq!(header(HEADER_SEQUENCE).as_deref(), Some("5"));
        assert_eq!(header(HEADER_GUILD).as_deref(), Some("3"));
        assert_eq!(header(HEADER_EVENT).as_deref(), Some("GUILD_ROLE_DELETE"));
    }
}
