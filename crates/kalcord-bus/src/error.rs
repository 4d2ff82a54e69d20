//! Bus errors.

use std::time::Duration;

/// A bus operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// No reply arrived within the timeout.
    #[error("no reply on {subject} within {after:?}")]
    Timeout {
        /// Request subject.
        subject: String,
        /// Timeout that expired.
        after: Duration,
    },
    /// Nobody serves the subject.
    #[error("no service answers on {subject}")]
    NoResponders {
        /// Request subject.
        subject: String,
    },
    /// The connection to the broker could not be made.
    #[error("cannot connect to the bus at {url}: {message}")]
    Connect {
        /// Broker URL without credentials.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A broker operation failed.
    #[error("bus {operation} on {target} failed: {message}")]
    Broker {
        /// What was attempted (`publish`, `create stream`, ...).
        operation: &'static str,
        /// Subject, stream or consumer concerned.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// A message was not a valid protobuf of the expected type.
    #[error("cannot decode the message on {subject}")]
    Decode {
        /// Subject it arrived on.
        subject: String,
        /// Decoder error.
        #[source]
        source: prost::DecodeError,
    },
    /// The subject has no stream that stores it.
    #[error("no stream stores subject {0}")]
    NoStream(String),
    /// The bus is closed.
    #[error("the bus is closed")]
    Closed,
}

impl BusError {
    pub(crate) fn broker(operation: &'static str, target: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Self::Broker { operation, target: target.into(), message: err.to_string() }
    }
}
