//! The request pipeline shared by every REST route.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{self, Caller};
use super::route::{self, Match, RouteDef};
use super::{Ctx, body};
use crate::api_error::{ApiError, FormErrors};
use crate::faults::{self, FaultAction};
use crate::ratelimit::{BucketHeaders, Limited, RouteKey, Verdict, bucket_id};
use crate::records::{RequestRecord, SchemaViolation};
use crate::state::Inner;

/// Records kept (older ones are dropped).
const MAX_RECORDS: usize = 100_000;

/// An answer under construction.
#[derive(Debug)]
struct Outcome {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    violations: Vec<SchemaViolation>,
    parsed: Option<Value>,
}

impl Outcome {
    fn new(status: u16, body: Option<Value>) -> Self {
        Self { status, body, headers: Vec::new(), violations: Vec::new(), parsed: None }
    }

    fn bucket_headers(&mut self, bucket: &BucketHeaders) {
        self.headers.extend([
            ("X-RateLimit-Limit", bucket.limit.to_string()),
            ("X-RateLimit-Remaining", bucket.remaining.to_string()),
            ("X-RateLimit-Reset", format!("{:.3}", bucket.reset_unix)),
            ("X-RateLimit-Reset-After", format!("{:.3}", bucket.reset_after)),
            ("X-RateLimit-Bucket", bucket.bucket.clone()),
            ("X-RateLimit-Scope", "user".to_owned()),
        ]);
    }
}

impl From<ApiError> for Outcome {
    fn from(error: ApiError) -> Self {
        Self::new(error.status, Some(error.body))
    }
}

/// The API path without `/api` and the version segment.
fn api_path(path: &str) -> String {
    let rest = path.strip_prefix("/api").unwrap_or(path);
    let rest = match rest.strip_prefix("/v") {
        Some(tail) if tail.chars().next().is_some_and(|first| first.is_ascii_digit()) => {
            tail.find('/').map_or("", |at| &tail[at..])
        }
        _ => rest,
    };
    if rest.is_empty() { "/".to_owned() } else { rest.to_owned() }
}

/// Entry point of every `/api/...` request.
pub(crate) async fn handle(request: HttpRequest, bytes: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let method = request.method().as_str().to_ascii_uppercase();
    let path = api_path(request.path());
    let (outcome, template, who) = process(&request, &bytes, &inner, &method, &path).await;
    if !who.is_empty() {
        inner.limiter.record_status(&who, outcome.status);
    }
    record(&inner, &request, &method, template, &outcome);
    render(outcome)
}

async fn process(
    request: &HttpRequest,
    bytes: &[u8],
    inner: &Inner,
    method: &str,
    path: &str,
) -> (Outcome, Option<&'static str>, String) {
    let (route, params) = match route::find(method, path) {
        Match::Found(route, params) => (route, params),
        Match::WrongMethod => return (ApiError::method_not_allowed().into(), None, String::new()),
        Match::NotFound => return (ApiError::not_found().into(), None, String::new()),
    };
    let (caller, who) = auth::identify(request, &inner.world.lock());
    let fault = faults::take(&mut inner.faults.lock(), method, path);
    match fault {
        Some(FaultAction::Delay { millis }) => tokio::time::sleep(Duration::from_millis(millis)).await,
        Some(FaultAction::RateLimited { retry_after, global }) => {
            return (scripted_429(inner, route, retry_after, global), Some(route.template), who);
        }
        Some(FaultAction::Status { status }) => return (status_outcome(status).into(), Some(route.template), who),
        None => {}
    }
    let key = RouteKey {
        method: method.to_owned(),
        template: route.template,
        major: route::major(route, &params),
        exempt_global: route::exempt_global(route),
    };
    let bucket = match inner.limiter.check(&who, who.starts_with("bot:"), &key) {
        Verdict::Allow(bucket) => bucket,
        Verdict::Limited(limited) => return (limited_outcome(&limited), Some(route.template), who),
    };
    let mut outcome = run(request, bytes, inner, route, &params, &caller, method, path).await;
    outcome.bucket_headers(&bucket);
    (outcome, Some(route.template), who)
}

#[allow(clippy::too_many_arguments)] // NOTE: the pipeline's pieces, passed once.
async fn run(
    request: &HttpRequest,
    bytes: &[u8],
    inner: &Inner,
    route: &RouteDef,
    params: &route::Params,
    caller: &Caller,
    method: &str,
    path: &str,
) -> Outcome {
    if let Err(error) = auth::check(route.auth, caller) {
        return error.into();
    }
    let content_type = request.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let parsed = if matches!(method, "GET" | "DELETE") {
        Ok((body::Kind::Empty, None))
    } else {
        body::parse(content_type, bytes)
    };
    let (kind, body) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into(),
    };
    let mut violations = Vec::new();
    if let Some(error) = validate(inner, route, kind, body.as_ref(), method, path, &mut violations).await {
        let mut outcome = Outcome::from(error);
        outcome.violations = violations;
        outcome.parsed = body;
        return outcome;
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().collect();
    let ctx = Ctx { inner, params, query: &query, body: body.as_ref(), kind, caller };
    let mut outcome = match (route.handler)(&ctx) {
        Ok(reply) => Outcome::new(reply.status, reply.body),
        Err(error) => error.into(),
    };
    outcome.parsed = body;
    outcome
}

