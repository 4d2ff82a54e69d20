//! Adds `meeting.reminder_sent_at`: when the reminder of a scheduled meeting was written to the
//! event outbox (`NULL`: not yet, or the start time moved since). Setting it in the reminder's
//! own transaction makes the reminder fire once across restarts and replicas.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Meeting {
    Table,
    ReminderSentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = timestamp_with_time_zone_null(Meeting::ReminderSentAt);
        manager.alter_table(Table::alter().table(Meeting::Table).add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Meeting::Table).drop_column(Meeting::ReminderSentAt).to_owned()).await
    }
}
