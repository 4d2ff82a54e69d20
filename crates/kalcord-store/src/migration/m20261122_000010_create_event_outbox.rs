//! Creates `event_outbox`: durable events written in the same transaction as the change they
//! describe, relayed to the bus afterwards (the transactional outbox).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum EventOutbox {
    Table,
    Id,
    Subject,
    Payload,
    CreatedAt,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventOutbox::Table)
                    .col(pk_uuid(EventOutbox::Id))
                    .col(string(EventOutbox::Subject))
                    .col(blob(EventOutbox::Payload))
                    .col(timestamp_with_time_zone(EventOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(EventOutbox::PublishedAt))
                    .to_owned(),
            )
            .await?;
        // NOTE: the relay asks for unpublished rows oldest first; pruning for old published ones.
        manager
            .create_index(
                Index::create()
                    .name("idx_event_outbox_published_created")
                    .table(EventOutbox::Table)
                    .col(EventOutbox::PublishedAt)
                    .col(EventOutbox::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EventOutbox::Table).to_owned()).await
    }
}
