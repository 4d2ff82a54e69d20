//! Errors of the emulator's own API (not the Kaltura API errors it emulates).

use std::net::SocketAddr;

/// What can go wrong driving the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No such partner.
    #[error("unknown partner {0}")]
    UnknownPartner(i64),
    /// A partner with this id exists already.
    #[error("partner {0} exists already")]
    DuplicatePartner(i64),
    /// A partner configuration is unusable.
    #[error("invalid partner configuration: {0}")]
    InvalidPartner(String),
    /// Webhook targets must be `http://127.0.0.1:PORT/...`.
    #[error("webhook url {0:?} is not an http://127.0.0.1 url")]
    WebhookUrl(String),
    /// No such room (schedule resource or event) for a simulated recording.
    #[error("no active {kind} {id} for partner {partner_id}")]
    NoSuchRoom {
        /// `resource` or `event`.
        kind: &'static str,
        /// The id asked for.
        id: i64,
        /// Partner.
        partner_id: i64,
    },
    /// A recording needs exactly one of a resource id and an event id.
    #[error("a recording needs a resource id or an event id")]
    RecordingTarget,
    /// Something the emulator could not do (an HTTP client could not be built, ...).
    #[error("emulator failure: {0}")]
    Internal(String),
}
