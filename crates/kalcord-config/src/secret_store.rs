//! Where secrets come from: the environment, a `0600` secrets file, or Vault KV v2.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use crate::error::{ConfigError, Origin};
use crate::reader::{Reader, Section};
use crate::secret::Secret;
use crate::source::{Sources, env_name, read_toml_file};

/// Default Vault address (a local OpenBao/Vault dev server).
pub const DEFAULT_VAULT_ADDR: &str = "http://127.0.0.1:8200";
/// Default KV v2 mount.
pub const DEFAULT_VAULT_MOUNT: &str = "secret";
/// Default secret path under the mount.
pub const DEFAULT_VAULT_PATH: &str = "kalcord";
/// Default timeout of a Vault request.
pub const DEFAULT_VAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which store secrets are read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecretsBackend {
    /// Environment variables, then the optional secrets file (standalone mode).
    #[default]
    Env,
    /// Vault or OpenBao KV v2 (distributed mode).
    Vault,
}

impl FromStr for SecretsBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "env" => Ok(Self::Env),
            "vault" => Ok(Self::Vault),
            _ => Err("expected `env` or `vault`".to_owned()),
        }
    }
}

impl fmt::Display for SecretsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Env => "env",
            Self::Vault => "vault",
        })
    }
}

/// The `secrets.*` section.
#[derive(Clone, Debug)]
pub struct SecretsConfig {
    /// Store secrets are read from.
    pub backend: SecretsBackend,
    /// Optional TOML secrets file for the `env` backend; must be mode `0600` or stricter.
    pub file: Option<PathBuf>,
    /// Vault settings for the `vault` backend.
    pub vault: VaultConfig,
}

impl Section for SecretsConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let backend = r.get(
            "backend",
            SecretsBackend::Env,
            "Where secrets come from: `env` (environment and secrets file) or `vault` (Vault/OpenBao KV v2).",
        );
        let file = r.path_opt("file", "TOML file of secrets for the `env` backend, keyed like the configuration (e.g. `[discord] bot_token = \"...\"`); must be mode 0600.");
        let vault: VaultConfig = r.section("vault");
        if backend == SecretsBackend::Vault && vault.token.is_none() && vault.token_file.is_none() {
            r.invalid(
                "vault.token",
                "the vault backend needs a token: set KALCORD_SECRETS_VAULT_TOKEN or secrets.vault.token_file",
            );
        }
        Self { backend, file, vault }
    }
}

/// The `secrets.vault.*` section.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    /// Vault address.
    pub addr: Url,
    /// KV v2 mount.
    pub mount: String,
    /// Optional Vault Enterprise namespace.
    pub namespace: Option<String>,
    /// Secret path under the mount.
    pub path: String,
    /// Request timeout.
    pub timeout: Duration,
    /// Token, from the environment.
    pub token: Option<Secret>,
    /// File holding the token (e.g. written by a Vault agent sidecar).
    pub token_file: Option<PathBuf>,
}

impl Section for VaultConfig {
    fn read(r: &mut Reader<'_>) -> Self {
        let addr = r.get("addr", Url::parse(DEFAULT_VAULT_ADDR).expect("valid default"), "Vault/OpenBao address.");
        Self {
            addr,
            mount: r.get("mount", DEFAULT_VAULT_MOUNT.to_owned(), "KV v2 secrets engine mount."),
            namespace: r.get_opt("namespace", "Vault Enterprise namespace, if any."),
            path: r.get(
                "path",
                DEFAULT_VAULT_PATH.to_owned(),
                "Secret path under the mount; its keys are configuration keys such as `discord.bot_token`.",
            ),
            timeout: r.duration("timeout", DEFAULT_VAULT_TIMEOUT, "Timeout of each Vault request."),
            token: r.secret("token", "Vault token (environment only)."),
            token_file: r.path_opt("token_file", "File holding the Vault token, re-read at each start."),
        }
    }
}

