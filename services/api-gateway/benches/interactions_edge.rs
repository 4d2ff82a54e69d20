//! Load benchmark of `POST /interactions` at the edge (`make bench`).
//!
//! 64 concurrent keep-alive connections send signed PINGs for a few seconds against a real
//! api-gateway on loopback; prints throughput and latency percentiles and fails when p99 is
//! over 10 ms. Then 10,000 requests with random signatures, and 10,000 valid PINGs, each
//! while the process RSS is sampled: a burst of bad signatures must not cost more memory than
//! a normal burst.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer as _, SigningKey};
use kalcord_api_gateway::{ApiGateway, Config};
use kalcord_bus::{MemoryBus, SharedBus};
use kalcord_runtime::{CancellationToken, CommonConfig, Deps, Service as _};

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);
const P99_TARGET: Duration = Duration::from_millis(10);
const PING: &[u8] = br#"{"type":1,"id":"1","application_id":"2","token":"t","version":1}"#;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn start(key: &SigningKey) -> (String, CancellationToken) {
    let mut common = CommonConfig::defaults();
    common.discord.public_key = Some(hex::encode(key.verifying_key().to_bytes()));
    let bus: SharedBus = Arc::new(MemoryBus::new(""));
    let deps = Deps {
        bus,
        cache: None,
        common: Arc::new(common),
        instance: "bench".into(),
        started: Instant::now(),
        store: None,
    };
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        interaction_timeout: Duration::from_millis(2500),
        status_timeout: Duration::from_secs(1),
        workers: 1,
        ..Config::default()
    };
    let gateway = ApiGateway::build(config, deps).await.unwrap();
    let url = format!("http://{}/interactions", gateway.local_addr());
    let token = CancellationToken::new();
    tokio::spawn(gateway.run(token.clone()));
    (url, token)
}

fn signed(key: &SigningKey, body: &[u8]) -> (String, String) {
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    (hex::encode(key.sign(&message).to_bytes()), timestamp)
}

async fn load(url: &str, key: &SigningKey) -> (usize, Vec<Duration>) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
    let (signature, timestamp) = signed(key, PING);
    let deadline = Instant::now() + DURATION;
    let workers = (0..CONNECTIONS).map(|_| {
        let (client, url, signature, timestamp) =
            (client.clone(), url.to_owned(), signature.clone(), timestamp.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = client
                    .post(&url)
                    .header("X-Signature-Ed25519", &signature)
                    .header("X-Signature-Timestamp", &timestamp)
                    .body(PING)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let _ = response.bytes().await.unwrap();
                latencies.push(started.elapsed());
            }
            latencies
        })
    });
    // NOTE: collected first, so every connection runs at once (a lazy map would run them one by one).
    let workers: Vec<_> = workers.collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort_unstable();
    (all.len(), all)
}

async fn burst(url: &str, key: &SigningKey, valid: bool) -> u64 {
    let client = reqwest::Client::new();
    let before = rss_kib();
    let mut peak = before;
    for chunk in 0..100u32 {
        let sends = (0..100u32).map(|n| {
            let (client, url) = (client.clone(), url.to_owned());
            let (signature, timestamp) = if valid {
                signed(key, PING)
            } else {
                let mut random = [0u8; 64];
                random[..4].copy_from_slice(&(chunk * 100 + n).to_le_bytes());
                (hex::encode(random), signed(key, PING).1)
            };
            tokio::spawn(async move {
                let response = client
                    .post(&url)
                    .header("X-Signature-Ed25519", signature)
                    .header("X-Signature-Timestamp", timestamp)
                    .body(PING)
                    .send()
                    .await
                    .unwrap();
                response.status().as_u16()
            })
        });
        for send in sends {
            assert_eq!(send.await.unwrap(), if valid { 200 } else { 401 });
        }
        peak = peak.max(rss_kib());
    }
    peak.saturating_sub(before)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let (url, token) = start(&key).await;
        let (count, latencies) = load(&url, &key).await;
        let (p50, p90, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.90), percentile(&latencies, 0.99));
        println!(
            "interactions_edge/ping: {CONNECTIONS} connections, {count} requests in {DURATION:?} = {:.0} req/s; p50 {p50:?}, p90 {p90:?}, p99 {p99:?} (target p99 < {P99_TARGET:?})",
            count as f64 / DURATION.as_secs_f64()
        );
        let bad = burst(&url, &key, false).await;
        let good = burst(&url, &key, true).await;
        println!("interactions_edge/burst: RSS growth over 10,000 random signatures {bad} KiB, over 10,000 valid PINGs {good} KiB");
        token.cancel();
        assert!(p99 < P99_TARGET, "p99 {p99:?} is over the {P99_TARGET:?} target");
        assert!(bad <= good + 2048, "a burst of bad signatures grew memory by {bad} KiB vs {good} KiB for valid ones");
    });
}
