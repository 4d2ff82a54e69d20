//! Shared bodies and clients of the fidelity tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Unix seconds `hours` from now.
pub fn in_hours(hours: u64) -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(hours * 3600);
    i64::try_from(now.as_secs()).expect("seconds")
}

/// A valid EXTERNAL scheduled event body.
pub fn external_event() -> Value {
    let at = |hours: u64| kalcord_discord_emulator::ids::iso8601(u64::try_from(in_hours(hours)).expect("secs") * 1000);
    json!({"name": "Weekly sync", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": at(24),
           "scheduled_end_time": at(25), "entity_metadata": {"location": "https://meet.example.com/abc"}})
}

/// A twilight-http client for the emulator (HTTP, `/api/v10`), remembering no invalid token.
pub fn twilight(emulator: &kalcord_discord_emulator::DiscordEmulator) -> twilight_http::Client {
    twilight_http::Client::builder()
        .token(emulator.application().bot_token)
        .proxy(emulator.api_authority(), true)
        .remember_invalid_token(false)
        .timeout(Duration::from_secs(10))
        .build()
}