/// Runs the schema validator (when configured) on JSON and multipart bodies of REST routes.
async fn validate(
    inner: &Inner,
    route: &RouteDef,
    kind: body::Kind,
    body: Option<&Value>,
    method: &str,
    path: &str,
    violations: &mut Vec<SchemaViolation>,
) -> Option<ApiError> {
    let (Some(validator), Some(body)) = (&inner.validator, body) else { return None };
    if kind == body::Kind::Form || route.auth == route::Auth::Client {
        return None;
    }
    let mut payload = body.clone();
    if let Value::Object(map) = &mut payload {
        map.remove("files");
    }
    match validator.validate(method, path, &payload).await {
        Ok(verdict) if verdict.ok => None,
        Ok(verdict) => {
            let mut errors = FormErrors::default();
            for issue in &verdict.issues {
                let at: Vec<String> =
                    issue["path"].as_array().map(|path| path.iter().map(segment).collect()).unwrap_or_default();
                errors.add_owned(
                    &at,
                    issue["code"].as_str().unwrap_or("BASE_TYPE_INVALID"),
                    issue["message"].as_str().unwrap_or(""),
                );
            }
            violations.push(SchemaViolation {
                method: method.to_owned(),
                path: path.to_owned(),
                operation: verdict.operation,
                issues: verdict.issues,
            });
            errors.into_error().or_else(|| Some(ApiError::form_root("BASE_TYPE_INVALID", "Invalid body.")))
        }
        Err(text) => {
            let issue = json!({"path": [], "code": "VALIDATOR_UNAVAILABLE", "message": text});
            violations.push(SchemaViolation {
                method: method.to_owned(),
                path: path.to_owned(),
                operation: None,
                issues: vec![issue],
            });
            Some(ApiError::new(500, 0, &format!("500: {text}")))
        }
    }
}

fn segment(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn status_outcome(status: u16) -> ApiError {
    match status {
        401 => ApiError::unauthorized(),
        403 => ApiError::missing_access(),
        404 => ApiError::not_found(),
        _ => {
            let reason = StatusCode::from_u16(status).ok().and_then(|code| code.canonical_reason()).unwrap_or("Error");
            ApiError::new(status, 0, &format!("{status}: {reason}"))
        }
    }
}

fn rate_limited_body(message: &str, retry_after: f64, global: bool) -> Value {
    json!({"message": message, "retry_after": (retry_after * 1000.0).round() / 1000.0, "global": global})
}

fn limited_outcome(limited: &Limited) -> Outcome {
    let mut outcome = Outcome::new(429, Some(rate_limited_body(limited.message, limited.retry_after, limited.global)));
    match &limited.bucket {
        Some(bucket) => outcome.bucket_headers(bucket),
        None => outcome
            .headers
            .extend([("X-RateLimit-Global", "true".to_owned()), ("X-RateLimit-Scope", "global".to_owned())]),
    }
    outcome.headers.push(("Retry-After", format!("{}", limited.retry_after.ceil().max(0.0))));
    outcome
}

fn scripted_429(inner: &Inner, route: &RouteDef, retry_after: f64, global: bool) -> Outcome {
    let bucket = (!global).then(|| {
        let limit = inner.limiter.limit_of(route.method, route.template);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        BucketHeaders {
            limit: limit.limit,
            remaining: 0,
            reset_unix: now + retry_after,
            reset_after: retry_after,
            bucket: bucket_id(route.method, route.template),
        }
    });
    let limited = Limited { retry_after, global, message: "You are being rate limited.", bucket };
    limited_outcome(&limited)
}

fn render(outcome: Outcome) -> HttpResponse {
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &outcome.headers {
        response.insert_header((*name, value.as_str()));
    }
    match outcome.body {
        Some(body) => response.content_type("application/json").body(body.to_string()),
        None => response.finish(),
    }
}

fn record(inner: &Inner, request: &HttpRequest, method: &str, template: Option<&'static str>, outcome: &Outcome) {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let text = value.to_str().unwrap_or_default();
            let shown = if name.as_str() == "authorization" { auth::redact(text) } else { text.to_owned() };
            (name.as_str().to_owned(), shown)
        })
        .collect();
    let user_agent = request.headers().get("user-agent").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let at_ms = inner.clock.now_ms();
    let mut log = inner.log.lock();
    log.next += 1;
    let entry = RequestRecord {
        seq: log.next,
        at_ms,
        method: method.to_owned(),
        path: request.path().to_owned(),
        route: template.map(str::to_owned),
        query: request.query_string().to_owned(),
        headers,
        user_agent,
        body: outcome.parsed.clone(),
        status: outcome.status,
        error_code: outcome
            .body
            .as_ref()
            .filter(|_| outcome.status >= 400)
            .and_then(|body| body.get("code"))
            .and_then(Value::as_u64),
        schema_violations: outcome.violations.clone(),
    };
    log.violations.extend(outcome.violations.iter().cloned());
    if log.requests.len() >= MAX_RECORDS {
        log.requests.remove(0);
    }
    log.requests.push(entry);
}

#[cfg(test)]
mod tests {
    use super::api_path;

    #[test]
    fn versions_are_stripped() {
        assert_eq!(api_path("/api/v10/channels/1/messages"), "/channels/1/messages");
        assert_eq!(api_path("/api/v9/gateway"), "/gateway");
        assert_eq!(api_path("/api/oauth2/token"), "/oauth2/token");
        assert_eq!(api_path("/api/v10"), "/");
        assert_eq!(api_path("/api/voice/regions"), "/voice/regions");
    }
}
