//! Connecting: URL forms, connection settings, readiness, credential hygiene.

use kalcord_store::{Backend, Store, StoreError, repo::guilds};
use sea_orm::{ConnectionTrait as _, Statement};

use crate::common::{GUILD, TestDb, backend_tests};

backend_tests!(Migrated: ping_succeeds, connection_settings_are_applied);

async fn ping_succeeds(db: &TestDb) -> anyhow::Result<()> {
    db.store.ping().await?;
    db.store.clone().ping().await?;
    Ok(())
}

async fn query_string(db: &TestDb, sql: &str) -> anyhow::Result<String> {
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(db.conn().get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("{sql} returned no row"))?;
    Ok(row.try_get_by_index::<String>(0)?)
}

async fn connection_settings_are_applied(db: &TestDb) -> anyhow::Result<()> {
    match db.backend() {
        Backend::Sqlite => {
            assert_eq!(query_string(db, "PRAGMA journal_mode").await?, "wal");
            let fk = db
                .conn()
                .query_one_raw(Statement::from_string(db.conn().get_database_backend(), "PRAGMA foreign_keys"))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no pragma row"))?
                .try_get_by_index::<i32>(0)?;
            assert_eq!(fk, 1);
        }
        Backend::Postgres => {
            assert_eq!(query_string(db, "SHOW application_name").await?, "kalcord");
        }
    }
    Ok(())
}

#[tokio::test]
async fn sqlite_file_and_parent_directories_are_created() -> anyhow::Result<()> {
    let _trace = kalcord_test_util::trace_init();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a").join("b").join("kalcord.db");
    let store = Store::connect(&format!("sqlite://{}", path.display())).await?;
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await?;
    assert!(path.is_file(), "{} should exist", path.display());
    store.close().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_in_memory_store_keeps_its_data() -> anyhow::Result<()> {
    let _trace = kalcord_test_util::trace_init();
    let store = Store::connect("sqlite::memory:").await?;
    store.migrate().await?;
    guilds::create(store.connection(), GUILD, "In memory").await?;
    // NOTE: several round trips; the single pooled connection must keep the database alive.
    for _ in 0..3 {
        store.ping().await?;
        assert!(guilds::get(store.connection(), GUILD).await?.is_some());
    }
    store.close().await?;
    Ok(())
}

/// `url` with `password` put in its userinfo.
fn with_password(url: &str, password: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    parsed.set_password(Some(password)).map_err(|()| anyhow::anyhow!("cannot set a password on {url}"))?;
    Ok(parsed.to_string())
}

#[tokio::test]
async fn postgres_password_is_never_printed() -> anyhow::Result<()> {
    let _trace = kalcord_test_util::trace_init();
    const SECRET: &str = "s3cret-Pa55word";
    let temp = kalcord_test_util::postgres::fresh_database().await?;
    let outcome = async {
        // The test server trusts loopback connections, so the password is sent but ignored.
        let store = Store::connect(&with_password(&temp.url, SECRET)?).await?;
        store.ping().await?;
        let shown = format!("{store:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        store.close().await?;

        let mut missing = url::Url::parse(&with_password(&temp.url, SECRET)?)?;
        missing.set_path("/kalcord_no_such_database");
        let err = Store::connect(missing.as_str())
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("connecting to a missing database succeeded"))?;
        assert!(matches!(err, StoreError::Connect { .. }), "{err:?}");
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
        }

        let query_form = format!("{}?password={SECRET}", temp.url);
        let store = Store::connect(&query_form).await?;
        assert!(!format!("{store:?}").contains(SECRET));
        store.close().await?;
        anyhow::Ok(())
    }
    .await;
    temp.drop_database().await?;
    outcome
}

#[tokio::test]
async fn unsupported_urls_are_rejected_without_echoing_them() {
    let _trace = kalcord_test_util::trace_init();
    let err = Store::connect("mysql://root:hunter2@localhost/kalcord").await.err();
    assert!(matches!(&err, Some(StoreError::UnsupportedUrl { url }) if !url.contains("hunter2")), "{err:?}");
}
