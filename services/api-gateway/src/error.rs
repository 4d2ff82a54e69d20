//! Errors returned to HTTP clients, as `{message, code, type, link}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Kind of an error, as reported in the `type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// The request is wrong.
    InvalidRequest,
    /// Authentication failed.
    Auth,
    /// Something on our side or upstream failed.
    Internal,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Auth => "auth",
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
}

impl ApiError {
    /// An error with a message safe to show to the client.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
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
        HttpResponse::build(self.code.status).json(serde_json::json!({
            "message": self.message,
            "code": self.code.name,
            "type": self.code.kind.as_str(),
            "link": format!("https://github.com/kalcord/kalcord/blob/main/docs/api.md#{}", self.code.name),
        }))
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
