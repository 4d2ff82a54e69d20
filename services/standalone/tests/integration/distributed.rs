//! Every service as its own process over real NATS JetStream, PostgreSQL and Redis.

use std::time::Duration;

use kalcord_test_util::distributed::DistributedEnv;
use kalcord_test_util::process::{Spawned, binary};

const SERVICES: [&str; 6] = ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"];

#[tokio::test]
async fn http_request_crosses_nats_between_processes_and_comes_back() {
    let _trace = kalcord_test_util::trace_init();
    let env = DistributedEnv::new(true).await.unwrap();
    let vars = env.vars();
    let starts = SERVICES.map(|service| {
        let vars = vars.clone();
        async move { Spawned::start(&binary(&format!("kalcord-{service}")), &[], &vars).await.unwrap() }
    });
    let processes = futures::future::join_all(starts).await;
    for process in &processes {
        process.wait_ready(Duration::from_secs(30)).await.unwrap();
    }
    let gateway = &processes[0];

    let response = reqwest::get(format!("{}/api/v1/status", gateway.url("api"))).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body:#}");
    let mut instances: Vec<&str> =
        body["services"].as_array().unwrap().iter().map(|s| s["instance"].as_str().unwrap()).collect();
    instances.sort_unstable();
    instances.dedup();
    assert_eq!(instances.len(), 6, "each service answers from its own process");

    for process in processes {
        let status = process.terminate(Duration::from_secs(20)).await.unwrap();
        assert!(status.success(), "{status:?}");
    }
    env.cleanup().await.unwrap();
}
