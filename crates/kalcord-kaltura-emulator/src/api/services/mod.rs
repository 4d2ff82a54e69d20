//! The services and actions the emulator implements.

pub(crate) mod entry;
pub(crate) mod event;
pub(crate) mod event_resource;
pub(crate) mod resource;
pub(crate) mod session;
pub(crate) mod system;
pub(crate) mod user;
