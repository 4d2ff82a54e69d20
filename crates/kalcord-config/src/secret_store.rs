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
/// Default file of per-tenant secrets for the `env` backend.
pub const DEFAULT_TENANT_FILE: &str = "data/tenant-secrets.toml";
/// Folder under `secrets.vault.path` holding one KV v2 secret per tenant.
pub const VAULT_TENANTS_FOLDER: &str = "tenants";

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
    /// Writable TOML file of per-tenant secrets for the `env` backend (created `0600`).
    pub tenant_file: PathBuf,
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
        // NOTE: the same default in both profiles: distributed deployments use the vault
        // backend, where this file is not used (replicas could not share it).
        let tenant_file: String = r.get(
            "tenant_file",
            DEFAULT_TENANT_FILE.to_owned(),
            "Writable file of per-guild Kaltura secrets (`/kaltura setup`) for the `env` backend; created mode 0600, refused when group/world-readable. With the `vault` backend they go to `<secrets.vault.path>/tenants/<key>` instead.",
        );
        let vault: VaultConfig = r.section("vault");
        if backend == SecretsBackend::Vault && vault.token.is_none() && vault.token_file.is_none() {
            r.invalid(
                "vault.token",
                "the vault backend needs a token: set KALCORD_SECRETS_VAULT_TOKEN or secrets.vault.token_file",
            );
        }
        Self { backend, file, tenant_file: PathBuf::from(tenant_file), vault }
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
    let client = vault_client(config).map_err(|err| match err {
        VaultSetupError::Token(path, source) => ConfigError::Read { path, source },
        VaultSetupError::Other(message) => fail(message),
    })?;
    let data: serde_json::Value =
        vaultrs::kv2::read(&client, &config.mount, &config.path).await.map_err(|err| fail(vault_message(&err)))?;
    let mut values = BTreeMap::new();
    flatten_json("", &data, &mut values);
    Ok(values)
}

/// Why a Vault client could not be built.
enum VaultSetupError {
    /// The token file could not be read.
    Token(PathBuf, std::io::Error),
    /// Anything else (no token, bad settings).
    Other(String),
}

fn vault_client(config: &VaultConfig) -> Result<vaultrs::client::VaultClient, VaultSetupError> {
    let token = match (&config.token, &config.token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|source| VaultSetupError::Token(path.clone(), source))?;
            Secret::new(text.trim().to_owned())
        }
        (None, None) => return Err(VaultSetupError::Other("no token configured".to_owned())),
    };
    let mut settings = vaultrs::client::VaultClientSettingsBuilder::default();
    settings.address(config.addr.as_str()).token(token.expose()).timeout(Some(config.timeout));
    if let Some(namespace) = &config.namespace {
        settings.namespace(Some(namespace.clone()));
    }
    let settings = settings.build().map_err(|err| VaultSetupError::Other(err.to_string()))?;
    vaultrs::client::VaultClient::new(settings).map_err(|err| VaultSetupError::Other(err.to_string()))
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

/// A writable store of per-tenant secrets (one secret per key, e.g. a guild's Kaltura admin
/// secret): Vault/OpenBao KV v2 with the `vault` backend, a `0600` TOML file otherwise.
///
/// Values are [`Secret`]s: they never appear in `Debug` output, logs or errors.
#[derive(Clone)]
pub struct TenantSecretStore {
    backend: TenantBackend,
}

#[derive(Clone)]
enum TenantBackend {
    File { path: PathBuf, lock: std::sync::Arc<parking_lot::Mutex<()>> },
    Vault { config: Box<VaultConfig>, client: std::sync::Arc<vaultrs::client::VaultClient> },
}

impl fmt::Debug for TenantSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            TenantBackend::File { path, .. } => f.debug_struct("TenantSecretStore").field("file", path).finish(),
            TenantBackend::Vault { config, .. } => f
                .debug_struct("TenantSecretStore")
                .field("vault", &config.addr.as_str())
                .field("mount", &config.mount)
                .field("path", &format!("{}/{VAULT_TENANTS_FOLDER}", config.path))
                .finish(),
        }
    }
}

