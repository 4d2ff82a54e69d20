//! Throwaway PostgreSQL databases: one per test, on the shared test server.
//!
//! [`fresh_database`] creates `kalcord_test_<unique>` through the admin URL
//! ([`crate::env::postgres_url`]) and [`TempDatabase::drop_database`] removes it again
//! (`DROP DATABASE ... WITH (FORCE)`, so open pools do not block it). An unreachable
//! server is an error with a clear message, never a silent skip.

use std::time::Duration;

use anyhow::{Context as _, Result};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection};

/// How long to wait for the admin connection before declaring the server unreachable.
const ADMIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database created for one test; drop it with [`TempDatabase::drop_database`].
#[derive(Debug)]
pub struct TempDatabase {
    /// Connection URL of the fresh database (same server and credentials as the admin URL).
    pub url: String,
    /// Name of the database, `kalcord_test_<unique>`.
    pub name: String,
    admin_url: String,
}

/// Creates a fresh, empty database on the test PostgreSQL server.
///
/// # Errors
///
/// Fails (naming the server, without its password) when PostgreSQL is unreachable or
/// refuses `CREATE DATABASE`.
pub async fn fresh_database() -> Result<TempDatabase> {
    let admin_url = crate::env::postgres_url();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let name = format!("{PREFIX}{now}_{}", crate::env::unique_suffix());
    let url = database_url(&admin_url, &name)?;

    let admin = connect_admin(&admin_url).await?;
    sweep_abandoned(&admin, now).await;
    let created = admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .with_context(|| format!("cannot create test database {name}"));
    // NOTE: close before propagating so a failed test run does not leak admin connections.
    admin.close().await.ok();
    created?;

    tracing::debug!(database = %name, "created test database");
    Ok(TempDatabase { url, name, admin_url })
}

impl TempDatabase {
    /// Drops the database, terminating any connection still open to it.
    ///
    /// # Errors
    ///
    /// Fails when the server is unreachable or the drop is refused.
    pub async fn drop_database(self) -> Result<()> {
        let admin = connect_admin(&self.admin_url).await?;
        let dropped = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
            .await
            .with_context(|| format!("cannot drop test database {}", self.name));
        admin.close().await.ok();
        dropped?;
        tracing::debug!(database = %self.name, "dropped test database");
        Ok(())
    }
}

/// Name prefix of test databases; the creation time (Unix seconds) follows it.
const PREFIX: &str = "kalcord_test_";
/// Age after which a test database is considered abandoned by a crashed test.
const ABANDONED_AFTER_SECS: u64 = 3600;

/// Drops test databases older than an hour: left behind by tests that panicked or were killed
/// before their clean-up ran. Best effort; a failure only leaves them for the next sweep.
async fn sweep_abandoned(admin: &DatabaseConnection, now: u64) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"),
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
        let created = name[PREFIX.len()..].split('_').next().and_then(|t| t.parse::<u64>().ok());
        // NOTE: names without a timestamp come from older harness versions: abandoned too.
        if created.is_none_or(|t| now.saturating_sub(t) > ABANDONED_AFTER_SECS) {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        }
    }
}

async fn connect_admin(admin_url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(admin_url);
    options
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(ADMIN_CONNECT_TIMEOUT)
        .acquire_timeout(ADMIN_CONNECT_TIMEOUT)
        .sqlx_logging(false);
    Database::connect(options).await.map_err(|err| {
        anyhow::anyhow!(
            "PostgreSQL is unreachable at {} ({}); start it (`make services`) or set {} \
             to a reachable server",
            redact(admin_url),
            without_password(&err.to_string(), admin_url),
            crate::env::ENV_POSTGRES_URL,
        )
    })
}

/// The admin URL with its path (database name) replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> Result<String> {
    let mut url = url::Url::parse(admin_url)
        .with_context(|| format!("{} is not a valid URL: {}", crate::env::ENV_POSTGRES_URL, redact(admin_url)))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// `url` with its password (if any) masked, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // NOTE: set_password only fails for URLs that cannot carry credentials at all.
            if parsed.set_password(Some("***")).is_ok() { parsed.to_string() } else { "<postgres url>".to_owned() }
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// `message` with any occurrence of the password in `url` masked.
fn without_password(message: &str, url: &str) -> String {
    match url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_owned)) {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_replaces_only_the_path() -> Result<()> {
        let _trace = crate::trace_init();
        let url = database_url("postgres://u:p@db.example:5433/postgres?sslmode=disable", "x1")?;
        assert_eq!(url, "postgres://u:p@db.example:5433/x1?sslmode=disable");
        Ok(())
    }

    #[test]
    fn redact_masks_the_password() {
        let _trace = crate::trace_init();
        let redacted = redact("postgres://u:s3cret@db.example/postgres");
        assert!(!redacted.contains("s3cret"), "{redacted}");
        assert!(redacted.contains("db.example"));
        assert_eq!(without_password("boom s3cret", "postgres://u:s3cret@h/d"), "boom ***");
    }
}
