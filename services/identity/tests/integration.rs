//! The identity service on real components: the in-process bus, SQLite, the memory cache, the
//! in-process Kaltura and Discord emulators and a `0600` tenant secrets file; gateway events on
//! NATS JetStream, PostgreSQL and Redis.

mod integration {
    mod common;
    mod distributed;
    mod gateway;
    mod join;
    mod notifications;
    mod roles;
    mod setup;
    mod sync;
}