/// A tenant secret could not be read or written. Never holds a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantSecretError {
    /// The key is empty or has characters other than ASCII letters, digits, `-`, `_` and `.`.
    #[error("invalid tenant secret key {0:?}")]
    InvalidKey(String),
    /// The file could not be read or written.
    #[error("cannot access the tenant secrets file {path}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error("tenant secrets file {path} has mode {mode:o}; it must not be group/world-readable (chmod 600)")]
    Insecure {
        /// File.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a TOML table of strings.
    #[error("tenant secrets file {path} is not valid TOML: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Parser message (line and column; never a value).
        message: String,
    },
    /// Vault refused or failed.
    #[error("vault at {addr} ({mount}/{path}): {message}")]
    Vault {
        /// Vault address.
        addr: String,
        /// KV v2 mount.
        mount: String,
        /// Secret path.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl TenantSecretStore {
    /// The store `config` selects: Vault KV v2 for the `vault` backend, else `secrets.tenant_file`.
    ///
    /// # Errors
    ///
    /// A Vault backend whose client cannot be built (no token, unreadable token file).
    pub fn open(config: &SecretsConfig) -> Result<Self, TenantSecretError> {
        match config.backend {
            SecretsBackend::Env => Ok(Self::file(config.tenant_file.clone())),
            SecretsBackend::Vault => Self::vault(config.vault.clone()),
        }
    }

    /// A store in a TOML file (created `0600` on the first write).
    #[must_use]
    pub fn file(path: PathBuf) -> Self {
        Self { backend: TenantBackend::File { path, lock: std::sync::Arc::default() } }
    }

    /// A store in Vault KV v2, one secret per key at `<path>/tenants/<key>`.
    ///
    /// # Errors
    ///
    /// When the client cannot be built (no token, unreadable token file).
    pub fn vault(config: VaultConfig) -> Result<Self, TenantSecretError> {
        let client = vault_client(&config).map_err(|err| {
            let message = match err {
                VaultSetupError::Token(path, _) => format!("cannot read the token file {}", path.display()),
                VaultSetupError::Other(message) => message,
            };
            TenantSecretError::Vault {
                addr: config.addr.to_string(),
                mount: config.mount.clone(),
                path: format!("{}/{VAULT_TENANTS_FOLDER}", config.path),
                message,
            }
        })?;
        Ok(Self { backend: TenantBackend::Vault { config: Box::new(config), client: std::sync::Arc::new(client) } })
    }

    /// The secret stored under `key`, if any.
    ///
    /// # Errors
    ///
    /// An invalid key, an unreadable or group/world-readable file, or a failing Vault.
    pub async fn get(&self, key: &str) -> Result<Option<Secret>, TenantSecretError> {
        check_key(key)?;
        match &self.backend {
            TenantBackend::File { path, lock } => {
                let _guard = lock.lock();
                Ok(read_tenant_file(path)?.remove(key))
            }
            TenantBackend::Vault { config, client } => {
                let path = vault_tenant_path(config, key);
                match vaultrs::kv2::read::<serde_json::Value>(client.as_ref(), &config.mount, &path).await {
                    Ok(data) => Ok(data.get(VAULT_VALUE_FIELD).and_then(serde_json::Value::as_str).map(Secret::new)),
                    Err(vaultrs::error::ClientError::APIError { code: 404, .. }) => Ok(None),
                    Err(err) => Err(vault_error(config, &path, &err)),
                }
            }
        }
    }

    /// Stores `secret` under `key`, replacing any previous value.
    ///
    /// The file is rewritten atomically (a `0600` temporary file renamed over it).
    ///
    /// # Errors
    ///
    /// An invalid key, an unwritable or group/world-readable file, or a failing Vault.
    pub async fn put(&self, key: &str, secret: &Secret) -> Result<(), TenantSecretError> {
        check_key(key)?;
        match &self.backend {
            TenantBackend::File { path, lock } => {
                let _guard = lock.lock();
                let mut values = read_tenant_file(path)?;
                values.insert(key.to_owned(), secret.clone());
                write_tenant_file(path, &values)
            }
            TenantBackend::Vault { config, client } => {
                let path = vault_tenant_path(config, key);
                let data = serde_json::json!({ VAULT_VALUE_FIELD: secret.expose() });
                vaultrs::kv2::set(client.as_ref(), &config.mount, &path, &data)
                    .await
                    .map(drop)
                    .map_err(|err| vault_error(config, &path, &err))
            }
        }
    }

    /// Removes the secret under `key`; returns whether there was one.
    ///
    /// # Errors
    ///
    /// An invalid key, an unwritable file, or a failing Vault.
    pub async fn remove(&self, key: &str) -> Result<bool, TenantSecretError> {
        check_key(key)?;
        match &self.backend {
            TenantBackend::File { path, lock } => {
                let _guard = lock.lock();
                let mut values = read_tenant_file(path)?;
                if values.remove(key).is_none() {
                    return Ok(false);
                }
                write_tenant_file(path, &values)?;
                Ok(true)
            }
            TenantBackend::Vault { config, client } => {
                let path = vault_tenant_path(config, key);
                match vaultrs::kv2::delete_metadata(client.as_ref(), &config.mount, &path).await {
                    Ok(()) => Ok(true),
                    Err(vaultrs::error::ClientError::APIError { code: 404, .. }) => Ok(false),
                    Err(err) => Err(vault_error(config, &path, &err)),
                }
            }
        }
    }
}

