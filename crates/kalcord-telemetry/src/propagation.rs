//! W3C trace context carried across the bus in message headers.
//!
//! Publishers call [`inject`] to write `traceparent` (and `tracestate`) from the current span;
//! consumers call [`set_parent`] on the span that handles the message, so one trace follows
//! a request from the HTTP edge through every service it crosses.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Header holding the W3C trace parent.
pub const TRACEPARENT: &str = "traceparent";

struct SetFn<F>(F);

impl<F: FnMut(&str, String)> Injector for SetFn<F> {
    fn set(&mut self, key: &str, value: String) {
        (self.0)(key, value);
    }
}

struct GetFn<'a, F>(F, &'a [&'a str]);

impl<'a, F: Fn(&str) -> Option<&'a str>> Extractor for GetFn<'a, F> {
    fn get(&self, key: &str) -> Option<&str> {
        (self.0)(key)
    }

    fn keys(&self) -> Vec<&str> {
        self.1.to_vec()
    }
}

/// Writes the current span's trace context through `set(name, value)`.
pub fn inject(set: impl FnMut(&str, String)) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut SetFn(set));
}

/// Makes `span` a child of the trace context found through `get(name)`, if any.
pub fn set_parent<'a>(span: &tracing::Span, get: impl Fn(&str) -> Option<&'a str>) {
    let context = TraceContextPropagator::new().extract(&GetFn(get, &[]));
    if context.span().span_context().is_valid() {
        // NOTE: an error only means the span is disabled by the filter; nothing to carry then.
        let _ = span.set_parent(context);
    }
}

/// The trace id of `span` as 32 lowercase hex digits, if it has a valid context.
#[must_use]
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_ref = context.span();
    let span_context = span_ref.span_context();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}
