//! Declarations of streams and durable consumers, and the streams kalcord uses.

use std::time::Duration;

/// Default time a delivery may stay unacknowledged before it is delivered again.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);
/// Default number of deliveries before a message is dead-lettered.
pub const DEFAULT_MAX_DELIVERIES: u32 = 5;
/// Default number of unacknowledged deliveries a consumer may hold.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// Default window within which a repeated dedup id is dropped.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_mins(2);
/// Default retention of stored events.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_hours(7 * 24);

/// Duplicate window of the gateway stream: a restarted gateway shard's replays within it are
/// dropped, so a saved gateway session must not be resumed after it.
pub const GATEWAY_DUPLICATE_WINDOW: Duration = Duration::from_mins(5);

/// Name of the stream holding dead letters.
pub const DEAD_LETTER_STREAM: &str = "DEAD_LETTER";
/// Subject prefix of dead letters: a message from `a.b` lands on `dlq.a.b`.
pub const DEAD_LETTER_PREFIX: &str = "dlq";

/// A durable stream of events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    /// Stream name (letters, digits, `_` and `-`), without the bus prefix.
    pub name: String,
    /// Subjects stored, wildcards allowed, without the bus prefix.
    pub subjects: Vec<String>,
    /// How long messages are kept.
    pub max_age: Duration,
    /// Most messages kept; the oldest go first.
    pub max_messages: u64,
    /// Window within which a repeated dedup id is dropped.
    pub duplicate_window: Duration,
}

impl StreamSpec {
    /// A stream with default limits.
    #[must_use]
    pub fn new(name: impl Into<String>, subjects: &[&str]) -> Self {
        Self {
            name: name.into(),
            subjects: subjects.iter().map(|subject| (*subject).to_owned()).collect(),
            max_age: DEFAULT_MAX_AGE,
            max_messages: 1_000_000,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
        }
    }
}

/// A durable consumer: a named cursor over a stream, shared by every replica bound to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Stream consumed, without the bus prefix.
    pub stream: String,
    /// Durable name; replicas using the same name share the work.
    pub durable: String,
    /// Subject filter (wildcards allowed), without the bus prefix.
    pub filter: String,
    /// Time a delivery may stay unacknowledged before redelivery.
    pub ack_wait: Duration,
    /// Deliveries before the message is dead-lettered instead.
    pub max_deliveries: u32,
    /// Unacknowledged deliveries the consumer may hold at once.
    pub max_in_flight: usize,
}

impl ConsumerSpec {
    /// A consumer with default limits.
    #[must_use]
    pub fn new(stream: impl Into<String>, durable: impl Into<String>, filter: impl Into<String>) -> Self {
        Self {
            stream: stream.into(),
            durable: durable.into(),
            filter: filter.into(),
            ack_wait: DEFAULT_ACK_WAIT,
            max_deliveries: DEFAULT_MAX_DELIVERIES,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Every stream kalcord uses; each service ensures them at start.
#[must_use]
pub fn streams() -> Vec<StreamSpec> {
    // NOTE: a restarted gateway shard resumes from its last saved sequence and Discord replays
    // what follows; the replayed dispatches are dropped as duplicates within this window, so it
    // must outlast a restart. Gateway events are short-lived: a day is kept.
    let mut gateway = StreamSpec::new("DISCORD_GATEWAY", &["discord.gateway.>"]);
    gateway.duplicate_window = GATEWAY_DUPLICATE_WINDOW;
    gateway.max_age = Duration::from_hours(24);
    vec![
        gateway,
        StreamSpec::new("KALTURA_WEBHOOKS", &["kaltura.webhooks"]),
        StreamSpec::new("MEETINGS_EVENTS", &["meetings.events.>"]),
        StreamSpec::new("IDENTITY_EVENTS", &["identity.events.>"]),
        dead_letter_stream(),
    ]
}

/// The stream that stores dead letters.
#[must_use]
pub fn dead_letter_stream() -> StreamSpec {
    let mut spec = StreamSpec::new(DEAD_LETTER_STREAM, &["dlq.>"]);
    spec.max_age = Duration::from_hours(30 * 24);
    spec
}
