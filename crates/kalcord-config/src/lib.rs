#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// NOTE: configuration errors are plain data; documenting every field's error cases adds noise.
#![allow(clippy::missing_errors_doc)]

mod args;
mod describe;
mod error;
mod reader;
mod secret;
mod secret_store;
mod source;

pub use args::ConfigArgs;
pub use describe::{describe, render_markdown, render_text};
pub use error::{ConfigError, FieldError, FieldErrors, Origin};
pub use reader::{KeyDoc, Profile, Reader, Section};
pub use secret::Secret;
pub use secret_store::{
    DEFAULT_TENANT_FILE, DEFAULT_VAULT_ADDR, DEFAULT_VAULT_MOUNT, DEFAULT_VAULT_PATH, DEFAULT_VAULT_TIMEOUT,
    SecretStore, SecretsBackend, SecretsConfig, TenantSecretError, TenantSecretStore, VAULT_TENANTS_FOLDER,
    VaultConfig,
};
pub use source::{ENV_CONFIG_FILE, ENV_PREFIX, Raw, Sources, env_name};

use reader::{State, check_unknown};

/// What a load is for.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions<'a> {
    /// Deployment profile, which picks profile-dependent defaults.
    pub profile: Profile,
    /// Sections of other services that may appear in the file and environment without
    /// being reported as unknown (one file or `ConfigMap` can serve every service).
    pub other_sections: &'a [&'a str],
}

/// Reads `S` from `sources` with secrets from `secrets`, reporting every bad key at once.
///
/// # Errors
///
/// [`ConfigError::Invalid`] listing every invalid, unknown or missing key.
pub fn read<S: Section>(sources: &Sources, secrets: &SecretStore, options: LoadOptions<'_>) -> Result<S, ConfigError> {
    let mut state = State { profile: options.profile, ..State::default() };
    let value = S::read(&mut Reader::new(sources, secrets, &mut state));
    check_unknown(sources, &mut state, options.other_sections);
    if state.errors.is_empty() { Ok(value) } else { Err(ConfigError::Invalid(FieldErrors(state.errors))) }
}

/// Opens the secret store the `secrets.*` section asks for, then reads `S`.
///
/// `S` must read the `secrets` section itself (as a [`SecretsConfig`]) so its keys are
/// documented and checked like any other.
///
/// # Errors
///
/// A bad `secrets.*` section, an unreadable secret store, or any invalid key of `S`.
pub async fn load<S: Section>(sources: &Sources, options: LoadOptions<'_>) -> Result<S, ConfigError> {
    let bootstrap = SecretStore::env_only(sources);
    let mut state = State { profile: options.profile, ..State::default() };
    let secrets_config: SecretsConfig = Reader::new(sources, &bootstrap, &mut state).section("secrets");
    if !state.errors.is_empty() {
        return Err(ConfigError::Invalid(FieldErrors(state.errors)));
    }
    let store = SecretStore::open(&secrets_config, sources).await?;
    read(sources, &store, options)
}
