//! Adds a guild's notification preferences to `guild`: `reminder_minutes` (lead time of meeting
//! reminders; `NULL`: the service default), `mention_role_id` (role mentioned in posts that call
//! members to a meeting; `NULL`: none), `scheduled_events` (mirror scheduled meetings as Discord
//! scheduled events; `TRUE` for every existing row) and `muted_posts` (comma-separated post kinds
//! not posted; empty: every kind is posted).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Guild {
    Table,
    ReminderMinutes,
    MentionRoleId,
    ScheduledEvents,
    MutedPosts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // NOTE: one column per statement: SQLite's ALTER TABLE adds a single column at a time.
        let columns = [
            integer_null(Guild::ReminderMinutes),
            big_integer_null(Guild::MentionRoleId),
            boolean(Guild::ScheduledEvents).default(true).to_owned(),
            string_len(Guild::MutedPosts, 200).default("").to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Guild::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Guild::MutedPosts, Guild::ScheduledEvents, Guild::MentionRoleId, Guild::ReminderMinutes] {
            manager.alter_table(Table::alter().table(Guild::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
