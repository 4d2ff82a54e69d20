//! Guild scheduled events: EXTERNAL validation, status transitions, the 100-active limit, dispatches.

use kalcord_discord_emulator::{ids, perms, seed};
use serde_json::{Value, json};

use super::common::Harness;
use super::wsclient::Client;

fn future(hours: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_millis();
    ids::iso8601(u64::try_from(now).expect("ms") + hours * 3_600_000)
}

fn external() -> Value {
    json!({"name": "Weekly sync", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": future(24),
           "scheduled_end_time": future(25), "entity_metadata": {"location": "https://meet.example.com/abc"}})
}

#[tokio::test]
async fn external_events_are_validated() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let path = format!("/guilds/{}/scheduled-events", seed::GUILD_ID);
    let created = harness.bot("POST", &path, Some(external())).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let event = created.json();
    assert_eq!((event["status"].as_u64(), event["entity_type"].as_u64()), (Some(1), Some(3)));
    assert!(event["channel_id"].is_null());
    assert_eq!(event["entity_metadata"]["location"], "https://meet.example.com/abc");
    assert_eq!(event["creator_id"], harness.app.bot_user_id);
    let cases: [(&str, Value, &[&str]); 5] = [
        ("channel", json!({"channel_id": seed::CLASSROOM_CHANNEL.to_string()}), &["channel_id"]),
        ("no location", json!({"entity_metadata": null}), &["entity_metadata"]),
        ("long location", json!({"entity_metadata": {"location": "x".repeat(101)}}), &["entity_metadata", "location"]),
        ("no end", json!({"scheduled_end_time": null}), &["scheduled_end_time"]),
        (
            "past",
            json!({"scheduled_start_time": "2020-01-01T00:00:00Z", "scheduled_end_time": "2020-01-01T01:00:00Z"}),
            &["scheduled_start_time"],
        ),
    ];
    for (name, change, at) in cases {
        let mut body = external();
        if let (Value::Object(into), Value::Object(from)) = (&mut body, change) {
            into.extend(from);
        }
        let reply = harness.bot("POST", &path, Some(body)).await;
        assert_eq!((reply.status, reply.json()["code"].as_u64()), (400, Some(50035)), "{name}");
        let node = at.iter().fold(&reply.json()["errors"], |node, key| &node[*key]).clone();
        assert!(node["_errors"].is_array(), "{name}: {}", reply.body);
    }
    let voice = json!({"name": "Office hours", "privacy_level": 2, "entity_type": 2, "scheduled_start_time": future(2),
                       "channel_id": seed::CLASSROOM_CHANNEL.to_string()});
    assert_eq!(harness.bot("POST", &path, Some(voice)).await.status, 200);
    let wrong_channel = json!({"name": "Stage", "privacy_level": 2, "entity_type": 1, "scheduled_start_time": future(2),
                               "channel_id": seed::CLASSROOM_CHANNEL.to_string()});
    assert_eq!(harness.bot("POST", &path, Some(wrong_channel)).await.status, 400);
    assert_eq!(harness.bot("GET", &path, None).await.json().as_array().map(Vec::len), Some(2));
    harness.stop().await;
}

#[tokio::test]
async fn status_transitions_and_dispatches() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let mut client = Client::connect(&harness.emulator.gateway_url(), "v=10&encoding=json").await;
    client.recv().await;
    client.identify(&harness.app.bot_token, perms::INTENT_GUILDS | perms::INTENT_GUILD_SCHEDULED_EVENTS, None).await;
    client.until("GUILD_CREATE").await;
    let path = format!("/guilds/{}/scheduled-events", seed::GUILD_ID);
    let event = harness.bot("POST", &path, Some(external())).await.json();
    let id = event["id"].as_str().expect("id").to_owned();
    assert_eq!(client.until("GUILD_SCHEDULED_EVENT_CREATE").await["d"]["id"], id);
    let one = format!("{path}/{id}");
    let skip = harness.bot("PATCH", &one, Some(json!({"status": 3}))).await;
    assert!(skip.json()["errors"]["status"].is_object(), "SCHEDULED cannot jump to COMPLETED: {}", skip.body);
    assert_eq!(harness.bot("PATCH", &one, Some(json!({"status": 2}))).await.json()["status"], 2);
    assert_eq!(client.until("GUILD_SCHEDULED_EVENT_UPDATE").await["d"]["status"], 2);
    assert_eq!(harness.bot("PATCH", &one, Some(json!({"status": 4}))).await.status, 400, "ACTIVE cannot be CANCELED");
    assert_eq!(harness.bot("PATCH", &one, Some(json!({"status": 3}))).await.json()["status"], 3);
    assert_eq!(harness.bot("PATCH", &one, Some(json!({"name": "Again"}))).await.status, 400, "COMPLETED is final");
    let second = harness.bot("POST", &path, Some(external())).await.json();
    let second_path = format!("{path}/{}", second["id"].as_str().expect("id"));
    assert_eq!(harness.bot("PATCH", &second_path, Some(json!({"status": 4}))).await.json()["status"], 4);
    assert_eq!(harness.bot("DELETE", &second_path, None).await.status, 204);
    assert_eq!(client.until("GUILD_SCHEDULED_EVENT_DELETE").await["d"]["id"], second["id"]);
    assert_eq!(harness.bot("GET", &second_path, None).await.json()["code"], 10070);
    harness.stop().await;
}

#[tokio::test]
async fn at_most_100_active_events() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.rate_limits.global_per_second = 0;
        config.rate_limits = config.rate_limits.with_route(
            "POST",
            "/guilds/{guild_id}/scheduled-events",
            kalcord_discord_emulator::BucketLimit::new(1000, std::time::Duration::from_secs(1)),
        );
        config
    })
    .await;
    let path = format!("/guilds/{}/scheduled-events", seed::GUILD_ID);
    for index in 0..100 {
        let reply = harness.bot("POST", &path, Some(external())).await;
        assert_eq!(reply.status, 200, "{index}: {}", reply.body);
    }
    let over = harness.bot("POST", &path, Some(external())).await;
    assert_eq!((over.status, over.json()["code"].as_u64()), (400, Some(30038)));
    harness.stop().await;
}
