//! The notifications service on real NATS JetStream, PostgreSQL and Redis, posting to the
//! in-process Discord emulator.

mod integration {
    mod common;
    mod crash;
    mod meetings;
    mod posts;
}
