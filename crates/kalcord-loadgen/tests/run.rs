//! The load generator against a small HTTP/1.1 keep-alive server on loopback: counts, checks,
//! and open-loop latency that includes the time a request waited to be sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use kalcord_loadgen::{Mode, Plan, Prepared, body_contains, run};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Serves `{"type":1}` after `delay`; every `fail_every`-th request (if any) gets a 503.
async fn server(delay: Duration, fail_every: Option<u64>) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/interactions", listener.local_addr().unwrap());
    let served = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&served);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let (head_end, length) = loop {
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|line| line.strip_prefix("content-length:"))
                                .and_then(|value| value.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while buffer.len() < head_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buffer.drain(..head_end + length);
                    let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(delay).await;
                    let (status, body) = match fail_every {
                        Some(every) if number.is_multiple_of(every) => ("503 Service Unavailable", "busy"),
                        _ => ("200 OK", r#"{"type":1}"#),
                    };
                    let answer = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, served)
}

fn requests(count: usize) -> Arc<[Prepared]> {
    (0..count).map(|n| Prepared { body: Bytes::from(format!(r#"{{"type":1,"n":{n}}}"#)), headers: vec![] }).collect()
}

fn plan(url: &str, mode: Mode, duration: Duration, count: usize) -> Plan {
    Plan {
        url: url.parse().unwrap(),
        mode,
        duration,
        requests: requests(count),
        once: true,
        check: body_contains(r#""type":1"#),
        timeout: Duration::from_secs(30),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_sends_each_request_once_and_counts_every_answer() {
    let (url, served) = server(Duration::ZERO, None).await;
    let report = run(plan(&url, Mode::Closed { connections: 8 }, Duration::from_secs(30), 500)).await.unwrap();
    assert_eq!((report.sent, report.ok, report.failed()), (500, 500, 0), "{report}");
    assert_eq!(served.load(Ordering::SeqCst), 500);
    assert!(report.throughput > 0.0 && report.latency.max_ms >= report.latency.p50_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_reason() {
    let (url, _) = server(Duration::ZERO, Some(4)).await;
    let report = run(plan(&url, Mode::Closed { connections: 1 }, Duration::from_secs(30), 100)).await.unwrap();
    assert_eq!(report.ok, 75, "{report}");
    assert_eq!(report.errors.get("status 503"), Some(&25), "{report}");
    let nobody = run(plan("http://127.0.0.1:1/x", Mode::Closed { connections: 1 }, Duration::from_millis(200), 1))
        .await
        .unwrap();
    assert_eq!(nobody.ok, 0);
    assert!(nobody.errors.keys().any(|reason| reason.starts_with("connect")), "{nobody}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_counts_the_wait_of_requests_a_slow_target_could_not_take() {
    // One connection to a target that needs 50 ms per answer can serve 20/s; 100/s are offered
    // for half a second. A closed loop would report ~50 ms; the open loop reports the queue.
    let (url, _) = server(Duration::from_millis(50), None).await;
    let open = Mode::Open { rate: 100.0, connections: 1 };
    let report = run(plan(&url, open, Duration::from_millis(500), 1_000)).await.unwrap();
    assert_eq!((report.sent, report.ok), (50, 50), "{report}");
    assert!(report.latency.max_ms > 1_500.0, "the last request waited for the 49 before it: {report}");
    assert!(report.latency.p50_ms > 500.0, "{report}");
    assert!(report.throughput < 25.0, "{report}");

    let closed = run(plan(&url, Mode::Closed { connections: 1 }, Duration::from_millis(500), 1_000)).await.unwrap();
    assert!(closed.latency.p99_ms < 200.0, "{closed}");
}

#[tokio::test]
async fn only_http_urls_with_something_to_send() {
    let mut bad = plan("https://127.0.0.1:1/x", Mode::Closed { connections: 1 }, Duration::from_millis(10), 1);
    assert!(run(bad.clone()).await.is_err());
    bad.url = "http://127.0.0.1:1/x".parse().unwrap();
    bad.requests = Arc::from(Vec::new());
    assert!(run(bad).await.is_err());
}
