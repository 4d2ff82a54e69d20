//! The three layers a value can come from: file < environment < command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Origin};

/// Prefix of every environment variable the configuration reads.
pub const ENV_PREFIX: &str = "KALCORD_";
/// Environment variable naming the configuration file (same as `--config`).
pub const ENV_CONFIG_FILE: &str = "KALCORD_CONFIG";

/// A raw value before parsing: TOML arrays stay lists, everything else is text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raw {
    /// A scalar written as text (numbers and booleans are rendered).
    Scalar(String),
    /// A TOML array of scalars.
    List(Vec<String>),
}

impl Raw {
    /// The value as one string (lists joined with commas).
    #[must_use]
    pub fn as_text(&self) -> String {
        match self {
            Self::Scalar(text) => text.clone(),
            Self::List(items) => items.join(","),
        }
    }

    /// The value as a list: TOML arrays as written, text split on commas.
    #[must_use]
    pub fn as_list(&self) -> Vec<String> {
        match self {
            Self::Scalar(text) if text.trim().is_empty() => Vec::new(),
            Self::Scalar(text) => text.split(',').map(|item| item.trim().to_owned()).collect(),
            Self::List(items) => items.clone(),
        }
    }
}

/// The environment variable that sets a dotted key: `api_gateway.listen` ->
/// `KALCORD_API_GATEWAY_LISTEN`.
#[must_use]
pub fn env_name(key: &str) -> String {
    let mut name = String::with_capacity(ENV_PREFIX.len() + key.len());
    name.push_str(ENV_PREFIX);
    name.extend(key.chars().map(|c| if c == '.' || c == '-' { '_' } else { c.to_ascii_uppercase() }));
    name
}

/// Flattens a TOML document into dotted keys.
///
/// # Errors
///
/// Returns an error message when a value is neither a scalar, a table nor an array of scalars.
pub fn flatten_toml(table: &toml::Table) -> Result<BTreeMap<String, Raw>, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, Raw>) -> Result<(), String> {
        for (name, value) in table {
            let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            match value {
                toml::Value::Table(inner) => walk(&key, inner, out)?,
                toml::Value::Array(items) => {
                    let items = items
                        .iter()
                        .map(|item| scalar(item).ok_or_else(|| format!("{key}: arrays may only hold scalars")))
                        .collect::<Result<_, _>>()?;
                    out.insert(key, Raw::List(items));
                }
                other => {
                    let text = scalar(other).ok_or_else(|| format!("{key}: unsupported value"))?;
                    out.insert(key, Raw::Scalar(text));
                }
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk("", table, &mut out)?;
    Ok(out)
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(number) => Some(number.to_string()),
        toml::Value::Float(number) => Some(number.to_string()),
        toml::Value::Boolean(flag) => Some(flag.to_string()),
        toml::Value::Datetime(datetime) => Some(datetime.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

/// Reads and flattens a TOML file.
///
/// # Errors
///
/// [`ConfigError::Read`] or [`ConfigError::Parse`].
pub fn read_toml_file(path: &Path) -> Result<BTreeMap<String, Raw>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    parse_toml(path, &text)
}

pub(crate) fn parse_toml(path: &Path, text: &str) -> Result<BTreeMap<String, Raw>, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse { path: path.to_owned(), message };
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| parse_error(err.to_string()))?;
    flatten_toml(&table).map_err(parse_error)
}

/// Every layer of one process's configuration.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    file: Option<(PathBuf, BTreeMap<String, Raw>)>,
    env: BTreeMap<String, String>,
    cli: BTreeMap<String, String>,
}

