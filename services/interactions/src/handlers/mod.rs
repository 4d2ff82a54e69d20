//! The handlers this service registers.

mod status;

pub use status::KalturaStatus;

use crate::handler::Registry;

/// Every handler, by route key.
#[must_use]
pub fn registry() -> Registry {
    Registry::default().with("command:kaltura status", KalturaStatus)
}
