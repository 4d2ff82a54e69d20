//! The application commands kalcord registers, and how they are kept in sync.

mod definitions;
mod model;
mod sync;

pub use definitions::{all, is_ephemeral, kaltura, meeting};
pub use model::{CommandDefinition, CommandOption, OptionChoice, option_kind};
pub use sync::{PRIMARY_ENTRY_POINT, SyncPlan, plan};

#[cfg(test)]
mod tests;
