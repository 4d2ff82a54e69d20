//! Errors: the API's own (`KalturaAPIException`) and everything around a call.

use std::collections::BTreeMap;
use std::time::Duration;

/// A `KalturaAPIException` the server answered (HTTP 200, `{code, message, args}`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// `INVALID_KS`: unparseable, badly signed, expired or revoked session.
    #[error("invalid ks ({code},{description})")]
    InvalidKs {
        /// `ERR_CODE`, e.g. `-1`.
        code: String,
        /// `ERR_DESC`, e.g. `INVALID_STR`.
        description: String,
    },
    /// `MISSING_KS`.
    #[error("missing ks")]
    MissingKs,
    /// `SERVICE_FORBIDDEN`: the session may not call this.
    #[error("access to {service} is forbidden")]
    ServiceForbidden {
        /// `service->action`.
        service: String,
    },
    /// `ACTION_BLOCKED`: rate limited.
    #[error("action {action} of {service} is blocked")]
    ActionBlocked {
        /// Action.
        action: String,
        /// Service.
        service: String,
    },
    /// `INVALID_USER_ID`.
    #[error("invalid user id")]
    InvalidUserId,
    /// `DUPLICATE_USER_BY_ID`.
    #[error("user {user_id} already exists")]
    DuplicateUserById {
        /// User id.
        user_id: String,
    },
    /// `ENTRY_ID_NOT_FOUND`.
    #[error("entry {entry_id} not found")]
    EntryIdNotFound {
        /// Entry id.
        entry_id: String,
    },
    /// `INVALID_OBJECT_ID`.
    #[error("invalid object id {id}")]
    InvalidObjectId {
        /// Id (`event,resource` for event-resource links).
        id: String,
    },
    /// `PROPERTY_VALIDATION_*`: a property is missing, read-only or out of range.
    #[error("{code}: {property}")]
    PropertyValidation {
        /// Exact code, e.g. `PROPERTY_VALIDATION_CANNOT_BE_NULL`.
        code: String,
        /// `KalturaClass::property`.
        property: String,
    },
    /// `INTERNAL_SERVERL_ERROR` (sic).
    #[error("kaltura internal server error")]
    InternalServerError,
    /// Any other code.
    #[error("{code}: {message}")]
    Other {
        /// Code.
        code: String,
        /// Message.
        message: String,
        /// Arguments by name.
        args: BTreeMap<String, String>,
    },
}

impl ApiError {
    /// Builds the typed error from the wire fields.
    #[must_use]
    pub fn from_wire(code: &str, message: &str, args: BTreeMap<String, String>) -> Self {
        let arg = |name: &str| args.get(name).cloned().unwrap_or_default();
        match code {
            "INVALID_KS" => Self::InvalidKs { code: arg("ERR_CODE"), description: arg("ERR_DESC") },
            "MISSING_KS" => Self::MissingKs,
            "SERVICE_FORBIDDEN" => Self::ServiceForbidden { service: arg("SERVICE") },
            "ACTION_BLOCKED" => Self::ActionBlocked { action: arg("ACTION_NAME"), service: arg("SERVICE_NAME") },
            "INVALID_USER_ID" => Self::InvalidUserId,
            "DUPLICATE_USER_BY_ID" => Self::DuplicateUserById { user_id: arg("UID") },
            "ENTRY_ID_NOT_FOUND" => Self::EntryIdNotFound { entry_id: arg("ENTRY_ID") },
            "INVALID_OBJECT_ID" => Self::InvalidObjectId { id: arg("ID") },
            "INTERNAL_SERVERL_ERROR" => Self::InternalServerError,
            code if code.starts_with("PROPERTY_VALIDATION_") => {
                Self::PropertyValidation { code: code.to_owned(), property: arg("PROP_NAME") }
            }
            _ => Self::Other { code: code.to_owned(), message: message.to_owned(), args },
        }
    }

    /// The wire code.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidKs { .. } => "INVALID_KS",
            Self::MissingKs => "MISSING_KS",
            Self::ServiceForbidden { .. } => "SERVICE_FORBIDDEN",
            Self::ActionBlocked { .. } => "ACTION_BLOCKED",
            Self::InvalidUserId => "INVALID_USER_ID",
            Self::DuplicateUserById { .. } => "DUPLICATE_USER_BY_ID",
            Self::EntryIdNotFound { .. } => "ENTRY_ID_NOT_FOUND",
            Self::InvalidObjectId { .. } => "INVALID_OBJECT_ID",
            Self::InternalServerError => "INTERNAL_SERVERL_ERROR",
            Self::PropertyValidation { code, .. } | Self::Other { code, .. } => code,
        }
    }
}

/// A call to Kaltura failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KalturaError {
    /// The server answered with an API error.
    #[error("kaltura {service}.{action} failed")]
    Api {
        /// Service called.
        service: String,
        /// Action called.
        action: String,
        /// The error.
        #[source]
        error: ApiError,
    },
    /// No answer in time.
    #[error("kaltura {service}.{action} timed out after {after:?}")]
    Timeout {
        /// Service called.
        service: String,
        /// Action called.
        action: String,
        /// Timeout.
        after: Duration,
    },
    /// The connection failed.
    #[error("cannot reach kaltura at {url}")]
    Transport {
        /// Service URL.
        url: String,
        /// Transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A non-200 HTTP status (a proxy or the server itself failing).
    #[error("kaltura answered HTTP {status} to {service}.{action}")]
    Http {
        /// Service called.
        service: String,
        /// Action called.
        action: String,
        /// Status code.
        status: u16,
    },
    /// The answer could not be understood.
    #[error("unexpected answer to {service}.{action}: {reason}")]
    Decode {
        /// Service called.
        service: String,
        /// Action called.
        action: String,
        /// What did not fit.
        reason: String,
    },
    /// Recent calls to this partner failed; calls fail fast until the cool-down ends.
    #[error("kaltura partner {partner_id} is failing; calls suspended for {remaining:?}")]
    CircuitOpen {
        /// Partner.
        partner_id: i64,
        /// Time left before a trial call.
        remaining: Duration,
    },
    /// An argument was refused before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl KalturaError {
    /// The API error, if the server answered with one.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api { error, .. } => Some(error),
            _ => None,
        }
    }
}
