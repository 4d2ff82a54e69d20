//! Creates `guild`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
pub(super) enum Guild {
    Table,
    Id,
    Name,
    KalturaPartnerId,
    KalturaServiceUrl,
    KalturaKafHost,
    NotificationChannelId,
    Locale,
    FeatureFlags,
    CustomFieldDefinitions,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Guild::Table)
                    .col(big_integer(Guild::Id).primary_key())
                    .col(string(Guild::Name))
                    .col(integer_null(Guild::KalturaPartnerId))
                    .col(text_null(Guild::KalturaServiceUrl))
                    .col(string_null(Guild::KalturaKafHost))
                    .col(big_integer_null(Guild::NotificationChannelId))
                    .col(string_len(Guild::Locale, 35).default("en-US"))
                    .col(json_binary(Guild::FeatureFlags))
                    .col(json_binary(Guild::CustomFieldDefinitions))
                    .col(timestamp_with_time_zone(Guild::CreatedAt))
                    .col(timestamp_with_time_zone(Guild::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Guild::Table).to_owned()).await
    }
}
