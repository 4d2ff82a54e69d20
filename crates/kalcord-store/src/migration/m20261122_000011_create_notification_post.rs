//! Creates `notification_post`: one row per channel post the notifications service makes,
//! written before the post is sent, so a redelivered event finds it and never posts twice.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_guild::Guild;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum NotificationPost {
    Table,
    IdempotencyKey,
    GuildId,
    ChannelId,
    Kind,
    State,
    MessageId,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationPost::Table)
                    .col(string_len(NotificationPost::IdempotencyKey, 128).primary_key())
                    .col(big_integer(NotificationPost::GuildId))
                    .col(big_integer(NotificationPost::ChannelId))
                    .col(string_len(NotificationPost::Kind, 32))
                    .col(string_len(NotificationPost::State, 16))
                    .col(big_integer_null(NotificationPost::MessageId))
                    .col(timestamp_with_time_zone(NotificationPost::CreatedAt))
                    .col(timestamp_with_time_zone_null(NotificationPost::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_post_guild")
                            .from(NotificationPost::Table, NotificationPost::GuildId)
                            .to(Guild::Table, Guild::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // NOTE: the guild's posts, newest first (operations, pruning).
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_post_guild_created")
                    .table(NotificationPost::Table)
                    .col(NotificationPost::GuildId)
                    .col(NotificationPost::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(NotificationPost::Table).to_owned()).await
    }
}
