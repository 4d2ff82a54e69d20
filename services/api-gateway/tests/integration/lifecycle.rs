//! The `kalcord-api-gateway` binary starts on real NATS, Redis and PostgreSQL, turns ready, and
//! stops cleanly on SIGTERM; without `api_gateway.token_key` it refuses to start.

use std::time::Duration;

use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::process::Spawned;

fn binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-api-gateway"))
}

#[tokio::test]
async fn starts_turns_ready_and_stops_on_sigterm() {
    let _trace = kalcord_test_util::trace_init();
    let env = DistributedEnv::new(true).await.expect("distributed test environment");
    let mut vars = env.vars();
    vars.push(("KALCORD_API_GATEWAY_TOKEN_KEY".to_owned(), "t".repeat(40)));
    let process = Spawned::start(binary(), &[], &vars).await.expect("binary starts");
    process.wait_ready(Duration::from_secs(30)).await.expect("binary turns ready");
    let admin = process.url("admin").to_owned();
    let health = reqwest::get(format!("{admin}/healthz")).await.expect("healthz answers");
    assert_eq!(health.text().await.expect("healthz body"), "ok\n");
    let metrics = reqwest::get(format!("{admin}/metrics")).await.expect("metrics answer");
    assert!(metrics.status().is_success(), "/metrics answered {}", metrics.status());
    let status = process.terminate(Duration::from_secs(20)).await.expect("binary stops");
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    env.cleanup().await.expect("clean-up");
}

#[tokio::test]
async fn refuses_to_start_without_a_token_key() {
    let _trace = kalcord_test_util::trace_init();
    let env = DistributedEnv::new(false).await.expect("distributed test environment");
    let vars = env.vars().into_iter().filter(|(name, _)| name != "KALCORD_API_GATEWAY_TOKEN_KEY");
    let output = tokio::process::Command::new(binary()).env_clear().envs(vars).output().await.expect("binary runs");
    assert_eq!(output.status.code(), Some(64), "bad configuration exits 64");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("api_gateway.token_key"), "{printed}");
    env.cleanup().await.expect("clean-up");
}
