//! Errors members can read: a stable `code`, a safe sentence, the offending field.

use kalcord_proto::v1::Error;

/// `invalid`: the request is malformed or a field is out of range.
pub(crate) fn invalid(field: &str, message: &str) -> Error {
    Error { code: "invalid".to_owned(), message: message.to_owned(), field: field.to_owned() }
}

/// An error without a field.
pub(crate) fn error(code: &str, message: &str) -> Error {
    Error { code: code.to_owned(), message: message.to_owned(), field: String::new() }
}

/// `internal`, after logging the cause (which never holds a secret).
pub(crate) fn internal(what: &str, cause: &(dyn std::error::Error + 'static)) -> Error {
    tracing::error!(error = %kalcord_runtime::chain(cause), "{what}");
    error("internal", "Something went wrong on our side; try again in a moment.")
}

/// The payload could not be decoded.
pub(crate) fn unreadable() -> Error {
    invalid("", "The request could not be read.")
}

/// The request has no actor.
pub(crate) fn no_actor() -> Error {
    invalid("actor", "The request does not say who is acting.")
}
