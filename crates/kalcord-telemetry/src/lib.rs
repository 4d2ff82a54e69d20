#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]

mod config;
mod metric;
pub mod propagation;

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry, reload};

pub use config::{DEFAULT_LOG_FILTER, DEFAULT_OTLP_TIMEOUT, DEFAULT_TRACE_FILTER, LogFormat, TelemetryConfig};
pub use metric::{install_metrics, render_metrics};

/// Starting telemetry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The log filter does not parse.
    #[error("invalid log filter {filter:?}")]
    Filter {
        /// Rejected directives.
        filter: String,
        /// Parser error.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter for {endpoint}")]
    Exporter {
        /// Collector endpoint.
        endpoint: String,
        /// Builder error.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// A global subscriber is installed already.
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled,
    /// The filter reload handle is gone (telemetry was not started by [`init`]).
    #[error("log filter cannot be changed: telemetry was not started by kalcord-telemetry")]
    NoReload,
}

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Running telemetry; keep it alive for the life of the process and call [`Telemetry::shutdown`]
/// last so buffered spans reach the collector.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Flushes buffered spans and stops the exporter.
    pub fn shutdown(self) {
        if let Err(err) = self.provider.force_flush() {
            tracing::warn!(error = %err, "flushing spans failed");
        }
        if let Err(err) = self.provider.shutdown() {
            tracing::debug!(error = %err, "stopping the span exporter failed");
        }
    }
}

/// Installs the global subscriber, the span pipeline and the metrics recorder.
///
/// `service` names the process in spans (`service.name`) and in metrics.
///
/// # Errors
///
/// A bad log filter, an exporter that cannot be built, or a subscriber already installed.
pub fn init(config: &TelemetryConfig, service: &'static str) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|source| TelemetryError::Filter { filter: config.log_filter.clone(), source })?;
    let spans = EnvFilter::try_new(&config.trace_filter)
        .map_err(|source| TelemetryError::Filter { filter: config.trace_filter.clone(), source })?;
    let (filter, handle) = reload::Layer::new(filter);
    let provider = tracer_provider(config, service)?;
    let tracer = provider.tracer(service);
    let fmt = match config.log_format {
        LogFormat::Plain => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // NOTE: two filters: the log filter only decides what is printed; spans that carry trace
    // context across the bus follow `trace_filter`, so quieting logs never breaks traces.
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(spans))
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    let _ = FILTER.set(handle);
    install_metrics();
    Ok(Telemetry { provider })
}

fn tracer_provider(config: &TelemetryConfig, service: &'static str) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = &config.otlp_endpoint else {
        // NOTE: without an exporter spans are still given ids (so trace context crosses the bus
        // and links services that do export) but none is recorded.
        return Ok(builder.with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))).build());
    };
    let traces = endpoint.join("v1/traces").unwrap_or_else(|_| endpoint.clone());
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(traces.as_str())
        .with_timeout(config.otlp_timeout)
        .with_headers(std::collections::HashMap::new())
        .build()
        .map_err(|source| TelemetryError::Exporter { endpoint: traces.to_string(), source })?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio)));
    Ok(builder.with_sampler(sampler).with_batch_exporter(exporter).build())
}

/// Replaces the log filter of the running process (admin endpoint).
///
/// # Errors
///
/// A filter that does not parse, or telemetry not started by [`init`].
pub fn set_log_filter(directives: &str) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_new(directives)
        .map_err(|source| TelemetryError::Filter { filter: directives.to_owned(), source })?;
    let handle = FILTER.get().ok_or(TelemetryError::NoReload)?;
    handle.reload(filter).map_err(|_| TelemetryError::NoReload)
}

/// The current log filter, if telemetry was started by [`init`].
#[must_use]
pub fn log_filter() -> Option<String> {
    FILTER.get()?.with_current(ToString::to_string).ok()
}

/// Installs a subscriber for tests: spans always get a recorded trace context (so
/// propagation can be asserted), and log output goes to the test writer when `filter` is set.
///
/// Does nothing when a subscriber is already installed.
pub fn init_for_tests(filter: Option<&str>) {
    let provider = SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOn).build();
    let tracer = provider.tracer("kalcord-test");
    let fmt =
        filter.map(|filter| tracing_subscriber::fmt::layer().with_test_writer().with_filter(EnvFilter::new(filter)));
    let _ =
        tracing_subscriber::registry().with(fmt).with(tracing_opentelemetry::layer().with_tracer(tracer)).try_init();
    install_metrics();
}
