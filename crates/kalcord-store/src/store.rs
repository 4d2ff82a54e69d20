//! The connection pool handle: [`Store`].

use std::{fmt, path::Path, sync::Arc, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, SqliteTransactionMode, TransactionOptions,
    TransactionTrait as _,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use sea_orm_migration::MigratorTrait as _;

use crate::{StoreError, dburl, migration::Migrator};

/// How long to wait for a pooled connection (and, at startup, for the server).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SQLite waits on a locked database before failing with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pool size for a SQLite file: WAL allows concurrent readers, writers queue on the lock.
const SQLITE_FILE_MAX_CONNECTIONS: u32 = 4;
/// Pool size for PostgreSQL, per process.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// PostgreSQL advisory lock serialising migrations: `b"kalcord\x02"` as a big-endian `i64`.
const MIGRATE_LOCK_KEY: i64 = i64::from_be_bytes(*b"kalcord\x02");

/// The database backend behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (a file, or in memory): development and single-node installs.
    Sqlite,
    /// PostgreSQL: production.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A pooled connection to the kalcord database. Cheap to clone.
///
/// Its `Debug` output shows the backend and the URL with any password masked.
#[derive(Clone)]
pub struct Store {
    conn: DatabaseConnection,
    backend: Backend,
    /// The URL with any password replaced by `***`.
    display_url: Arc<str>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("url", &self.display_url).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a connection pool.
    ///
    /// Accepts `sqlite://path/to/file.db` (file and parent directory are created if
    /// missing; WAL journal, foreign keys on, busy timeout), `sqlite::memory:` (one
    /// connection, gone when the store is dropped) and `postgres://...`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (backend, options, display_url, password) = if url.starts_with("sqlite:") {
            let options = sqlite_options(url)?;
            (Backend::Sqlite, options, url.to_owned(), None)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let split = dburl::split_password(url)
                .map_err(|message| StoreError::Connect { url: "<postgres url>".to_owned(), message })?;
            let options = postgres_options(&split.public, split.password.clone());
            (Backend::Postgres, options, split.display, split.password)
        } else {
            return Err(StoreError::UnsupportedUrl { url: unsupported_display(url) });
        };

        let conn = Database::connect(options).await.map_err(|err| StoreError::Connect {
            url: display_url.clone(),
            message: dburl::scrub(&err.to_string(), password.as_deref()),
        })?;
        tracing::info!(%backend, url = %display_url, "connected to database");
        Ok(Self { conn, backend, display_url: display_url.into() })
    }

    /// Applies every pending migration; a no-op when the schema is current.
    ///
    /// Safe when several replicas start at once: the migrations run in one transaction that
    /// first takes a lock (an advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so
    /// one replica migrates and the others wait, then find nothing to do.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let sqlite = self.backend == Backend::Sqlite;
        let options = TransactionOptions {
            sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = self.conn.begin_with_options(options).await.map_err(StoreError::Migration)?;
        if !sqlite {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATE_LOCK_KEY})"))
                .await
                .map_err(StoreError::Migration)?;
        }
        Migrator::up(&txn, None).await.map_err(StoreError::Migration)?;
        txn.commit().await.map_err(StoreError::Migration)?;
        tracing::debug!(backend = %self.backend, "database schema is current");
        Ok(())
    }

    /// Round-trips to the database; for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn.ping().await.map_err(StoreError::Db)
    }

    /// The underlying sea-orm connection, for the repositories and custom queries.
    #[must_use]
    pub fn connection(&self) -> &sea_orm::DatabaseConnection {
        &self.conn
    }

    /// Which backend this store talks to.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(self) -> Result<(), StoreError> {
        self.conn.close().await.map_err(StoreError::Db)
    }
}

fn sqlite_options(url: &str) -> Result<ConnectOptions, StoreError> {
    let parsed: SqliteConnectOptions =
        url.parse().map_err(|err| StoreError::Connect { url: url.to_owned(), message: format!("{err}") })?;
    let in_memory = sqlite_in_memory(url);
    if !in_memory {
        create_parent_dir(parsed.get_filename())?;
    }

    let mut options = ConnectOptions::new(url);
    options.acquire_timeout(ACQUIRE_TIMEOUT).sqlx_logging(false);
    if in_memory {
        // NOTE: the database lives as long as its last connection; keep exactly one forever.
        options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
    } else {
        options.max_connections(SQLITE_FILE_MAX_CONNECTIONS).min_connections(1);
    }
    options.map_sqlx_sqlite_opts(move |opts| {
        let opts = opts.foreign_keys(true).busy_timeout(SQLITE_BUSY_TIMEOUT);
        if in_memory {
            opts
        } else {
            opts.create_if_missing(true).journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal)
        }
    });
    Ok(options)
}

/// Whether a `sqlite:` URL names an in-memory database (`:memory:` or `mode=memory`).
fn sqlite_in_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:"
        || url::form_urlencoded::parse(params.as_bytes()).any(|(key, value)| key == "mode" && value == "memory")
}

fn create_parent_dir(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::Io { path: parent.display().to_string(), source }),
        _ => Ok(()),
    }
}

fn postgres_options(public_url: &str, password: Option<String>) -> ConnectOptions {
    let mut options = ConnectOptions::new(public_url);
    options
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(Duration::from_mins(5))
        .max_lifetime(Duration::from_mins(30))
        .sqlx_logging(false)
        .set_application_name("kalcord");
    if let Some(password) = password {
        // NOTE: the password reaches the driver only here, never through the URL sea-orm
        // keeps (and may record in trace spans).
        options.map_sqlx_postgres_opts(move |opts| opts.password(&password));
    }
    options
}

/// An unsupported URL for an error message: its scheme only, so nothing secret leaks.
fn unsupported_display(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _)) => format!("{scheme}:..."),
        None => "<not a url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_urls_are_recognised() {
        let _trace = kalcord_test_util::trace_init();
        assert!(sqlite_in_memory("sqlite::memory:"));
        assert!(sqlite_in_memory("sqlite://:memory:"));
        assert!(sqlite_in_memory("sqlite://db?mode=memory"));
        assert!(!sqlite_in_memory("sqlite://data/kalcord.db"));
        assert!(!sqlite_in_memory("sqlite:kalcord.db?mode=rwc"));
    }

    #[test]
    fn unsupported_url_shows_only_the_scheme() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(unsupported_display("mysql://u:s3cret@h/db"), "mysql:...");
        assert_eq!(unsupported_display("garbage"), "<not a url>");
    }

    #[test]
    fn backend_displays_lowercase() {
        let _trace = kalcord_test_util::trace_init();
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.to_string(), "postgres");
    }
}
