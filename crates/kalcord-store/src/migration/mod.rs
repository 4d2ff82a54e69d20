//! Schema migrations (sea-orm-migration), one per table then one per later change, portable
//! across SQLite and PostgreSQL: built with the schema-builder API, enumerations as `varchar`,
//! JSON as `jsonb` (text on SQLite).

// NOTE: `MigrationTrait` declares `manager: &SchemaManager` with a late-bound elided lifetime;
// writing `SchemaManager<'_>` in the impls makes it early-bound and is rejected (E0195).
#![allow(elided_lifetimes_in_paths)]
// NOTE: sea-orm-migration's `schema` helpers are meant to be glob-imported, like its prelude.
#![allow(clippy::wildcard_imports)]

use sea_orm_migration::prelude::*;

mod m20261122_000001_create_guild;
mod m20261122_000002_create_role_mapping;
mod m20261122_000003_create_identity_link;
mod m20261122_000004_create_meeting;
mod m20261122_000005_create_participant;
mod m20261122_000006_create_recording;
mod m20261122_000007_create_audit_log;
mod m20261122_000008_guild_time_zone;
mod m20261122_000009_guild_bot_presence;
mod m20261122_000010_create_event_outbox;
mod m20261122_000011_create_notification_post;
mod m20261122_000012_meeting_reminders;
mod m20261207_000001_guild_notification_prefs;
mod m20261207_000002_create_meeting_sync;
mod m20261207_000003_create_kaltura_notice;

/// Every migration of the kalcord schema, in order. Run it with [`crate::Store::migrate`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_guild::Migration),
            Box::new(m20261122_000002_create_role_mapping::Migration),
            Box::new(m20261122_000003_create_identity_link::Migration),
            Box::new(m20261122_000004_create_meeting::Migration),
            Box::new(m20261122_000005_create_participant::Migration),
            Box::new(m20261122_000006_create_recording::Migration),
            Box::new(m20261122_000007_create_audit_log::Migration),
            Box::new(m20261122_000008_guild_time_zone::Migration),
            Box::new(m20261122_000009_guild_bot_presence::Migration),
            Box::new(m20261122_000010_create_event_outbox::Migration),
            Box::new(m20261122_000011_create_notification_post::Migration),
            Box::new(m20261122_000012_meeting_reminders::Migration),
            Box::new(m20261207_000001_guild_notification_prefs::Migration),
            Box::new(m20261207_000002_create_meeting_sync::Migration),
            Box::new(m20261207_000003_create_kaltura_notice::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_names_are_unique_and_ordered() {
        let _trace = kalcord_test_util::trace_init();
        let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        // NOTE: at least every migration up to the notification posts (later ones add to it).
        assert!(names.len() >= 11, "{names:?}");
    }
}
