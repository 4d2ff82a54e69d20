//! What every handler shares.

use kalcord_discord::egress::Egress;
use kalcord_runtime::Deps;
use kalcord_store::Store;

use crate::Config;

/// The service's state, shared by every event.
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) deps: Deps,
    /// Calls to Discord with the bot token.
    pub(crate) egress: Egress,
    /// Who this replica is when it holds a meeting's lease (unique per process).
    pub(crate) lease_owner: String,
    /// Leases taken so far (each call holds its own, named after this count).
    pub(crate) leases: std::sync::atomic::AtomicU64,
    pub(crate) store: Store,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish_non_exhaustive()
    }
}
