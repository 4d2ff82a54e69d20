//! Rate-limit headers, 429s, the global limit, the invalid-request guard, scripted faults.

use std::time::{Duration, Instant};

use kalcord_discord_emulator::{BucketLimit, Fault, FaultAction, RateLimitConfig, seed};
use serde_json::json;

use super::common::Harness;

fn messages() -> String {
    format!("/channels/{}/messages", seed::GENERAL_CHANNEL)
}

#[tokio::test]
async fn headers_then_429_then_success() {
    let _trace = kalcord_test_util::trace_init();
    let limits = RateLimitConfig::default().with_route(
        "POST",
        "/channels/{channel_id}/messages",
        BucketLimit::new(2, Duration::from_millis(1500)),
    );
    let harness = Harness::with(|mut config| {
        config.rate_limits = limits;
        config
    })
    .await;
    let me = harness.bot("GET", "/users/@me", None).await;
    for header in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(me.header(header).is_some(), "{header}");
    }
    assert_eq!(me.header("x-ratelimit-scope").as_deref(), Some("user"));
    let first = harness.bot("POST", &messages(), Some(json!({"content": "1"}))).await;
    assert_eq!(
        (first.header("x-ratelimit-limit").as_deref(), first.header("x-ratelimit-remaining").as_deref()),
        (Some("2"), Some("1"))
    );
    let bucket = first.header("x-ratelimit-bucket");
    assert_eq!(harness.bot("POST", &messages(), Some(json!({"content": "2"}))).await.status, 200);
    let limited = harness.bot("POST", &messages(), Some(json!({"content": "3"}))).await;
    assert_eq!(limited.status, 429);
    let body = limited.json();
    assert_eq!(
        (body["message"].as_str(), body["global"].as_bool()),
        (Some("You are being rate limited."), Some(false))
    );
    assert!(body["retry_after"].as_f64().is_some_and(|after| after > 0.0 && after <= 1.5));
    assert_eq!(limited.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(limited.header("x-ratelimit-scope").as_deref(), Some("user"));
    assert_eq!(limited.header("x-ratelimit-bucket"), bucket);
    assert!(limited.header("retry-after").is_some());
    let other_channel = harness
        .bot("POST", &format!("/channels/{}/messages", seed::ANNOUNCEMENTS_CHANNEL), Some(json!({"content": "x"})))
        .await;
    assert_eq!(other_channel.status, 200, "buckets are per channel");
    let wait =
        limited.header("x-ratelimit-reset-after").and_then(|after| after.parse::<f64>().ok()).expect("reset after");
    tokio::time::sleep(Duration::from_secs_f64(wait + 0.05)).await;
    assert_eq!(harness.bot("POST", &messages(), Some(json!({"content": "4"}))).await.status, 200);
    harness.stop().await;
}

#[tokio::test]
async fn global_limit_per_bot_exempts_interactions() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.rate_limits.global_per_second = 5;
        config
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await);
    }
    assert!(statuses[..5].iter().all(|reply| reply.status == 200), "the first five fit in any window");
    let limited = statuses.iter().find(|reply| reply.status == 429).expect("at most 5 per second");
    assert!(statuses.iter().filter(|reply| reply.status == 200).count() <= 10);
    assert_eq!(limited.header("x-ratelimit-global").as_deref(), Some("true"));
    assert_eq!(limited.header("x-ratelimit-scope").as_deref(), Some("global"));
    assert_eq!(limited.json()["global"], true);
    let exempt = harness.call("POST", "/interactions/1/token/callback", None, Some(json!({"type": 1}))).await;
    assert_eq!(exempt.json()["code"], 10062, "interaction routes are not bound to the global limit");
    harness.stop().await;
}

#[tokio::test]
async fn invalid_requests_get_a_token_banned() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::with(|mut config| {
        config.rate_limits.invalid_request_limit = 5;
        config
    })
    .await;
    for _ in 0..4 {
        assert_eq!(harness.call("GET", "/users/@me", Some("Bot wrong"), None).await.status, 401);
    }
    assert_eq!(harness.state().invalid_requests("wrong"), 4);
    assert_eq!(harness.call("GET", "/users/@me", Some("Bot wrong"), None).await.status, 401);
    let banned = harness.call("GET", "/users/@me", Some("Bot wrong"), None).await;
    assert_eq!(banned.status, 429);
    assert!(banned.json()["retry_after"].as_f64().is_some_and(|after| after > 3000.0));
    assert_eq!(banned.header("x-ratelimit-global").as_deref(), Some("true"));
    assert_eq!(harness.bot("GET", "/users/@me", None).await.status, 200, "other tokens are not banned");
    harness.state().reset_rate_limits();
    assert_eq!(harness.call("GET", "/users/@me", Some("Bot wrong"), None).await.status, 401);
    harness.stop().await;
}

#[tokio::test]
async fn scripted_faults() {
    let _trace = kalcord_test_util::trace_init();
    let harness = Harness::start().await;
    let state = harness.state();
    state.add_fault(
        Fault::next(FaultAction::RateLimited { retry_after: 2.5, global: true }).on("POST", "/channels/*/messages"),
    );
    state.add_fault(Fault::next(FaultAction::Status { status: 503 }).on("GET", "/users/@me").times(2));
    state.add_fault(Fault::next(FaultAction::Status { status: 401 }).on("GET", "/guilds/*"));
    state.add_fault(Fault::next(FaultAction::Delay { millis: 150 }).on("GET", "/gateway/bot"));
    let global = harness.bot("POST", &messages(), Some(json!({"content": "x"}))).await;
    assert_eq!((global.status, global.header("retry-after").as_deref()), (429, Some("3")));
    assert_eq!(global.json(), json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": true}));
    assert_eq!(harness.bot("POST", &messages(), Some(json!({"content": "x"}))).await.status, 200);
    assert_eq!(harness.bot("GET", "/users/@me", None).await.status, 503);
    assert_eq!(harness.bot("GET", "/users/@me", None).await.status, 503);
    assert_eq!(harness.bot("GET", "/users/@me", None).await.status, 200);
    let unauthorized = harness.bot("GET", &format!("/guilds/{}", seed::GUILD_ID), None).await;
    assert_eq!(unauthorized.json(), json!({"message": "401: Unauthorized", "code": 0}));
    let started = Instant::now();
    assert_eq!(harness.bot("GET", "/gateway/bot", None).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    state.add_fault(Fault::next(FaultAction::RateLimited { retry_after: 1.0, global: false }).on("GET", "/users/@me"));
    let user = harness.bot("GET", "/users/@me", None).await;
    assert_eq!((user.status, user.header("x-ratelimit-scope").as_deref()), (429, Some("user")));
    assert_eq!(user.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(state.invalid_requests(&harness.app.bot_token), 3, "429, 401 and the user-scope 429 count");
    harness.stop().await;
}
