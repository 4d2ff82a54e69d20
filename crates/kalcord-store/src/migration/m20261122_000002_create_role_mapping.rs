//! Creates `role_mapping`.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_guild::Guild;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum RoleMapping {
    Table,
    Id,
    GuildId,
    DiscordRoleId,
    MeetingRole,
    Priority,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoleMapping::Table)
                    .col(big_pk_auto(RoleMapping::Id))
                    .col(big_integer(RoleMapping::GuildId))
                    .col(big_integer(RoleMapping::DiscordRoleId))
                    .col(string_len(RoleMapping::MeetingRole, 16))
                    .col(integer(RoleMapping::Priority).default(0))
                    .col(timestamp_with_time_zone(RoleMapping::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_mapping_guild")
                            .from(RoleMapping::Table, RoleMapping::GuildId)
                            .to(Guild::Table, Guild::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_role_mapping_guild_role")
                    .table(RoleMapping::Table)
                    .col(RoleMapping::GuildId)
                    .col(RoleMapping::DiscordRoleId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RoleMapping::Table).to_owned()).await
    }
}
