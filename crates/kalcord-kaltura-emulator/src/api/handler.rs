//! The HTTP face of `api_v3`: parameters in, faults, one call or a multirequest, JSON or XML out.

use std::time::{Duration, Instant};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};

use super::dispatch::{self, Outcome};
use super::errors::ApiError;
use super::params::{Param, Params, php_bool, to_json};
use super::{json, multirequest, request, xml};
use crate::model::{FaultKind, RequestRecord};
use crate::state::{Inner, push_capped};

/// Response format (§1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `format`: 1 JSON, 2 (or absent) XML, anything else `UNKNOWN_RESPONSE_FORMAT`.
fn parse_format(param: Option<&Param>) -> Result<Format, String> {
    match param {
        None | Some(Param::Null) => Ok(Format::Xml),
        Some(Param::Str(text)) => match text.trim().parse::<f64>() {
            Ok(value) if (value - 1.0).abs() < f64::EPSILON => Ok(Format::Json),
            Ok(value) if (value - 2.0).abs() < f64::EPSILON => Ok(Format::Xml),
            _ => Err(text.clone()),
        },
        Some(Param::Map(_)) => Err("Array".to_owned()),
    }
}

/// `ANY /api_v3/...`.
pub(crate) async fn api(req: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let started = Instant::now();
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let params = request::collect(req.uri().path(), req.query_string(), content_type.as_deref(), &body);
    let (service, action) = dispatch::names(&params);
    let (service_name, action_name) = (service.clone().unwrap_or_default(), action.clone().unwrap_or_default());
    tracing::debug!(service = %service_name, action = %action_name, method = %req.method(), "api_v3 request");
    log_request(&inner, &req, &params, service, action, content_type);
    let delay = inner.faults.lock().latency_for(&service_name, &action_name);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let injected = inner.faults.lock().take(&service_name, &action_name, true);
    if let Some(kind) = injected {
        return http_fault(kind).await;
    }
    let format = match parse_format(params.get("format")) {
        Ok(format) => format,
        Err(raw) => {
            let error: Outcome = Err(ApiError::new("UNKNOWN_RESPONSE_FORMAT", &[&raw]));
            return respond(Format::Xml, render(Format::Xml, &error, false, started), Some("UNKNOWN_RESPONSE_FORMAT"));
        }
    };
    let ignore_null = params.get("ignoreNull").and_then(Param::as_str).is_some_and(php_bool);
    if service_name == "multirequest" {
        let outcomes = multirequest::run(&inner, &params);
        let body = match format {
            Format::Json => json::render_multi(&outcomes),
            Format::Xml => xml::render_multi(&outcomes, ignore_null, seconds(started)),
        };
        return respond(format, body, None);
    }
    let outcome = dispatch::call(&inner, &params);
    let error_code = outcome.as_ref().err().map(|error| error.code.clone());
    respond(format, render(format, &outcome, ignore_null, started), error_code.as_deref())
}

fn render(format: Format, outcome: &Outcome, ignore_null: bool, started: Instant) -> String {
    match format {
        Format::Json => json::render(outcome),
        Format::Xml => xml::render(outcome, ignore_null, seconds(started)),
    }
}

fn seconds(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 10_000.0).round() / 10_000.0
}

fn respond(format: Format, body: String, error_code: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, if format == Format::Json { "application/json" } else { "text/xml" }));
    response.insert_header(("X-Me", "kalcord-kaltura-emulator"));
    response.insert_header(("X-Kaltura-Session", rand::random::<u32>().to_string()));
    if let Some(code) = error_code {
        response.insert_header(("X-Kaltura", format!("error-{code}")));
    }
    response.body(body)
}

async fn http_fault(kind: FaultKind) -> HttpResponse {
    let page = |status: &str| {
        format!("<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>")
    };
    match kind {
        FaultKind::Http502 => HttpResponse::BadGateway().content_type("text/html").body(page("502 Bad Gateway")),
        FaultKind::Http503 => HttpResponse::ServiceUnavailable()
            .content_type("text/html")
            .body(page("503 Service Temporarily Unavailable")),
        FaultKind::Hang | FaultKind::ActionBlocked | FaultKind::InvalidKs => loop {
            // NOTE: never answers; the client times out, or stop() drops the connection.
            tokio::time::sleep(Duration::from_hours(1)).await;
        },
    }
}

fn log_request(
    inner: &Inner,
    req: &HttpRequest,
    params: &Params,
    service: Option<String>,
    action: Option<String>,
    content_type: Option<String>,
) {
    let record = RequestRecord {
        seq: 0,
        at: inner.now(),
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        query: req.query_string().to_owned(),
        service,
        action,
        content_type,
        params: to_json(params),
    };
    let mut log = inner.log.lock();
    let seq = log.last().map_or(1, |last| last.seq + 1);
    push_capped(&mut log, RequestRecord { seq, ..record });
}

#[cfg(test)]
mod tests {
    use super::{Format, parse_format};
    use crate::api::params::Param;

    #[test]
    fn formats() {
        let text = |value: &str| Param::Str(value.to_owned());
        assert_eq!(parse_format(None), Ok(Format::Xml));
        assert_eq!(parse_format(Some(&text("1"))), Ok(Format::Json));
        assert_eq!(parse_format(Some(&text(" 2"))), Ok(Format::Xml));
        assert_eq!(parse_format(Some(&text("3"))), Err("3".to_owned()));
        assert_eq!(parse_format(Some(&text("json"))), Err("json".to_owned()));
    }
}
