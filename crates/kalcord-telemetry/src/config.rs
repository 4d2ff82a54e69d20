//! The `telemetry.*` section.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use kalcord_config::{Reader, Section};
use url::Url;

/// Default log filter: our crates at info, everything else at warn.
pub const DEFAULT_LOG_FILTER: &str = "warn,kalcord=info";
/// Default filter of spans that carry trace context: everything at info and above.
pub const DEFAULT_TRACE_FILTER: &str = "info";
/// Default timeout of one OTLP export.
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(5);

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Plain,
    /// One JSON object per line (for log collectors in clusters).
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "plain" => Ok(Self::Plain),
            "json" => Ok(Self::Json),
            _ => Err("expected `plain` or `json`".to_owned()),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain => "plain",
            Self::Json => "json",
        })
    }
}

/// How a process logs, traces and samples.
#[derive(Clone, Debug)]
pub struct TelemetryConfig {
    /// Log line format.
    pub log_format: LogFormat,
    /// `tracing` filter directives.
    pub log_filter: String,
    /// Base URL of an OTLP/HTTP collector; spans go to `<endpoint>/v1/traces`.
    pub otlp_endpoint: Option<Url>,
    /// Timeout of one export.
    pub otlp_timeout: Duration,
    /// Share of new traces that are recorded, 0.0 to 1.0.
    pub sample_ratio: f64,
    /// `tracing` filter directives for spans that become OpenTelemetry spans.
    pub trace_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Plain,
            log_filter: DEFAULT_LOG_FILTER.to_owned(),
            otlp_endpoint: None,
            otlp_timeout: DEFAULT_OTLP_TIMEOUT,
            sample_ratio: 1.0,
            trace_filter: DEFAULT_TRACE_FILTER.to_owned(),
        }
    }
}

impl Section for TelemetryConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let config = Self {
            log_format: r.get("log_format", LogFormat::Plain, "Log format: `plain` or `json`."),
            log_filter: r.get(
                "log_filter",
                DEFAULT_LOG_FILTER.to_owned(),
                "Log filter (`tracing` directives); can be changed at run time on the admin port.",
            ),
            otlp_endpoint: r.get_opt(
                "otlp_endpoint",
                "Base URL of an OTLP/HTTP collector (e.g. `http://otel-collector:4318`); unset disables span export.",
            ),
            otlp_timeout: r.duration("otlp_timeout", DEFAULT_OTLP_TIMEOUT, "Timeout of one span export."),
            sample_ratio: r.get(
                "sample_ratio",
                1.0,
                "Share of new traces recorded, 0.0 to 1.0 (child spans follow their parent).",
            ),
            trace_filter: r.get(
                "trace_filter",
                DEFAULT_TRACE_FILTER.to_owned(),
                "Which spans become trace spans (`tracing` directives), independent of the log filter.",
            ),
        };
        for (name, filter) in [("log_filter", &config.log_filter), ("trace_filter", &config.trace_filter)] {
            if tracing_subscriber::EnvFilter::try_new(filter).is_err() {
                r.invalid(name, "not a valid tracing filter");
            }
        }
        if !(0.0..=1.0).contains(&config.sample_ratio) {
            r.invalid("sample_ratio", "must be between 0.0 and 1.0");
        }
        config
    }
}
