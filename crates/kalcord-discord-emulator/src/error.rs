//! Errors of the emulator's own API (not the Discord errors it answers).

use std::net::SocketAddr;

/// What can go wrong driving the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The schema validator was configured but cannot run.
    #[error("{0}")]
    Validator(String),
    /// A world change was refused (unknown guild, duplicate id, ...); the text is Discord's error body.
    #[error("world change refused: {0}")]
    World(String),
    /// No interactions endpoint URL is configured.
    #[error("no interactions endpoint url is configured")]
    NoInteractionsUrl,
    /// The interaction to send refers to something that does not exist.
    #[error("cannot build the interaction: {0}")]
    Interaction(String),
    /// Something the emulator could not do.
    #[error("emulator failure: {0}")]
    Internal(String),
}

impl EmulatorError {
    pub(crate) fn world(error: &crate::api_error::ApiError) -> Self {
        Self::World(error.body.to_string())
    }
}
