//! `audit_log`: the append-only, hash-chained audit trail (see [`crate::audit`]).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One audit entry. Write through [`crate::audit::append`] only: the hooks below refuse
/// updates and deletes through the ORM.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Position in the chain: 1, 2, 3...
    #[sea_orm(unique)]
    pub seq: i64,
    /// The guild concerned, if any (no foreign key: the log outlives guilds).
    pub guild_id: Option<i64>,
    /// Who acted (e.g. `discord:1234`, `system`).
    pub actor: String,
    /// What was done (e.g. `meeting.create`).
    pub action: String,
    /// What it was done to, if anything.
    pub target: Option<String>,
    /// Free-form details (JSON).
    #[sea_orm(column_type = "JsonBinary")]
    pub details: Json,
    /// When the entry was written (microsecond precision).
    pub created_at: DateTimeUtc,
    /// `hash` of the previous entry; 64 zeros for seq 1.
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash` and this entry's content.
    pub hash: String,
}

/// `audit_log` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        if insert { Ok(self) } else { Err(DbErr::Custom("audit log is append-only".to_owned())) }
    }

    async fn before_delete<C>(self, _db: &C) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        Err(DbErr::Custom("audit log is append-only".to_owned()))
    }
}
