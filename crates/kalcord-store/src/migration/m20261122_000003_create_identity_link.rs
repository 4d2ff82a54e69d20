//! Creates `identity_link`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum IdentityLink {
    Table,
    DiscordUserId,
    KalturaUserId,
    LinkedEmail,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityLink::Table)
                    .col(big_integer(IdentityLink::DiscordUserId).primary_key())
                    .col(string(IdentityLink::KalturaUserId))
                    .col(string_null(IdentityLink::LinkedEmail))
                    .col(timestamp_with_time_zone(IdentityLink::CreatedAt))
                    .col(timestamp_with_time_zone(IdentityLink::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_identity_link_kaltura_user")
                    .table(IdentityLink::Table)
                    .col(IdentityLink::KalturaUserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdentityLink::Table).to_owned()).await
    }
}
