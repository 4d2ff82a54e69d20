//! Dispatches (op 0 events) produced by world changes, and their routing to sessions.

use serde_json::Value;

/// A world change to announce on the gateway.
#[derive(Clone, Debug)]
pub(crate) struct Dispatch {
    /// Event name (`t`).
    pub event: &'static str,
    /// Guild it belongs to (routes it to shard `(guild_id >> 22) % num_shards`; `None`: shard 0).
    pub guild_id: Option<u64>,
    /// Intent bits of which at least one is needed (0: sent regardless).
    pub intent: u64,
    /// Payload (`d`).
    pub data: Value,
    /// Payload for sessions that have `GUILD_PRESENCES` (e.g. `GUILD_CREATE` with every member).
    pub data_with_presences: Option<Value>,
}

impl Dispatch {
    /// A dispatch with one payload for everyone.
    pub(crate) fn new(event: &'static str, guild_id: Option<u64>, intent: u64, data: Value) -> Self {
        Self { event, guild_id, intent, data, data_with_presences: None }
    }

    /// Whether a session on `shard` with `intents` gets it.
    pub(crate) fn routes_to(&self, shard: [u32; 2], intents: u64) -> bool {
        routes(self.guild_id, self.intent, shard, intents)
    }

    /// The payload for a session with these intents.
    pub(crate) fn data_for(&self, intents: u64) -> &Value {
        match &self.data_with_presences {
            Some(full) if intents & crate::perms::INTENT_GUILD_PRESENCES != 0 => full,
            _ => &self.data,
        }
    }
}

/// Whether an event of `guild_id` (`None`: shard 0) needing one of `intent` (0: none) goes to a session on
/// `shard` with `intents`.
pub(crate) fn routes(guild_id: Option<u64>, intent: u64, shard: [u32; 2], intents: u64) -> bool {
    let on_shard = match guild_id {
        Some(guild_id) => shard_of(guild_id, shard[1]) == shard[0],
        None => shard[0] == 0,
    };
    on_shard && (intent == 0 || intents & intent != 0)
}

/// `(guild_id >> 22) % num_shards`.
#[must_use]
pub(crate) fn shard_of(guild_id: u64, num_shards: u32) -> u32 {
    u32::try_from((guild_id >> 22) % u64::from(num_shards.max(1))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_by_shard_and_intent() {
        let guild = 41_771_983_423_143_937_u64;
        let dispatch = Dispatch::new("GUILD_ROLE_CREATE", Some(guild), 1, Value::Null);
        let shard = shard_of(guild, 2);
        assert!(dispatch.routes_to([shard, 2], 1));
        assert!(!dispatch.routes_to([1 - shard, 2], 1));
        assert!(!dispatch.routes_to([shard, 2], 2));
        assert!(Dispatch::new("X", None, 0, Value::Null).routes_to([0, 4], 0));
    }
}