/// Secrets available to one process.
#[derive(Clone, Default)]
pub struct SecretStore {
    backend: SecretsBackend,
    env: BTreeMap<String, String>,
    file: Option<PathBuf>,
    values: BTreeMap<String, (Secret, Origin)>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("backend", &self.backend)
            .field("file", &self.file)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl SecretStore {
    /// A store with no secrets at all.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// A store reading only `KALCORD_*` environment variables from `sources`.
    #[must_use]
    pub fn env_only(sources: &Sources) -> Self {
        Self { env: sources.env().clone(), ..Self::default() }
    }

    /// Opens the configured store: reads the secrets file, or every key at the Vault path.
    ///
    /// # Errors
    ///
    /// An unreadable or group/world-readable secrets file, or a Vault request that fails.
    pub async fn open(config: &SecretsConfig, sources: &Sources) -> Result<Self, ConfigError> {
        let mut store = Self::env_only(sources);
        store.backend = config.backend;
        match config.backend {
            SecretsBackend::Env => {
                if let Some(path) = &config.file {
                    store.values = read_secrets_file(path)?;
                    store.file = Some(path.clone());
                }
            }
            SecretsBackend::Vault => store.values = read_vault(&config.vault).await?,
        }
        Ok(store)
    }

    /// A secret and where it came from.
    ///
    /// With the `env` backend the environment wins over the secrets file. With the `vault`
    /// backend only Vault counts, except for the `secrets.*` keys that reach Vault itself.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<(Secret, Origin)> {
        let from_env = || {
            let name = env_name(key);
            self.env.get(&name).map(|value| (Secret::new(value.clone()), Origin::Env(name)))
        };
        match self.backend {
            SecretsBackend::Env => from_env().or_else(|| self.values.get(key).cloned()),
            SecretsBackend::Vault if key.starts_with("secrets.") => from_env(),
            SecretsBackend::Vault => self.values.get(key).cloned(),
        }
    }

    /// Short description of where a missing secret could be put.
    #[must_use]
    pub fn describe(&self) -> String {
        match (self.backend, &self.file) {
            (SecretsBackend::Vault, _) => "vault secret".to_owned(),
            (SecretsBackend::Env, Some(path)) => format!("secrets file {}", path.display()),
            (SecretsBackend::Env, None) => "secrets file (secrets.file)".to_owned(),
        }
    }
}

fn read_secrets_file(path: &Path) -> Result<BTreeMap<String, (Secret, Origin)>, ConfigError> {
    check_private(path)?;
    let origin = Origin::SecretsFile(path.to_owned());
    Ok(read_toml_file(path)?
        .into_iter()
        .map(|(key, raw)| (key, (Secret::new(raw.as_text()), origin.clone())))
        .collect())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::InsecureSecretsFile { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), ConfigError> {
    Ok(())
}

async fn read_vault(config: &VaultConfig) -> Result<BTreeMap<String, (Secret, Origin)>, ConfigError> {
    let fail = |message: String| ConfigError::Vault {
        addr: config.addr.to_string(),
        mount: config.mount.clone(),
        path: config.path.clone(),
        message,
    };
    let token = match (&config.token, &config.token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            Secret::new(text.trim().to_owned())
        }
        (None, None) => return Err(fail("no token configured".to_owned())),
    };
    let mut settings = vaultrs::client::VaultClientSettingsBuilder::default();
    settings.address(config.addr.as_str()).token(token.expose()).timeout(Some(config.timeout));
    if let Some(namespace) = &config.namespace {
        settings.namespace(Some(namespace.clone()));
    }
    let settings = settings.build().map_err(|err| fail(err.to_string()))?;
    let client = vaultrs::client::VaultClient::new(settings).map_err(|err| fail(err.to_string()))?;
    let data: serde_json::Value =
        vaultrs::kv2::read(&client, &config.mount, &config.path).await.map_err(|err| fail(vault_message(&err)))?;
    let mut values = BTreeMap::new();
    flatten_json("", &data, &mut values);
    Ok(values)
}

/// Describes a Vault error without echoing anything a response could have carried.
fn vault_message(err: &vaultrs::error::ClientError) -> String {
    match err {
        vaultrs::error::ClientError::APIError { code, .. } if *code == 403 => {
            "permission denied (HTTP 403): check the token and its policy".to_owned()
        }
        vaultrs::error::ClientError::APIError { code, .. } if *code == 404 => {
            "no secret at this path (HTTP 404)".to_owned()
        }
        vaultrs::error::ClientError::APIError { code, .. } => format!("vault answered HTTP {code}"),
        vaultrs::error::ClientError::RestClientError { .. } => {
            "vault did not answer (connection failed or timed out)".to_owned()
        }
        _ => "unexpected response from vault".to_owned(),
    }
}

fn flatten_json(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, (Secret, Origin)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map {
                let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                flatten_json(&key, inner, out);
            }
        }
        serde_json::Value::String(text) => {
            out.insert(prefix.to_owned(), (Secret::new(text.clone()), Origin::Vault));
        }
        serde_json::Value::Null => {}
        other => {
            out.insert(prefix.to_owned(), (Secret::new(other.to_string()), Origin::Vault));
        }
    }
}
