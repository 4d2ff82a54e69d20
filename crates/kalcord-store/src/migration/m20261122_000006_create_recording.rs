//! Creates `recording`.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000004_create_meeting::Meeting;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Recording {
    Table,
    Id,
    MeetingId,
    KalturaEntryId,
    Status,
    PlayUrl,
    DownloadUrl,
    ThumbnailUrl,
    DurationSeconds,
    PostedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recording::Table)
                    .col(pk_uuid(Recording::Id))
                    .col(uuid(Recording::MeetingId))
                    .col(string(Recording::KalturaEntryId))
                    .col(string_len(Recording::Status, 16))
                    .col(text_null(Recording::PlayUrl))
                    .col(text_null(Recording::DownloadUrl))
                    .col(text_null(Recording::ThumbnailUrl))
                    .col(integer_null(Recording::DurationSeconds))
                    .col(timestamp_with_time_zone_null(Recording::PostedAt))
                    .col(timestamp_with_time_zone(Recording::CreatedAt))
                    .col(timestamp_with_time_zone(Recording::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recording_meeting")
                            .from(Recording::Table, Recording::MeetingId)
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_recording_kaltura_entry")
                    .table(Recording::Table)
                    .col(Recording::KalturaEntryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recording_meeting")
                    .table(Recording::Table)
                    .col(Recording::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Recording::Table).to_owned()).await
    }
}