/// Field of a tenant's KV v2 secret holding the value.
const VAULT_VALUE_FIELD: &str = "value";

fn check_key(key: &str) -> Result<(), TenantSecretError> {
    let valid = !key.is_empty()
        && key.len() <= 128
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !key.starts_with('.');
    if valid { Ok(()) } else { Err(TenantSecretError::InvalidKey(key.to_owned())) }
}

fn vault_tenant_path(config: &VaultConfig, key: &str) -> String {
    format!("{}/{VAULT_TENANTS_FOLDER}/{key}", config.path.trim_end_matches('/'))
}

fn vault_error(config: &VaultConfig, path: &str, err: &vaultrs::error::ClientError) -> TenantSecretError {
    TenantSecretError::Vault {
        addr: config.addr.to_string(),
        mount: config.mount.clone(),
        path: path.to_owned(),
        message: vault_message(err),
    }
}

/// Reads the tenant file; a missing file is an empty store.
fn read_tenant_file(path: &Path) -> Result<BTreeMap<String, Secret>, TenantSecretError> {
    match check_tenant_file_private(path) {
        Err(TenantSecretError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(BTreeMap::new());
        }
        other => other?,
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| TenantSecretError::Io { path: path.to_owned(), source })?;
    let parse_error = |message: String| TenantSecretError::Parse { path: path.to_owned(), message };
    // NOTE: toml's messages quote the offending line, which may hold a secret: keep only the position.
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        parse_error(err.span().map_or_else(|| "unreadable".to_owned(), |span| format!("at byte {}", span.start)))
    })?;
    table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(text) => Ok((key, Secret::new(text))),
            _ => Err(parse_error(format!("the value of {key:?} is not a string"))),
        })
        .collect()
}

#[cfg(unix)]
fn check_tenant_file_private(path: &Path) -> Result<(), TenantSecretError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|source| TenantSecretError::Io { path: path.to_owned(), source })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TenantSecretError::Insecure { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_tenant_file_private(path: &Path) -> Result<(), TenantSecretError> {
    std::fs::metadata(path).map(drop).map_err(|source| TenantSecretError::Io { path: path.to_owned(), source })
}

/// Writes the whole file atomically: a fresh `0600` temporary file next to it, renamed over it.
fn write_tenant_file(path: &Path, values: &BTreeMap<String, Secret>) -> Result<(), TenantSecretError> {
    use std::io::Write as _;
    let io = |source| TenantSecretError::Io { path: path.to_owned(), source };
    let table: toml::Table =
        values.iter().map(|(key, secret)| (key.clone(), toml::Value::String(secret.expose().to_owned()))).collect();
    let text = toml::to_string(&table).map_err(|_| TenantSecretError::Parse {
        path: path.to_owned(),
        message: "cannot serialise the secrets".to_owned(),
    })?;
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path.file_name().map_or_else(|| "tenant-secrets".into(), |name| name.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(b"# kalcord tenant secrets: written by kalcord, keep mode 0600.\n")?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // NOTE: the rename itself is only durable once the directory is synced: without it a
        // crash right after `/kaltura setup` answered could lose the secret.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}
