//! Errors raised while loading configuration.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The key's built-in default.
    Default,
    /// A key in the configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A `--set key=value` flag.
    Cli,
    /// The secrets file.
    SecretsFile(PathBuf),
    /// Vault/OpenBao KV v2.
    Vault,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(name) => write!(f, "env {name}"),
            Self::Cli => f.write_str("--set"),
            Self::SecretsFile(path) => write!(f, "secrets file {}", path.display()),
            Self::Vault => f.write_str("vault"),
        }
    }
}

/// One bad configuration key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted key, e.g. `api_gateway.listen`.
    pub key: String,
    /// Where the bad value came from.
    pub origin: Origin,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}): {}", self.key, self.origin, self.message)
    }
}

/// Every invalid field of one load, reported together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "{count} invalid configuration field{}:", if count == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

/// Loading configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration or secrets file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// File that could not be read.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration or secrets file is not valid TOML.
    #[error("{} is not valid TOML: {message}", path.display())]
    Parse {
        /// File that could not be parsed.
        path: PathBuf,
        /// Parser message, with line and column.
        message: String,
    },
    /// A `--set` flag is not of the form `key=value`.
    #[error("--set {0:?} is not of the form key=value")]
    BadFlag(String),
    /// The secrets file can be read by other users.
    #[error("secrets file {} has mode {mode:o}; it must not be readable by group or others (chmod 600 it)", path.display())]
    InsecureSecretsFile {
        /// Offending file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Secrets could not be read from Vault.
    #[error("cannot read secrets from vault at {addr} (mount {mount:?}, path {path:?}): {message}")]
    Vault {
        /// Vault address.
        addr: String,
        /// KV v2 mount.
        mount: String,
        /// Secret path under the mount.
        path: String,
        /// What went wrong (never contains a secret).
        message: String,
    },
    /// One or more keys are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
}

impl ConfigError {
    /// The list of invalid fields, if this is an [`ConfigError::Invalid`].
    #[must_use]
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Self::Invalid(errors) => &errors.0,
            _ => &[],
        }
    }
}
