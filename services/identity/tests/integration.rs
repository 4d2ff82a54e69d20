//! The identity service on real components: the in-process bus, SQLite, the memory cache, the
//! in-process Kaltura emulator and a `0600` tenant secrets file.

mod integration {
    mod common;
    mod distributed;
    mod join;
    mod roles;
    mod setup;
}
