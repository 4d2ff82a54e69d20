//! The dependencies a service runs on, connected once per process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kalcord_bus::SharedBus;
use kalcord_cache::SharedCache;
use kalcord_store::Store;

use crate::config::CommonConfig;
use crate::error::RuntimeError;

/// Timeout of each readiness check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Which dependencies a service uses beyond the bus (every service has the bus).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The cache (Redis or in memory).
    pub cache: bool,
    /// The database.
    pub store: bool,
}

impl Needs {
    /// Both.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self { cache: self.cache || other.cache, store: self.store || other.store }
    }
}

/// Connected dependencies, cheap to clone.
#[derive(Clone, Debug)]
pub struct Deps {
    /// The bus.
    pub bus: SharedBus,
    /// The cache, when needed.
    pub cache: Option<SharedCache>,
    /// The configuration shared by every service (Discord application, ...).
    pub common: Arc<CommonConfig>,
    /// Identifier of this process start, e.g. in status replies.
    pub instance: Arc<str>,
    /// When the process started.
    pub started: Instant,
    /// The database, when needed.
    pub store: Option<Store>,
}

/// Result of one readiness check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    /// What was checked: a dependency (`bus`, `store`, `cache`) or a service's own part (`shard 3`).
    pub name: std::borrow::Cow<'static, str>,
    /// Whether it answered.
    pub ok: bool,
    /// Why not (never a secret).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl CheckResult {
    /// A passed check.
    #[must_use]
    pub fn ok(name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self { name: name.into(), ok: true, detail: String::new() }
    }

    /// A failed check and why (never a secret).
    #[must_use]
    pub fn failed(name: impl Into<std::borrow::Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self { name: name.into(), ok: false, detail: detail.into() }
    }
}

/// Readiness checks a service adds to its process's `/readyz` (e.g. one per gateway shard).
pub trait Probe: Send + Sync + std::fmt::Debug + 'static {
    /// The current checks; cheap and non-blocking (read state the service keeps up to date).
    fn checks(&self) -> Vec<CheckResult>;
}

impl Deps {
    /// Connects what `needs` asks for: the bus always, then the store (migrated when
    /// `store.auto_migrate`) and the cache.
    ///
    /// # Errors
    ///
    /// The first dependency that cannot be reached.
    pub async fn connect(config: &CommonConfig, needs: Needs, client_name: &str) -> Result<Self, RuntimeError> {
        let bus = kalcord_bus::connect(&config.bus, client_name).await?;
        let store = if needs.store {
            let store = Store::connect(config.store.url.expose()).await?;
            if config.store.auto_migrate {
                store.migrate().await?;
            }
            Some(store)
        } else {
            None
        };
        let cache = if needs.cache { Some(kalcord_cache::connect(&config.cache).await?) } else { None };
        let instance = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        Ok(Self {
            bus,
            cache,
            common: Arc::new(config.clone()),
            instance: instance.into(),
            started: Instant::now(),
            store,
        })
    }

    /// The store; for services whose [`Needs`] include it.
    ///
    /// # Panics
    ///
    /// When the service did not declare the store in its needs (a programming error).
    #[must_use]
    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("service declared Needs { store: true }")
    }

    /// The cache; for services whose [`Needs`] include it.
    ///
    /// # Panics
    ///
    /// When the service did not declare the cache in its needs (a programming error).
    #[must_use]
    pub fn cache(&self) -> &SharedCache {
        self.cache.as_ref().expect("service declared Needs { cache: true }")
    }

    /// Checks every dependency in `needs` concurrently, each within 2 seconds.
    pub async fn check(&self, needs: Needs) -> Vec<CheckResult> {
        let bus = async { outcome("bus", self.bus.check().await.map_err(|err| err.to_string())) };
        let store = async {
            match (&self.store, needs.store) {
                (Some(store), true) => Some(outcome("store", store.ping().await.map_err(|err| err.to_string()))),
                _ => None,
            }
        };
        let cache = async {
            match (&self.cache, needs.cache) {
                (Some(cache), true) => Some(outcome("cache", cache.check().await.map_err(|err| err.to_string()))),
                _ => None,
            }
        };
        let (bus, store, cache) = tokio::join!(timed("bus", bus), timed_opt("store", store), timed_opt("cache", cache));
        std::iter::once(bus).chain(store).chain(cache).collect()
    }

    /// Closes the bus (draining it) and the store.
    pub async fn close(&self) {
        if let Err(err) = self.bus.close().await {
            tracing::warn!(error = %err, "closing the bus failed");
        }
        if let Some(store) = &self.store
            && let Err(err) = store.clone().close().await
        {
            tracing::debug!(error = %err, "closing the store failed");
        }
    }
}

fn outcome(name: &'static str, result: Result<(), String>) -> CheckResult {
    match result {
        Ok(()) => CheckResult { name: name.into(), ok: true, detail: String::new() },
        Err(detail) => CheckResult { name: name.into(), ok: false, detail },
    }
}

async fn timed(name: &'static str, check: impl Future<Output = CheckResult>) -> CheckResult {
    tokio::time::timeout(CHECK_TIMEOUT, check).await.unwrap_or_else(|_| CheckResult {
        name: name.into(),
        ok: false,
        detail: format!("no answer within {CHECK_TIMEOUT:?}"),
    })
}

async fn timed_opt(name: &'static str, check: impl Future<Output = Option<CheckResult>>) -> Option<CheckResult> {
    tokio::time::timeout(CHECK_TIMEOUT, check).await.unwrap_or_else(|_| {
        Some(CheckResult { name: name.into(), ok: false, detail: format!("no answer within {CHECK_TIMEOUT:?}") })
    })
}
