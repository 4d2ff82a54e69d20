//! The append-only, hash-chained audit log.
//!
//! Every entry carries `seq` (1, 2, 3...), the previous entry's hash and its own hash over
//! that and its content (see [`canonical_json`] and the encoding notes in the source), so
//! editing, reordering or deleting an entry breaks the chain at that point;
//! [`verify_chain`] finds the first broken link. Removing entries from the *end* of the log
//! cannot be detected from the log alone; anchor the latest hash elsewhere for that.

mod hash;

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DatabaseBackend, EntityTrait as _, NotSet,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, SqliteTransactionMode, TransactionOptions,
    TransactionSession as _, TransactionTrait,
};
use serde_json::Value;

pub use hash::{GENESIS_HASH, canonical_json, expected_hash};

use crate::{
    StoreError,
    entity::audit_log::{self, Column},
};

/// How many times [`append`] retries after losing the race for the next `seq`.
const MAX_ATTEMPTS: u32 = 16;
/// PostgreSQL advisory lock serialising appenders: `b"kalcord\x01"` as a big-endian `i64`.
const APPEND_LOCK_KEY: i64 = 7_737_584_809_126_552_577;
/// Rows read per query by [`verify_chain`].
const VERIFY_PAGE: u64 = 500;

/// An entry to append; `seq`, timestamps and hashes are filled in by [`append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// The guild concerned, if any.
    pub guild_id: Option<i64>,
    /// Who acted (e.g. `discord:1234`, `system`).
    pub actor: String,
    /// What was done (e.g. `meeting.create`).
    pub action: String,
    /// What it was done to, if anything.
    pub target: Option<String>,
    /// Free-form details.
    pub details: Value,
}

impl NewAuditEntry {
    /// An entry with no guild, no target and empty (`{}`) details.
    #[must_use]
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            guild_id: None,
            actor: actor.into(),
            action: action.into(),
            target: None,
            details: Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the guild.
    #[must_use]
    pub fn guild(mut self, guild_id: i64) -> Self {
        self.guild_id = Some(guild_id);
        self
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends an entry at the end of the chain and returns the stored row.
///
/// Reads the last entry and inserts `seq + 1` in one transaction. Writers queue on a lock
/// first (`BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock on PostgreSQL), so
/// they rarely collide; when one still finds its `seq` taken (a writer that skipped the lock,
/// or a caller's transaction at `REPEATABLE READ`), the unique index rejects the insert and
/// the append is retried, up to a bound ([`StoreError::AuditContention`]).
pub async fn append<C>(db: &C, entry: NewAuditEntry) -> Result<audit_log::Model, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    if entry.actor.is_empty() || entry.action.is_empty() {
        return Err(StoreError::InvalidInput("audit entry needs an actor and an action".to_owned()));
    }
    for attempt in 1..=MAX_ATTEMPTS {
        match try_append(db, &entry).await {
            Err(err) if err.is_conflict() => {
                tracing::debug!(attempt, "audit seq taken by a concurrent writer, retrying");
            }
            result => return result,
        }
    }
    Err(StoreError::AuditContention { attempts: MAX_ATTEMPTS })
}

async fn try_append<C>(db: &C, entry: &NewAuditEntry) -> Result<audit_log::Model, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let txn = db.begin_with_options(options).await?;
    match insert_next(&txn, entry).await {
        Ok(model) => {
            txn.commit().await?;
            Ok(model)
        }
        Err(err) => {
            // NOTE: the insert error is the one worth reporting; a failed rollback only
            // means the connection is gone, and the pool discards it.
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "audit append rollback failed");
            }
            Err(err)
        }
    }
}

async fn insert_next<C>(txn: &C, entry: &NewAuditEntry) -> Result<audit_log::Model, StoreError>
where
    C: ConnectionTrait,
{
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // NOTE: released at commit or rollback; under READ COMMITTED the query below then
        // sees the entry of whoever held the lock before.
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")).await?;
    }
    let last = audit_log::Entity::find().order_by_desc(Column::Seq).one(txn).await?;
    let (seq, prev_hash) = match last {
        Some(row) => (row.seq + 1, row.hash),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let created_at = crate::now();
    let hash = hash::Content {
        prev_hash: &prev_hash,
        seq,
        guild_id: entry.guild_id,
        actor: &entry.actor,
        action: &entry.action,
        target: entry.target.as_deref(),
        details: &entry.details,
        created_at,
    }
    .hash();
    let row = audit_log::ActiveModel {
        id: NotSet,
        seq: Set(seq),
        guild_id: Set(entry.guild_id),
        actor: Set(entry.actor.clone()),
        action: Set(entry.action.clone()),
        target: Set(entry.target.clone()),
        details: Set(entry.details.clone()),
        created_at: Set(created_at),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
    };
    Ok(row.insert(txn).await?)
}

/// Walks the whole log in `seq` order and checks every link.
///
/// Fails with [`StoreError::AuditChainBroken`] at the first entry whose `seq` is not the
/// next one, whose `prev_hash` is not its predecessor's hash, or whose own hash does not
/// match its content. An empty log verifies.
pub async fn verify_chain<C>(db: &C) -> Result<(), StoreError>
where
    C: ConnectionTrait,
{
    let mut expected_seq: i64 = 1;
    let mut prev_hash = GENESIS_HASH.to_owned();
    loop {
        let page = audit_log::Entity::find()
            .filter(Column::Seq.gte(expected_seq))
            .order_by_asc(Column::Seq)
            .limit(VERIFY_PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            return Ok(());
        }
        for row in page {
            if row.seq != expected_seq || row.prev_hash != prev_hash || expected_hash(&row) != row.hash {
                tracing::warn!(seq = row.seq, "audit chain broken");
                return Err(StoreError::AuditChainBroken { seq: row.seq });
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
    }
}
