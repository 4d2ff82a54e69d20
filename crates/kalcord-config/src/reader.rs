//! Typed, documented reading of configuration keys with every error collected.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{FieldError, Origin};
use crate::secret::Secret;
use crate::secret_store::SecretStore;
use crate::source::{ENV_CONFIG_FILE, Raw, Sources, env_name};

/// A group of configuration keys read from a [`Reader`].
///
/// Implementations declare each key once (name, default, description); the same
/// declaration drives parsing, validation, `--help-config` and `docs/configuration.md`.
pub trait Section: Sized {
    /// Reads every key of the section; errors are recorded in the reader, not returned.
    fn read(reader: &mut Reader<'_>) -> Self;
}

/// Documentation of one key, as declared by its section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDoc {
    /// Dotted key, e.g. `api_gateway.listen`.
    pub key: String,
    /// Environment variable that sets it.
    pub env: String,
    /// Default value rendered as text; `None` when the key has no default.
    pub default: Option<String>,
    /// One-line description.
    pub doc: &'static str,
    /// Default in distributed mode (service binaries) when it differs from `default`.
    pub distributed_default: Option<String>,
    /// Whether the key is a secret (never in the file or on the command line).
    pub secret: bool,
}

/// How a process is deployed; some defaults differ between the two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// One process with embedded defaults (the `kalcord` binary).
    #[default]
    Standalone,
    /// One service per process on shared infrastructure (the `kalcord-<service>` binaries).
    Distributed,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) profile: Profile,
    pub(crate) errors: Vec<FieldError>,
    pub(crate) docs: Vec<KeyDoc>,
    pub(crate) keys: BTreeSet<String>,
    pub(crate) sections: BTreeSet<String>,
}

