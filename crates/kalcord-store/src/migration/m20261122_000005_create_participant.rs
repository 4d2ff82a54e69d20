//! Creates `participant`.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000004_create_meeting::Meeting;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Participant {
    Table,
    Id,
    MeetingId,
    DiscordUserId,
    Role,
    JoinedAt,
    LeftAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Participant::Table)
                    .col(big_pk_auto(Participant::Id))
                    .col(uuid(Participant::MeetingId))
                    .col(big_integer(Participant::DiscordUserId))
                    .col(string_len(Participant::Role, 16))
                    .col(timestamp_with_time_zone(Participant::JoinedAt))
                    .col(timestamp_with_time_zone_null(Participant::LeftAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participant_meeting")
                            .from(Participant::Table, Participant::MeetingId)
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_participant_meeting_user")
                    .table(Participant::Table)
                    .col(Participant::MeetingId)
                    .col(Participant::DiscordUserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Participant::Table).to_owned()).await
    }
}
