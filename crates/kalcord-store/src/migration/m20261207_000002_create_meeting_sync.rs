//! Creates `meeting_sync`: what the notifications service last made of a meeting in Discord (its
//! announcement edited up to a meeting version, the Discord scheduled event mirroring it), with a
//! short lease so one replica at a time brings a meeting's Discord objects up to date.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000004_create_meeting::Meeting;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MeetingSync {
    Table,
    MeetingId,
    GuildId,
    AnnouncementVersion,
    EventId,
    EventStatus,
    EventState,
    EventVersion,
    LeaseOwner,
    LeaseUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeetingSync::Table)
                    .col(uuid(MeetingSync::MeetingId).primary_key())
                    .col(big_integer(MeetingSync::GuildId))
                    .col(integer(MeetingSync::AnnouncementVersion).default(0))
                    .col(big_integer_null(MeetingSync::EventId))
                    .col(small_integer_null(MeetingSync::EventStatus))
                    .col(string_len(MeetingSync::EventState, 16).default("none"))
                    .col(integer(MeetingSync::EventVersion).default(0))
                    .col(string_len_null(MeetingSync::LeaseOwner, 64))
                    .col(timestamp_with_time_zone_null(MeetingSync::LeaseUntil))
                    .col(timestamp_with_time_zone(MeetingSync::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_meeting_sync_meeting")
                            .from(MeetingSync::Table, MeetingSync::MeetingId)
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MeetingSync::Table).to_owned()).await
    }
}
