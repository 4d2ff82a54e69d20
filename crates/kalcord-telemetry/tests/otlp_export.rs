//! Spans reach an OTLP/HTTP collector, and the log filter can be changed at run time.
//!
//! One test per binary: it installs the process-wide subscriber.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use kalcord_telemetry::{LogFormat, TelemetryConfig, TelemetryError};

/// A minimal OTLP/HTTP collector: records each request's path, content type and body.
fn collector() -> (url::Url, mpsc::Receiver<(String, String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut content_type) = (0usize, String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "content-type" => content_type = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            let _ = tx.send((path, content_type, body));
        }
    });
    (url, rx)
}

#[test]
fn spans_are_exported_and_filter_reloads() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (endpoint, received) = collector();
    let config = TelemetryConfig {
        log_format: LogFormat::Json,
        otlp_endpoint: Some(endpoint),
        otlp_timeout: Duration::from_secs(5),
        ..TelemetryConfig::default()
    };
    let telemetry = kalcord_telemetry::init(&config, "kalcord-otlp-test").unwrap();
    assert!(matches!(kalcord_telemetry::init(&config, "again"), Err(TelemetryError::AlreadyInstalled)));
    {
        let span = tracing::info_span!("otlp_probe_span", answer = 42);
        let _entered = span.enter();
        assert!(kalcord_telemetry::propagation::trace_id(&span).is_some());
    }
    telemetry.shutdown();

    let (path, content_type, body) =
        received.recv_timeout(Duration::from_secs(10)).expect("no export reached the collector");
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/x-protobuf");
    let contains = |needle: &[u8]| body.windows(needle.len()).any(|window| window == needle);
    assert!(contains(b"otlp_probe_span"), "span name missing from the export");
    assert!(contains(b"kalcord-otlp-test"), "service.name missing from the export");

    let initial = kalcord_telemetry::log_filter().unwrap();
    assert!(initial.contains("kalcord=info") && initial.contains("warn"), "{initial}");
    kalcord_telemetry::set_log_filter("debug").unwrap();
    assert_eq!(kalcord_telemetry::log_filter().as_deref(), Some("debug"));
    assert!(matches!(kalcord_telemetry::set_log_filter("[[nonsense"), Err(TelemetryError::Filter { .. })));
}
