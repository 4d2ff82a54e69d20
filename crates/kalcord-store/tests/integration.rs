//! The integration suite, run against SQLite and PostgreSQL (see `common`).

mod common;

mod audit;
mod cascade;
mod connect;
mod constraints;
mod crud;
mod meeting_sync;
mod notification_post;
mod outbox;
mod presence;
mod schema;
