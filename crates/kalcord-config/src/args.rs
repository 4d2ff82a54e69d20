//! Command-line flags shared by every binary.

use std::path::PathBuf;

use crate::error::ConfigError;
use crate::source::{ENV_CONFIG_FILE, Sources};

/// Configuration flags, flattened into each binary's `clap` parser.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file (default: the `KALCORD_CONFIG` environment variable, if set).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one configuration key, e.g. `--set api_gateway.listen=127.0.0.1:9000` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print every configuration key with its environment variable, default and meaning, then exit.
    #[arg(long)]
    pub help_config: bool,
}

impl ConfigArgs {
    /// Builds the layered sources: the file, then `env`, then the `--set` flags.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or parsed, or a `--set` flag is malformed.
    pub fn sources<I, K, V>(&self, env: I) -> Result<Sources, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let sources = Sources::empty().with_env(env);
        let file = self.config.clone().or_else(|| sources.env_var(ENV_CONFIG_FILE).map(PathBuf::from));
        let sources = match file {
            Some(path) => sources.with_file(&path)?,
            None => sources,
        };
        sources.with_cli(&self.set)
    }
}
