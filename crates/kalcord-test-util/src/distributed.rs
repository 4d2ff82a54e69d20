//! Environment for running service binaries in distributed mode against the real servers,
//! isolated per test: a fresh database, a unique bus subject prefix and cache key prefix.

use anyhow::Context as _;
use futures::TryStreamExt as _;

use crate::env::{nats_url, redis_url, unique_suffix};
use crate::postgres::{TempDatabase, fresh_database};

/// Per-test distributed environment.
#[derive(Debug)]
pub struct DistributedEnv {
    database: Option<TempDatabase>,
    prefix: String,
}

impl DistributedEnv {
    /// A unique prefix, plus a fresh PostgreSQL database when `with_database`.
    ///
    /// # Errors
    ///
    /// When PostgreSQL is unreachable.
    pub async fn new(with_database: bool) -> anyhow::Result<Self> {
        let database = if with_database { Some(fresh_database().await?) } else { None };
        Ok(Self { database, prefix: format!("e2e{}", unique_suffix()) })
    }

    /// Bus subject prefix of this environment.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// URL of the fresh database (`None` without one).
    #[must_use]
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(|database| database.url.as_str())
    }

    /// `KALCORD_*` variables pointing a service binary at this environment, with every
    /// listener on a free loopback port.
    #[must_use]
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("KALCORD_BUS_BACKEND", "nats".to_owned()),
            ("KALCORD_BUS_URL", nats_url()),
            ("KALCORD_BUS_PREFIX", self.prefix.clone()),
            ("KALCORD_CACHE_BACKEND", "redis".to_owned()),
            ("KALCORD_CACHE_URL", redis_url()),
            ("KALCORD_CACHE_PREFIX", self.prefix.clone()),
            ("KALCORD_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("KALCORD_API_GATEWAY_LISTEN", "127.0.0.1:0".to_owned()),
            ("KALCORD_SHUTDOWN_TIMEOUT", "10s".to_owned()),
            // NOTE: the api-gateway refuses to start in distributed mode without a token signing key.
            ("KALCORD_API_GATEWAY_TOKEN_KEY", format!("test-token-key-{}-0123456789abcdef", self.prefix)),
        ];
        if let Some(database) = &self.database {
            vars.push(("KALCORD_STORE_URL", database.url.clone()));
        }
        vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// Drops the database and deletes every JetStream stream under the prefix.
    ///
    /// # Errors
    ///
    /// When NATS or PostgreSQL refuse the clean-up.
    pub async fn cleanup(self) -> anyhow::Result<()> {
        let client = async_nats::connect(nats_url()).await.context("connecting to NATS for clean-up")?;
        let jetstream = async_nats::jetstream::new(client);
        let names: Vec<String> = jetstream.stream_names().try_collect().await.context("listing streams")?;
        let ours = format!("{}_", self.prefix);
        for name in names.into_iter().filter(|name| name.starts_with(&ours)) {
            let _ = jetstream.delete_stream(&name).await;
        }
        if let Some(database) = self.database {
            database.drop_database().await?;
        }
        Ok(())
    }
}