/// Reads keys under one dotted prefix and records every problem it meets.
pub struct Reader<'a> {
    prefix: String,
    secrets: &'a SecretStore,
    sources: &'a Sources,
    state: &'a mut State,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(sources: &'a Sources, secrets: &'a SecretStore, state: &'a mut State) -> Self {
        Self { prefix: String::new(), secrets, sources, state }
    }

    /// Reads a nested section, e.g. `secrets` then `vault` for `secrets.vault.*`.
    pub fn section<S: Section>(&mut self, name: &str) -> S {
        let mut inner = Reader {
            prefix: format!("{}{name}.", self.prefix),
            secrets: self.secrets,
            sources: self.sources,
            state: &mut *self.state,
        };
        S::read(&mut inner)
    }

    /// The deployment profile this configuration is read for.
    #[must_use]
    pub fn profile(&self) -> Profile {
        self.state.profile
    }

    /// Reads a value whose default depends on the [`Profile`].
    pub fn get_for<T>(&mut self, name: &str, standalone: T, distributed: T, doc: &'static str) -> T
    where
        T: FromStr + Display,
        T::Err: Display,
    {
        let (standalone_text, distributed_text) = (standalone.to_string(), distributed.to_string());
        let other = (standalone_text != distributed_text).then_some(distributed_text);
        let key = self.register_with(name, Some(standalone_text), other, doc, false);
        let default = match self.state.profile {
            Profile::Standalone => standalone,
            Profile::Distributed => distributed,
        };
        self.parse(&key).unwrap_or(default)
    }

    /// Full dotted key for a name in this section.
    #[must_use]
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Reads a value, or returns `default` when unset (or unparsable, with an error recorded).
    pub fn get<T>(&mut self, name: &str, default: T, doc: &'static str) -> T
    where
        T: FromStr + Display,
        T::Err: Display,
    {
        let key = self.register(name, Some(default.to_string()), doc, false);
        self.parse(&key).unwrap_or(default)
    }

    /// Reads an optional value; `None` when unset.
    pub fn get_opt<T>(&mut self, name: &str, doc: &'static str) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        let key = self.register(name, None, doc, false);
        self.parse(&key)
    }

    /// Reads a duration written like `250ms`, `10s` or `1m 30s`.
    pub fn duration(&mut self, name: &str, default: Duration, doc: &'static str) -> Duration {
        self.get(name, humantime::Duration::from(default), doc).into()
    }

    /// Reads an optional filesystem path.
    pub fn path_opt(&mut self, name: &str, doc: &'static str) -> Option<PathBuf> {
        self.get_opt::<PathBuf>(name, doc)
    }

    /// Reads a list (TOML array, or comma-separated text in env and `--set`).
    pub fn list<T>(&mut self, name: &str, default: Vec<T>, doc: &'static str) -> Vec<T>
    where
        T: FromStr + Display,
        T::Err: Display,
    {
        let rendered = default.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let key = self.register(name, Some(rendered), doc, false);
        let Some((raw, origin)) = self.sources.lookup(&key) else { return default };
        let mut values = Vec::new();
        for item in raw.as_list() {
            match item.parse::<T>() {
                Ok(value) => values.push(value),
                Err(err) => {
                    self.error(&key, origin, format!("cannot parse list item {item:?}: {err}"));
                    return default;
                }
            }
        }
        values
    }

    /// Reads an optional secret from the secret store.
    pub fn secret(&mut self, name: &str, doc: &'static str) -> Option<Secret> {
        let key = self.register(name, None, doc, true);
        if let Some((_, origin)) = self.sources.lookup(&key)
            && !matches!(origin, Origin::Env(_))
        {
            let message = "is a secret: set it in the environment, the secrets file or Vault, not in the configuration file or on the command line";
            self.error(&key, origin, message.to_owned());
            return None;
        }
        self.secrets.get(&key).map(|(secret, _)| secret)
    }

    /// Reads a secret that must be present; records an error when it is not.
    pub fn required_secret(&mut self, name: &str, doc: &'static str) -> Secret {
        if let Some(secret) = self.secret(name, doc) {
            return secret;
        }
        let key = self.key(name);
        if !self.state.errors.iter().any(|error| error.key == key) {
            let message = format!(
                "required secret is missing; set {} or add `{key}` to the {}",
                env_name(&key),
                self.secrets.describe()
            );
            self.error(&key, Origin::Default, message);
        }
        Secret::new(String::new())
    }

    /// Records a validation error on a key of this section (for cross-field checks).
    pub fn invalid(&mut self, name: &str, message: impl Into<String>) {
        let key = self.key(name);
        let origin = self.sources.lookup(&key).map_or(Origin::Default, |(_, origin)| origin);
        self.error(&key, origin, message.into());
    }

    fn register(&mut self, name: &str, default: Option<String>, doc: &'static str, secret: bool) -> String {
        self.register_with(name, default, None, doc, secret)
    }

    fn register_with(
        &mut self,
        name: &str,
        default: Option<String>,
        distributed_default: Option<String>,
        doc: &'static str,
        secret: bool,
    ) -> String {
        let key = self.key(name);
        if let Some(section) = key.split('.').next() {
            self.state.sections.insert(section.to_owned());
        }
        if self.state.keys.insert(key.clone()) {
            self.state.docs.push(KeyDoc {
                env: env_name(&key),
                key: key.clone(),
                default,
                distributed_default,
                doc,
                secret,
            });
        }
        key
    }

    fn parse<T>(&mut self, key: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        let (raw, origin) = self.sources.lookup(key)?;
        let text = match raw {
            Raw::Scalar(text) => text,
            Raw::List(_) => {
                self.error(key, origin, "expected a single value, found a list".to_owned());
                return None;
            }
        };
        match text.trim().parse::<T>() {
            Ok(value) => Some(value),
            Err(err) => {
                self.error(key, origin, format!("cannot parse {text:?}: {err}"));
                None
            }
        }
    }

    fn error(&mut self, key: &str, origin: Origin, message: String) {
        self.state.errors.push(FieldError { key: key.to_owned(), origin, message });
    }
}

/// Records keys set in a layer that no section declared.
///
/// `--set` must name a declared key. File keys and env variables are checked for the
/// sections this process read; sections of other services (`others`) are ignored, so one
/// file or `ConfigMap` can serve every service.
pub(crate) fn check_unknown(sources: &Sources, state: &mut State, others: &[&str]) {
    let mut errors = Vec::new();
    for key in sources.cli().keys().filter(|key| !state.keys.contains(*key)) {
        errors.push(FieldError { key: key.clone(), origin: Origin::Cli, message: "unknown key".to_owned() });
    }
    if let Some((path, values)) = sources.file() {
        for key in values.keys().filter(|key| !state.keys.contains(*key)) {
            let section = key.split('.').next().unwrap_or_default();
            let message = if state.sections.contains(section) {
                "unknown key"
            } else if others.contains(&section) {
                continue;
            } else {
                "unknown section"
            };
            errors.push(FieldError {
                key: key.clone(),
                origin: Origin::File(path.clone()),
                message: message.to_owned(),
            });
        }
    }
    let known_env: BTreeSet<String> = state.keys.iter().map(|key| env_name(key)).collect();
    for name in sources.env().keys().filter(|name| !known_env.contains(*name) && *name != ENV_CONFIG_FILE) {
        let key = state.sections.iter().find_map(|section| {
            let prefix = format!("{}_", env_name(section));
            name.strip_prefix(prefix.as_str()).map(|rest| format!("{section}.{}", rest.to_ascii_lowercase()))
        });
        if let Some(key) = key {
            let origin = Origin::Env(name.clone());
            errors.push(FieldError { key, origin, message: "unknown environment variable".to_owned() });
        }
    }
    state.errors.extend(errors);
}