impl Sources {
    /// No layers at all: every key takes its default.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a TOML configuration file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or parsed.
    pub fn with_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        self.file = Some((path.to_owned(), read_toml_file(path)?));
        Ok(self)
    }

    /// Adds a TOML document given as text, named `path` in error messages.
    ///
    /// # Errors
    ///
    /// When the text is not valid TOML.
    pub fn with_file_text(mut self, path: &Path, text: &str) -> Result<Self, ConfigError> {
        self.file = Some((path.to_owned(), parse_toml(path, text)?));
        Ok(self)
    }

    /// Adds the environment; only `KALCORD_*` variables are kept, empty ones count as unset.
    #[must_use]
    pub fn with_env<I, K, V>(mut self, env: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env = env
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, v)| k.starts_with(ENV_PREFIX) && !v.is_empty())
            .collect();
        self
    }

    /// Adds `--set key=value` overrides.
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadFlag`] for an entry without `=` or with an empty key.
    pub fn with_cli<I, S>(mut self, sets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for set in sets {
            let set = set.as_ref();
            let (key, value) = set.split_once('=').ok_or_else(|| ConfigError::BadFlag(set.to_owned()))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(ConfigError::BadFlag(set.to_owned()));
            }
            self.cli.insert(key.to_owned(), value.to_owned());
        }
        Ok(self)
    }

    /// The winning value of a key and where it came from: CLI, then env, then file.
    #[must_use]
    pub fn lookup(&self, key: &str) -> Option<(Raw, Origin)> {
        if let Some(value) = self.cli.get(key) {
            return Some((Raw::Scalar(value.clone()), Origin::Cli));
        }
        let env = env_name(key);
        if let Some(value) = self.env.get(&env) {
            return Some((Raw::Scalar(value.clone()), Origin::Env(env)));
        }
        let (path, values) = self.file.as_ref()?;
        values.get(key).map(|raw| (raw.clone(), Origin::File(path.clone())))
    }

    /// Value of one raw environment variable (already filtered to `KALCORD_*`).
    #[must_use]
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    pub(crate) fn file(&self) -> Option<&(PathBuf, BTreeMap<String, Raw>)> {
        self.file.as_ref()
    }

    pub(crate) fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    pub(crate) fn cli(&self) -> &BTreeMap<String, String> {
        &self.cli
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Raw, Sources, env_name};
    use crate::error::Origin;

    #[test]
    fn env_names_are_upper_snake() {
        assert_eq!(env_name("api_gateway.listen"), "KALCORD_API_GATEWAY_LISTEN");
        assert_eq!(env_name("secrets.vault.addr"), "KALCORD_SECRETS_VAULT_ADDR");
    }

    #[test]
    fn precedence_is_file_then_env_then_cli() {
        let file = "[a]\nx = 1\ny = 2\nz = 3\nlist = [\"p\", \"q\"]\n";
        let sources = Sources::empty()
            .with_file_text(Path::new("k.toml"), file)
            .unwrap()
            .with_env([("KALCORD_A_Y", "20"), ("KALCORD_A_Z", "30"), ("HOME", "/root"), ("KALCORD_A_X", "")])
            .with_cli(["a.z=300"])
            .unwrap();
        assert_eq!(sources.lookup("a.x"), Some((Raw::Scalar("1".into()), Origin::File("k.toml".into()))));
        assert_eq!(sources.lookup("a.y"), Some((Raw::Scalar("20".into()), Origin::Env("KALCORD_A_Y".into()))));
        assert_eq!(sources.lookup("a.z"), Some((Raw::Scalar("300".into()), Origin::Cli)));
        assert_eq!(sources.lookup("a.list").unwrap().0.as_list(), ["p", "q"]);
        assert_eq!(sources.lookup("a.missing"), None);
        assert_eq!(sources.env_var("HOME"), None, "only KALCORD_ variables are kept");
    }

    #[test]
    fn bad_flags_and_toml_are_rejected() {
        assert!(Sources::empty().with_cli(["novalue"]).is_err());
        assert!(Sources::empty().with_cli(["=x"]).is_err());
        let err = Sources::empty().with_file_text(Path::new("bad.toml"), "[a\nx=").unwrap_err();
        assert!(err.to_string().starts_with("bad.toml is not valid TOML"), "{err}");
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(Raw::Scalar("a, b,c".into()).as_list(), ["a", "b", "c"]);
        assert!(Raw::Scalar(" ".into()).as_list().is_empty());
    }
}
