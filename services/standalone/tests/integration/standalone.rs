//! `kalcord` on embedded defaults: one process, SQLite, in-process bus, in-memory cache.

use std::time::Duration;

use kalcord_test_util::process::{Spawned, binary};

#[tokio::test]
async fn http_request_crosses_the_in_process_bus_and_comes_back() {
    let _trace = kalcord_test_util::trace_init();
    let data = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/kalcord.db", data.path().display());
    let env = [
        ("KALCORD_STORE_URL".to_owned(), store),
        ("KALCORD_ADMIN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_API_GATEWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_DISCORD_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KALCORD_SANDBOX_KALTURA_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    let kalcord = Spawned::start(&binary("kalcord"), &[], &env).await.unwrap();
    kalcord.wait_ready(Duration::from_secs(30)).await.unwrap();
    assert!(data.path().join("kalcord.db").exists(), "the SQLite file is created in the data directory");

    let response = reqwest::get(format!("{}/api/v1/status", kalcord.url("api"))).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body:#}");
    let services = body["services"].as_array().unwrap();
    assert_eq!(services.len(), 6);
    let instances: Vec<&str> = services.iter().map(|s| s["instance"].as_str().unwrap()).collect();
    assert!(instances.iter().all(|i| *i == instances[0]), "one process answers for every service: {instances:?}");

    let readyz: serde_json::Value =
        reqwest::get(format!("{}/readyz", kalcord.url("admin"))).await.unwrap().json().await.unwrap();
    let checks: Vec<&str> = readyz["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    // NOTE: the sandbox's gateway shard connects to the built-in emulator; ready means its session is active.
    assert_eq!(checks, ["bus", "store", "cache", "shard 0"]);
    assert!(readyz["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{readyz:#}");

    let metrics = reqwest::get(format!("{}/metrics", kalcord.url("admin"))).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("kalcord_http_requests_total{route=\"/api/v1/status\",method=\"GET\",status=\"200\"} 1"),
        "{metrics}"
    );

    let status = kalcord.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status:?}");
}
