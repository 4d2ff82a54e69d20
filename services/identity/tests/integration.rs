//! The identity service on real components: the in-process bus, SQLite, the memory cache, the
//! in-process Kaltura and Discord emulators and a `0600` tenant secrets file; gateway events
//! (published directly or by gateway-shard) and the 10,000-member sync on NATS JetStream,
//! PostgreSQL and Redis.

mod integration {
    mod common;
    mod distributed;
    mod gateway;
    mod gateway_harness;
    mod gateway_pipeline;
    mod join;
    mod notifications;
    mod roles;
    mod setup;
    mod sync;
}
