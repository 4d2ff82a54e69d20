//! Repositories: the queries the services need, one module per table.
//!
//! Every function takes any [`sea_orm::ConnectionTrait`], so it runs as well on
//! [`crate::Store::connection`] as inside a transaction. Unique-constraint violations come
//! back as [`crate::StoreError::Conflict`]; updates of missing rows as
//! [`crate::StoreError::NotFound`].

pub mod guilds;
pub mod identity_links;
pub mod kaltura_notices;
pub mod meeting_syncs;
pub mod meetings;
pub mod notification_posts;
pub mod outbox;
pub mod participants;
pub mod recordings;
pub mod role_mappings;

use sea_orm::{ActiveValue, DbErr};

use crate::StoreError;

/// A primary-key value of an active model, rendered for error messages.
fn key<V>(value: &ActiveValue<V>) -> String
where
    V: Into<sea_orm::Value> + ToString,
{
    value.try_as_ref().map_or_else(|| "<unset>".to_owned(), ToString::to_string)
}

/// Maps "no row was updated" to [`StoreError::NotFound`], everything else as usual.
fn update_err(entity: &'static str, id: String) -> impl FnOnce(DbErr) -> StoreError {
    move |err| match err {
        DbErr::RecordNotUpdated => StoreError::NotFound { entity, id },
        other => other.into(),
    }
}
