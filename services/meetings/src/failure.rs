//! Why a request failed, as the member sees it: the proto [`Error`] with a stable code and a
//! sentence that never holds a secret.

use kalcord_kaltura::{ApiError, KalturaError};
use kalcord_proto::v1::Error;
use kalcord_store::StoreError;
use kalcord_tenant::TenantError;

/// Stable codes of [`Error::code`].
pub mod code {
    /// The request is malformed or a field is out of range (`field` names it).
    pub const INVALID: &str = "invalid";
    /// The member may not do this.
    pub const FORBIDDEN: &str = "forbidden";
    /// No such meeting in the member's guild.
    pub const NOT_FOUND: &str = "not_found";
    /// The meeting is not in a state (or at a version) that allows this.
    pub const CONFLICT: &str = "conflict";
    /// The guild is not linked to Kaltura.
    pub const NOT_CONFIGURED: &str = "not_configured";
    /// Kaltura did not answer (or is rate limiting); trying again later may work.
    pub const KALTURA_UNAVAILABLE: &str = "kaltura_unavailable";
    /// Kaltura refused the request for good.
    pub const KALTURA_REFUSED: &str = "kaltura_refused";
    /// Something on our side failed.
    pub const INTERNAL: &str = "internal";
}

/// What a Kaltura outage during creation tells the member.
pub const KALTURA_UNAVAILABLE_MESSAGE: &str =
    "Kaltura is not answering right now; nothing was created. Please try again in a minute.";
/// What a guild without a Kaltura partner tells the member.
pub const NOT_CONFIGURED_MESSAGE: &str =
    "This server is not linked to Kaltura yet; a server manager can run /kaltura setup.";
/// What a non-host trying to create a meeting is told.
pub const ONLY_HOSTS_MESSAGE: &str =
    "Only hosts can start meetings. Ask a server manager to map your role with /kaltura roles map.";
/// What a transition out of a final state tells the member.
pub const ALREADY_ENDED_MESSAGE: &str = "This meeting has already ended.";

/// A refusal for the member; converts into the proto [`Error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// One of [`code`].
    pub code: &'static str,
    /// A sentence for the member.
    pub message: String,
    /// The offending field(s) for `invalid`, comma-separated; empty otherwise.
    pub field: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: String::new() }
    }

    /// `invalid`, naming the field.
    #[must_use]
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code::INVALID, message: message.into(), field: field.into() }
    }

    /// `forbidden`.
    #[must_use]
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(code::FORBIDDEN, message)
    }

    /// `not_found`: the same answer whether the meeting is missing or in another guild.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(code::NOT_FOUND, "That meeting does not exist (or is not in this server).")
    }

    /// `conflict`.
    #[must_use]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(code::CONFLICT, message)
    }

    /// `not_configured`.
    #[must_use]
    pub fn not_configured(message: impl Into<String>) -> Self {
        Self::new(code::NOT_CONFIGURED, message)
    }

    /// `kaltura_unavailable`.
    #[must_use]
    pub fn kaltura_unavailable(message: impl Into<String>) -> Self {
        Self::new(code::KALTURA_UNAVAILABLE, message)
    }

    /// `kaltura_refused`.
    #[must_use]
    pub fn kaltura_refused(message: impl Into<String>) -> Self {
        Self::new(code::KALTURA_REFUSED, message)
    }

    /// `internal`.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(code::INTERNAL, message)
    }

    /// `internal` after a database failure (logged here, never shown).
    #[must_use]
    pub fn store(err: &StoreError) -> Self {
        tracing::error!(error = %err, "meetings store operation failed");
        Self::internal("Something went wrong on our side; please try again.")
    }

    /// Combines several `invalid` failures into one naming every field.
    ///
    /// Returns `None` when `failures` is empty.
    #[must_use]
    pub fn combine(failures: Vec<Self>) -> Option<Self> {
        let mut failures = failures.into_iter();
        let first = failures.next()?;
        Some(failures.fold(first, |mut all, next| {
            all.field = format!("{},{}", all.field, next.field);
            all.message = format!("{} {}", all.message, next.message);
            all
        }))
    }

    /// The failure of creating Kaltura objects (nothing was kept).
    #[must_use]
    pub fn from_kaltura(err: &KalturaError) -> Self {
        if is_transient(err) {
            tracing::warn!(error = %err, "kaltura is unavailable");
            Self::kaltura_unavailable(KALTURA_UNAVAILABLE_MESSAGE)
        } else if matches!(err, KalturaError::InvalidArgument(_)) {
            tracing::error!(error = %err, "kaltura call refused before sending");
            Self::internal("Something went wrong on our side; nothing was created.")
        } else {
            tracing::warn!(error = %err, "kaltura refused the request");
            Self::kaltura_refused(
                "Kaltura refused to create the meeting; nothing was created. A server manager can check /kaltura status.",
            )
        }
    }

    /// The failure of finding the guild's Kaltura partner.
    #[must_use]
    pub fn from_tenant(err: &TenantError) -> Self {
        match err {
            TenantError::NotConfigured => Self::not_configured(NOT_CONFIGURED_MESSAGE),
            TenantError::SecretMissing => Self::not_configured(
                "This server's Kaltura secret is missing; a server manager can run /kaltura setup again.",
            ),
            TenantError::Kaltura(err) => Self::from_kaltura(err),
            other => {
                tracing::error!(error = %other, "cannot resolve the guild's kaltura partner");
                Self::internal("Something went wrong on our side; nothing was created.")
            }
        }
    }
}

/// Whether a Kaltura failure may go away by itself (rate limit, outage, timeout, breaker).
#[must_use]
pub fn is_transient(err: &KalturaError) -> bool {
    match err {
        KalturaError::Api { error, .. } => {
            matches!(error, ApiError::ActionBlocked { .. } | ApiError::InternalServerError)
        }
        KalturaError::Http { status, .. } => *status == 429 || *status >= 500,
        KalturaError::Timeout { .. }
        | KalturaError::Transport { .. }
        | KalturaError::CircuitOpen { .. }
        | KalturaError::Decode { .. } => true,
        _ => false,
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        Self { code: failure.code.to_owned(), message: failure.message, field: failure.field }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_names_every_field() {
        let _trace = kalcord_test_util::trace_init();
        let all =
            Failure::combine(vec![Failure::invalid("title", "Bad title."), Failure::invalid("kind", "Bad kind.")]);
        let all = all.expect("two failures");
        assert_eq!(all.field, "title,kind");
        assert_eq!(all.message, "Bad title. Bad kind.");
        assert_eq!(Failure::combine(Vec::new()), None);
    }

    #[test]
    fn rate_limits_and_outages_are_transient() {
        let _trace = kalcord_test_util::trace_init();
        let blocked = KalturaError::Api {
            service: "s".into(),
            action: "a".into(),
            error: ApiError::ActionBlocked { action: "a".into(), service: "s".into() },
        };
        assert!(is_transient(&blocked));
        let http = |status| KalturaError::Http { service: "s".into(), action: "a".into(), status };
        assert!(is_transient(&http(503)));
        assert!(!is_transient(&http(404)));
        let forbidden = KalturaError::Api {
            service: "s".into(),
            action: "a".into(),
            error: ApiError::ServiceForbidden { service: "s".into() },
        };
        assert_eq!(Failure::from_kaltura(&forbidden).code, code::KALTURA_REFUSED);
        assert_eq!(Failure::from_kaltura(&http(502)).message, KALTURA_UNAVAILABLE_MESSAGE);
    }
}
