//! Arbitrary bytes on the REST, interaction, OAuth2 and admin endpoints never crash the emulator.

use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, seed};
use proptest::prelude::*;

const TARGETS: &[(&str, &str)] = &[
    ("POST", "/api/v10/channels/1284000000000000201/messages"),
    ("PATCH", "/api/v10/channels/1284000000000000201/messages/1"),
    ("PUT", "/api/v10/applications/{app}/commands"),
    ("POST", "/api/v10/applications/{app}/guilds/1284000000000000001/commands"),
    ("POST", "/api/v10/guilds/1284000000000000001/scheduled-events"),
    ("POST", "/api/v10/guilds/1284000000000000001/roles"),
    ("POST", "/api/v10/users/@me/channels"),
    ("PUT", "/api/v10/applications/{app}/role-connections/metadata"),
    ("POST", "/api/v10/interactions/1/abc/callback"),
    ("POST", "/api/v10/webhooks/{app}/abc"),
    ("POST", "/api/oauth2/token"),
    ("POST", "/_emulator/interactions"),
    ("POST", "/_emulator/guilds"),
    ("POST", "/_emulator/gateway/actions"),
    ("POST", "/_emulator/probes"),
    ("POST", "/_emulator/clock/advance"),
];

const CONTENT_TYPES: &[&str] =
    &["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ", "text/plain", ""];

#[test]
fn arbitrary_bodies_never_crash_or_500() {
    let _trace = kalcord_test_util::trace_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut config = EmulatorConfig::default().with_guild(seed::demo_guild());
    config.rate_limits.global_per_second = 0;
    config.rate_limits.default_bucket =
        kalcord_discord_emulator::BucketLimit::new(1_000_000, std::time::Duration::from_secs(1));
    let emulator = runtime.block_on(DiscordEmulator::start(config)).expect("start");
    let app = emulator.application();
    let http = reqwest::Client::new();
    let base = emulator.api_base();
    let auth = format!("Bot {}", app.bot_token);
    let strategy = (0..TARGETS.len(), 0..CONTENT_TYPES.len(), proptest::collection::vec(any::<u8>(), 0..512));
    proptest!(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() }, |((target, kind, body) in strategy)| {
        let (method, path) = TARGETS[target];
        let url = format!("{base}{}", path.replace("{app}", &app.id));
        let status = runtime.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = http.request(method, url).header("authorization", &auth).body(body.clone());
            if !CONTENT_TYPES[kind].is_empty() {
                request = request.header("content-type", CONTENT_TYPES[kind]);
            }
            request.send().await.expect("the emulator answers").status().as_u16()
        });
        prop_assert!(status < 500, "{method} {path} answered {status}");
    });
    let alive = runtime
        .block_on(async { http.get(format!("{base}/api/v10/users/@me")).header("authorization", &auth).send().await });
    assert_eq!(alive.expect("alive").status().as_u16(), 200);
    runtime.block_on(emulator.stop());
}

#[test]
fn json_shaped_garbage_never_crashes() {
    let _trace = kalcord_test_util::trace_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut config = EmulatorConfig::default().with_guild(seed::demo_guild());
    config.rate_limits.global_per_second = 0;
    config.rate_limits.default_bucket =
        kalcord_discord_emulator::BucketLimit::new(1_000_000, std::time::Duration::from_secs(1));
    let emulator = runtime.block_on(DiscordEmulator::start(config)).expect("start");
    let app = emulator.application();
    let http = reqwest::Client::new();
    let base = emulator.api_base();
    let auth = format!("Bot {}", app.bot_token);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z0-9 ]{0,12}".prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("(type|name|content|options|embeds|data|components|channel_id|entity_type|status|custom_id|permissions)", inner, 0..5)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    });
    proptest!(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() }, |((target, body) in (0..TARGETS.len(), value))| {
        let (method, path) = TARGETS[target];
        let url = format!("{base}{}", path.replace("{app}", &app.id));
        let status = runtime.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let request = http.request(method, url).header("authorization", &auth).header("content-type", "application/json").body(body.to_string());
            request.send().await.expect("the emulator answers").status().as_u16()
        });
        prop_assert!(status < 500, "{method} {path} answered {status} to {body}");
    });
    runtime.block_on(emulator.stop());
}
