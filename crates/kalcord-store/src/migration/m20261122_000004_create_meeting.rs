//! Creates `meeting`.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_guild::Guild;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
pub(super) enum Meeting {
    Table,
    Id,
    GuildId,
    Kind,
    Title,
    Description,
    ScheduledStart,
    ScheduledEnd,
    ActualStart,
    ActualEnd,
    Status,
    HostDiscordUserId,
    KalturaResourceId,
    KalturaEventId,
    KalturaEntryId,
    DiscordChannelId,
    DiscordMessageId,
    DiscordScheduledEventId,
    CustomFields,
    IdempotencyKey,
    Version,
    CreatedAt,
    UpdatedAt,
}

fn table() -> TableCreateStatement {
    Table::create()
        .table(Meeting::Table)
        .col(pk_uuid(Meeting::Id))
        .col(big_integer(Meeting::GuildId))
        .col(string_len(Meeting::Kind, 32))
        .col(string(Meeting::Title))
        .col(text_null(Meeting::Description))
        .col(timestamp_with_time_zone_null(Meeting::ScheduledStart))
        .col(timestamp_with_time_zone_null(Meeting::ScheduledEnd))
        .col(timestamp_with_time_zone_null(Meeting::ActualStart))
        .col(timestamp_with_time_zone_null(Meeting::ActualEnd))
        .col(string_len(Meeting::Status, 16))
        .col(big_integer(Meeting::HostDiscordUserId))
        .col(string_null(Meeting::KalturaResourceId))
        .col(string_null(Meeting::KalturaEventId))
        .col(string_null(Meeting::KalturaEntryId))
        .col(big_integer_null(Meeting::DiscordChannelId))
        .col(big_integer_null(Meeting::DiscordMessageId))
        .col(big_integer_null(Meeting::DiscordScheduledEventId))
        .col(json_binary(Meeting::CustomFields))
        .col(string_null(Meeting::IdempotencyKey))
        .col(integer(Meeting::Version).default(1))
        .col(timestamp_with_time_zone(Meeting::CreatedAt))
        .col(timestamp_with_time_zone(Meeting::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_meeting_guild")
                .from(Meeting::Table, Meeting::GuildId)
                .to(Guild::Table, Guild::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_meeting_guild_idempotency_key")
                    .table(Meeting::Table)
                    .col(Meeting::GuildId)
                    .col(Meeting::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meeting_guild_status")
                    .table(Meeting::Table)
                    .col(Meeting::GuildId)
                    .col(Meeting::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Meeting::Table).to_owned()).await
    }
}
