//! Errors returned to HTTP clients, as `{message, code, type, link[, field]}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Kind of an error, as reported in the `type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// The request is wrong.
    InvalidRequest,
    /// Authentication failed.
    Auth,
    /// The request is understood but refused (permissions, state of the resource).
    Refused,
    /// Something on our side or upstream failed.
    Internal,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Auth => "auth",
            Self::Refused => "refused",
            Self::Internal => "internal",
        }
    }
}

/// One entry of the error table: name, kind and HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    /// Stable machine-readable name.
    pub name: &'static str,
    /// Kind.
    pub kind: ErrorType,
    /// HTTP status.
    pub status: StatusCode,
}

impl Code {
    /// No route matches the path.
    pub const NOT_FOUND: Self =
        Self { name: "not_found", kind: ErrorType::InvalidRequest, status: StatusCode::NOT_FOUND };
    /// The method is not allowed on this route.
    pub const METHOD_NOT_ALLOWED: Self =
        Self { name: "method_not_allowed", kind: ErrorType::InvalidRequest, status: StatusCode::METHOD_NOT_ALLOWED };
    /// The request is malformed.
    pub const BAD_REQUEST: Self =
        Self { name: "bad_request", kind: ErrorType::InvalidRequest, status: StatusCode::BAD_REQUEST };
    /// The request is not authenticated (e.g. a bad Discord signature).
    pub const UNAUTHORIZED: Self =
        Self { name: "unauthorized", kind: ErrorType::Auth, status: StatusCode::UNAUTHORIZED };
    /// The body is too large.
    pub const PAYLOAD_TOO_LARGE: Self =
        Self { name: "payload_too_large", kind: ErrorType::InvalidRequest, status: StatusCode::PAYLOAD_TOO_LARGE };
    /// The feature needs configuration that is missing.
    pub const NOT_CONFIGURED: Self =
        Self { name: "not_configured", kind: ErrorType::Internal, status: StatusCode::SERVICE_UNAVAILABLE };
    /// The bus did not carry the request to its service.
    pub const SERVICE_UNAVAILABLE: Self =
        Self { name: "service_unavailable", kind: ErrorType::Internal, status: StatusCode::SERVICE_UNAVAILABLE };
    /// A field of the request is invalid (the `field` names it).
    pub const INVALID: Self =
        Self { name: "invalid", kind: ErrorType::InvalidRequest, status: StatusCode::BAD_REQUEST };
    /// The `OAuth2` `state` is missing, expired or was not issued to this browser.
    pub const INVALID_STATE: Self =
        Self { name: "invalid_state", kind: ErrorType::Auth, status: StatusCode::BAD_REQUEST };
    /// Discord refused the sign-in (consent denied, code expired or already used).
    pub const OAUTH_FAILED: Self =
        Self { name: "oauth_failed", kind: ErrorType::Auth, status: StatusCode::BAD_REQUEST };
    /// The member may not do this.
    pub const FORBIDDEN: Self = Self { name: "forbidden", kind: ErrorType::Refused, status: StatusCode::FORBIDDEN };
    /// The resource changed or is in a state that refuses the request.
    pub const CONFLICT: Self = Self { name: "conflict", kind: ErrorType::Refused, status: StatusCode::CONFLICT };
    /// The guild is not linked to Kaltura yet (`/kaltura setup`).
    pub const GUILD_NOT_CONFIGURED: Self =
        Self { name: "guild_not_configured", kind: ErrorType::Refused, status: StatusCode::CONFLICT };
    /// Kaltura is not answering; retry after `Retry-After` seconds.
    pub const KALTURA_UNAVAILABLE: Self =
        Self { name: "kaltura_unavailable", kind: ErrorType::Internal, status: StatusCode::SERVICE_UNAVAILABLE };
    /// Kaltura refused the request.
    pub const KALTURA_REFUSED: Self =
        Self { name: "kaltura_refused", kind: ErrorType::Internal, status: StatusCode::BAD_GATEWAY };
    /// Discord did not answer as expected.
    pub const DISCORD_UNAVAILABLE: Self =
        Self { name: "discord_unavailable", kind: ErrorType::Internal, status: StatusCode::BAD_GATEWAY };
    /// Unexpected failure.
    pub const INTERNAL: Self =
        Self { name: "internal", kind: ErrorType::Internal, status: StatusCode::INTERNAL_SERVER_ERROR };
}

/// Maps an error to its [`Code`].
pub trait ErrorCode {
    /// The code.
    fn error_code(&self) -> Code;
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    code: Code,
    message: String,
    field: Option<String>,
    retry_after: Option<u32>,
}

impl ApiError {
    /// An error with a message safe to show to the client.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, retry_after: None }
    }

    /// The same error naming the offending field.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into()).filter(|field: &String| !field.is_empty());
        self
    }

    /// The same error with a `Retry-After` header (seconds).
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The offending field, when one is named.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> Code {
        self.code
    }
}

impl<E: ErrorCode + std::fmt::Display> From<&E> for ApiError {
    fn from(err: &E) -> Self {
        Self::new(err.error_code(), err.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = serde_json::json!({
            "message": self.message,
            "code": self.code.name,
            "type": self.code.kind.as_str(),
            "link": format!("https://github.com/kalcord/kalcord/blob/main/docs/api.md#{}", self.code.name),
        });
        if let Some(field) = &self.field {
            body["field"] = serde_json::Value::from(field.as_str());
        }
        let mut response = HttpResponse::build(self.code.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(body)
    }
}

impl ErrorCode for kalcord_bus::BusError {
    fn error_code(&self) -> Code {
        match self {
            Self::Timeout { .. } | Self::NoResponders { .. } | Self::Connect { .. } | Self::Closed => {
                Code::SERVICE_UNAVAILABLE
            }
            _ => Code::INTERNAL,
        }
    }
}

/// Answers unknown routes with a JSON 404.
pub async fn not_found(request: actix_web::HttpRequest) -> HttpResponse {
    ApiError::new(Code::NOT_FOUND, format!("no route for {} {}", request.method(), request.path())).error_response()
}
