//! Creates `kaltura_notice`: when each Kaltura partner last sent kalcord a signed notification.
//! Partners that stay quiet (no notification template pointing at kalcord) get their recordings
//! looked up by polling instead.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum KalturaNotice {
    Table,
    PartnerId,
    LastAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KalturaNotice::Table)
                    .col(big_integer(KalturaNotice::PartnerId).primary_key())
                    .col(timestamp_with_time_zone(KalturaNotice::LastAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(KalturaNotice::Table).to_owned()).await
    }
}
