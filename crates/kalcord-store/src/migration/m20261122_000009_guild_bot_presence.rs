//! Adds the bot's presence in a guild to `guild`: `active` (the bot is in the guild; `TRUE` for
//! every existing row), `bot_joined_at`, `bot_left_at` and `onboarded_at` (when the setup guide
//! was posted, or deliberately skipped) and `presence_seq` (the bus sequence of the last join or
//! removal event applied, so an older one delivered late is ignored).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Guild {
    Table,
    Active,
    BotJoinedAt,
    BotLeftAt,
    OnboardedAt,
    PresenceSeq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // NOTE: one column per statement: SQLite's ALTER TABLE adds a single column at a time.
        let columns = [
            boolean(Guild::Active).default(true).to_owned(),
            timestamp_with_time_zone_null(Guild::BotJoinedAt),
            timestamp_with_time_zone_null(Guild::BotLeftAt),
            timestamp_with_time_zone_null(Guild::OnboardedAt),
            big_integer_null(Guild::PresenceSeq),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Guild::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Guild::PresenceSeq, Guild::OnboardedAt, Guild::BotLeftAt, Guild::BotJoinedAt, Guild::Active] {
            manager.alter_table(Table::alter().table(Guild::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
