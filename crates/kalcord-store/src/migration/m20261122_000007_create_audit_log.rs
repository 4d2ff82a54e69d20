//! Creates `audit_log`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Seq,
    GuildId,
    Actor,
    Action,
    Target,
    Details,
    CreatedAt,
    PrevHash,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer(AuditLog::Seq))
                    // NOTE: deliberately no foreign key; entries outlive their guild.
                    .col(big_integer_null(AuditLog::GuildId))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(text_null(AuditLog::Target))
                    .col(json_binary(AuditLog::Details))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .col(char_len(AuditLog::PrevHash, 64))
                    .col(char_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("uq_audit_log_seq").table(AuditLog::Table).col(AuditLog::Seq).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_guild_seq")
                    .table(AuditLog::Table)
                    .col(AuditLog::GuildId)
                    .col(AuditLog::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
