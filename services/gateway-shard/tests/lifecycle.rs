//! The `kalcord-gateway-shard` binary starts on real NATS and Redis, turns ready, and
//! stops cleanly on SIGTERM.

#[tokio::test]
async fn starts_turns_ready_and_stops_on_sigterm() {
    let _trace = kalcord_test_util::trace_init();
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kalcord-gateway-shard"));
    kalcord_test_util::process::assert_lifecycle(binary, false).await;
}
