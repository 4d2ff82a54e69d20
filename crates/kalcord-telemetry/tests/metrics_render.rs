//! Counters and histograms recorded through `metrics` render in the Prometheus format.

#[test]
fn metrics_render_as_prometheus_text() {
    kalcord_telemetry::install_metrics();
    metrics::counter!("kalcord_test_events_total", "kind" => "probe").increment(3);
    metrics::histogram!("kalcord_test_latency_seconds").record(0.003);
    let text = kalcord_telemetry::render_metrics();
    assert!(text.contains("kalcord_test_events_total{kind=\"probe\"} 3"), "{text}");
    assert!(text.contains("kalcord_test_latency_seconds_bucket{le=\"0.005\"} 1"), "{text}");
}
