//! The hash-chained audit log: appends link up, verification catches tampering.

use kalcord_store::{
    StoreError,
    audit::{self, GENESIS_HASH, NewAuditEntry, expected_hash},
    entity::{audit_log, prelude::*},
};
use sea_orm::{
    ActiveModelTrait as _, ConnectionTrait as _, EntityTrait as _, IntoActiveModel as _, ModelTrait as _, NotSet,
    PaginatorTrait as _, QueryOrder as _, Set, TransactionTrait as _,
};
use serde_json::json;

use crate::common::{GUILD, TestDb, backend_tests};

backend_tests!(
    Migrated: empty_log_verifies,
    appends_form_a_verified_chain,
    tampered_action_breaks_the_chain_at_that_seq,
    tampered_details_break_the_chain_at_that_seq,
    deleted_entry_breaks_the_chain_after_it,
    orm_updates_and_deletes_are_refused,
    concurrent_appends_keep_the_chain_intact,
    append_survives_a_writer_that_took_its_seq,
);

async fn append_n(db: &TestDb, n: usize) -> anyhow::Result<Vec<audit_log::Model>> {
    let mut rows = Vec::new();
    for i in 0..n {
        let entry = NewAuditEntry::new(format!("discord:{i}"), "meeting.create")
            .guild(GUILD)
            .target(format!("meeting:{i}"))
            .details(json!({"i": i, "note": "ünïcødé ✓"}));
        rows.push(audit::append(db.conn(), entry).await?);
    }
    Ok(rows)
}

async fn empty_log_verifies(db: &TestDb) -> anyhow::Result<()> {
    audit::verify_chain(db.conn()).await?;
    Ok(())
}

async fn appends_form_a_verified_chain(db: &TestDb) -> anyhow::Result<()> {
    let mut rows = append_n(db, 3).await?;
    // Documents the database may hand back differently (key order, number spelling).
    let odd: serde_json::Value = serde_json::from_str(
        r#"{"z": 1.0, "a": [1e2, 2.5, -0.0, 10000000000000000000], "m": {"y": null, "b": true}}"#,
    )?;
    rows.push(audit::append(db.conn(), NewAuditEntry::new("system", "sync").details(odd)).await?);

    assert_eq!(rows[0].seq, 1);
    assert_eq!(rows[0].prev_hash, GENESIS_HASH);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let stored = AuditLog::find().order_by_asc(audit_log::Column::Seq).all(db.conn()).await?;
    assert_eq!(stored.len(), 4);
    for (row, appended) in stored.iter().zip(&rows) {
        assert_eq!(row.created_at, appended.created_at, "timestamps round-trip exactly");
        assert_eq!(row.hash, appended.hash);
        assert_eq!(expected_hash(row), row.hash);
    }
    audit::verify_chain(db.conn()).await?;
    Ok(())
}

async fn assert_broken_at(db: &TestDb, seq: i64) {
    match audit::verify_chain(db.conn()).await {
        Err(StoreError::AuditChainBroken { seq: at }) => assert_eq!(at, seq),
        other => panic!("expected the chain to break at seq {seq}, got {other:?}"),
    }
}

async fn tampered_action_breaks_the_chain_at_that_seq(db: &TestDb) -> anyhow::Result<()> {
    append_n(db, 5).await?;
    audit::verify_chain(db.conn()).await?;
    db.conn().execute_unprepared("UPDATE audit_log SET action = 'meeting.delete' WHERE seq = 3").await?;
    assert_broken_at(db, 3).await;
    Ok(())
}

async fn tampered_details_break_the_chain_at_that_seq(db: &TestDb) -> anyhow::Result<()> {
    append_n(db, 4).await?;
    db.conn().execute_unprepared(r#"UPDATE audit_log SET details = '{"i": 99}' WHERE seq = 2"#).await?;
    assert_broken_at(db, 2).await;
    Ok(())
}

async fn deleted_entry_breaks_the_chain_after_it(db: &TestDb) -> anyhow::Result<()> {
    append_n(db, 4).await?;
    db.conn().execute_unprepared("DELETE FROM audit_log WHERE seq = 2").await?;
    assert_broken_at(db, 3).await;
    Ok(())
}

async fn orm_updates_and_deletes_are_refused(db: &TestDb) -> anyhow::Result<()> {
    let row = audit::append(db.conn(), NewAuditEntry::new("system", "x")).await?;
    let mut changes = row.clone().into_active_model();
    changes.action = Set("y".into());
    assert!(changes.update(db.conn()).await.is_err());
    assert!(row.delete(db.conn()).await.is_err());
    assert_eq!(AuditLog::find().count(db.conn()).await?, 1);
    audit::verify_chain(db.conn()).await?;
    Ok(())
}

async fn concurrent_appends_keep_the_chain_intact(db: &TestDb) -> anyhow::Result<()> {
    const WRITERS: usize = 8;
    const EACH: usize = 10;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let store = db.store.clone();
        tasks.spawn(async move {
            for i in 0..EACH {
                let entry = NewAuditEntry::new(format!("writer:{writer}"), format!("op.{i}"));
                audit::append(store.connection(), entry).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    assert_eq!(AuditLog::find().count(db.conn()).await?, u64::try_from(WRITERS * EACH)?);
    audit::verify_chain(db.conn()).await?;
    Ok(())
}

/// A writer outside `append` (no lock) takes seq 2 while an append is under way: the append
/// waits for it (SQLite: the write lock; PostgreSQL: the unique index, then a retry) and
/// lands on seq 3.
async fn append_survives_a_writer_that_took_its_seq(db: &TestDb) -> anyhow::Result<()> {
    let first = audit::append(db.conn(), NewAuditEntry::new("system", "first")).await?;
    let intruder = db.conn().begin().await?;
    let mut row: audit_log::ActiveModel = first.clone().into_active_model().reset_all();
    row.id = NotSet;
    row.seq = Set(2);
    row.prev_hash = Set(first.hash.clone());
    row.hash = Set("f".repeat(64));
    row.insert(&intruder).await?;

    let store = db.store.clone();
    let appending =
        tokio::spawn(async move { audit::append(store.connection(), NewAuditEntry::new("system", "second")).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    intruder.commit().await?;

    let appended = appending.await??;
    assert_eq!(appended.seq, 3);
    assert_eq!(appended.prev_hash, "f".repeat(64));
    assert_broken_at(db, 2).await;
    Ok(())
}
