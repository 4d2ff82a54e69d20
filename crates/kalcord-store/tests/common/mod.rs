//! Harness: the suite is written once, generic over the backend, and instantiated for
//! SQLite (a temporary file) and PostgreSQL (a fresh database per test) by
//! [`backend_tests!`].

use std::panic::AssertUnwindSafe;

use anyhow::Context as _;
use futures::FutureExt as _;
use kalcord_store::{Backend, Store};
use kalcord_test_util::postgres::{TempDatabase, fresh_database};

/// What a test starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// A database with no tables at all.
    Empty,
    /// A database with every migration applied.
    Migrated,
}

/// A test's database and what to clean up afterwards.
#[derive(Debug)]
pub struct TestDb {
    /// The store under test.
    pub store: Store,
    /// The URL it was opened with (to open more stores on the same database).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(TempDatabase),
}

impl TestDb {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend, setup: Setup) -> anyhow::Result<Self> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
                // NOTE: a nested path, so every test also covers parent-directory creation.
                let path = dir.path().join("data").join("kalcord.db");
                (format!("sqlite://{}", path.display()), Cleanup::Sqlite(dir))
            }
            Backend::Postgres => {
                let db = fresh_database().await.context("the PostgreSQL half of the suite needs a reachable server")?;
                (db.url.clone(), Cleanup::Postgres(db))
            }
        };
        let store = Store::connect(&url).await?;
        anyhow::ensure!(store.backend() == backend, "connected to {}", store.backend());
        if setup == Setup::Migrated {
            store.migrate().await?;
        }
        Ok(Self { store, url, cleanup })
    }

    /// The backend under test.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// The sea-orm connection under test.
    pub fn conn(&self) -> &sea_orm::DatabaseConnection {
        self.store.connection()
    }

    /// Closes the store and removes the database.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.store.close().await?;
        match self.cleanup {
            Cleanup::Sqlite(dir) => dir.close().context("cannot remove the temporary directory"),
            Cleanup::Postgres(db) => db.drop_database().await,
        }
    }
}

/// Runs `test` on a fresh database and removes the database afterwards, even when the test
/// fails or panics.
pub async fn run<F>(backend: Backend, setup: Setup, test: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(&TestDb) -> anyhow::Result<()>,
{
    let db = TestDb::new(backend, setup).await?;
    let outcome = AssertUnwindSafe(test(&db)).catch_unwind().await;
    let cleanup = db.finish().await;
    match outcome {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(result) => {
            result?;
            cleanup
        }
    }
}

/// Generates `sqlite::<name>` and `postgres::<name>` test functions running
/// `async fn <name>(db: &TestDb) -> anyhow::Result<()>` from the enclosing module, each on a
/// fresh database prepared as `Setup::<setup>`:
/// `backend_tests!(Empty: a; Migrated: b, c);`
macro_rules! backend_tests {
    ($($setup:ident: $($name:ident),+ $(,)?);+ $(;)?) => {
        mod sqlite {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    let _trace = kalcord_test_util::trace_init();
                    $crate::common::run(
                        kalcord_store::Backend::Sqlite,
                        $crate::common::Setup::$setup,
                        super::$name,
                    )
                    .await
                }
            )+)+
        }

        mod postgres {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    let _trace = kalcord_test_util::trace_init();
                    $crate::common::run(
                        kalcord_store::Backend::Postgres,
                        $crate::common::Setup::$setup,
                        super::$name,
                    )
                    .await
                }
            )+)+
        }
    };
}
pub(crate) use backend_tests;

/// Asserts that `result` failed with a unique-constraint violation.
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, kalcord_store::StoreError>) {
    match result {
        Err(err) => assert!(err.is_conflict(), "expected a conflict, got {err:?}"),
        Ok(value) => panic!("expected a conflict, got Ok({value:?})"),
    }
}

/// A guild id (Discord snowflake) for tests.
pub const GUILD: i64 = 1_170_000_000_000_000_001;
/// Another guild id.
pub const OTHER_GUILD: i64 = 1_170_000_000_000_000_002;
/// A Discord user id.
pub const USER: i64 = 1_170_000_000_000_000_101;
/// Another Discord user id.
pub const OTHER_USER: i64 = 1_170_000_000_000_000_102;
