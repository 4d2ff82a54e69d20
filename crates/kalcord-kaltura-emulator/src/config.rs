//! How an emulator is set up.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default `ksMaxExpiryInSeconds` of a partner (§2.1).
pub const DEFAULT_KS_MAX_EXPIRY_SECONDS: i64 = 86_400;

/// Configuration of a running emulator.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Where to listen; `127.0.0.1:0` (a free loopback port) by default.
    pub listen: SocketAddr,
    /// Partners known from the start (more can be added at run time).
    pub partners: Vec<PartnerConfig>,
    /// First delay between webhook delivery attempts; doubles after each failure.
    pub webhook_retry_delay: Duration,
    /// Attempts per webhook notification, the first included.
    pub webhook_max_attempts: u32,
    /// Delay between the status steps of a simulated recording (7 → 1 → 2).
    pub recording_step_delay: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            partners: Vec::new(),
            webhook_retry_delay: Duration::from_millis(50),
            webhook_max_attempts: 3,
            recording_step_delay: Duration::from_millis(50),
        }
    }
}

impl EmulatorConfig {
    /// The defaults plus one partner.
    #[must_use]
    pub fn with_partner(mut self, partner: PartnerConfig) -> Self {
        self.partners.push(partner);
        self
    }
}

/// One Kaltura partner (account).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerConfig {
    /// Partner id.
    pub id: i64,
    /// Admin secrets; the first one signs every KS the emulator mints, any of them verifies.
    pub admin_secrets: Vec<String>,
    /// User secret: accepted by `session.start` for USER sessions only (empty: none).
    #[serde(default)]
    pub user_secret: String,
    /// `ksMaxExpiryInSeconds`: `session.start` clamps the expiry to it (non-positive: 86400).
    #[serde(default = "default_max_expiry")]
    pub ks_max_expiry_seconds: i64,
    /// Display name of the account.
    #[serde(default)]
    pub name: String,
}

fn default_max_expiry() -> i64 {
    DEFAULT_KS_MAX_EXPIRY_SECONDS
}

impl PartnerConfig {
    /// A partner with one admin secret, a random user secret and the default expiry limit.
    #[must_use]
    pub fn new(id: i64, admin_secret: &str) -> Self {
        let mut user_secret = [0u8; 16];
        rand::fill(&mut user_secret);
        Self {
            id,
            admin_secrets: vec![admin_secret.to_owned()],
            user_secret: hex::encode(user_secret),
            ks_max_expiry_seconds: DEFAULT_KS_MAX_EXPIRY_SECONDS,
            name: format!("Partner {id}"),
        }
    }

    /// Sets the user secret.
    #[must_use]
    pub fn with_user_secret(mut self, secret: &str) -> Self {
        secret.clone_into(&mut self.user_secret);
        self
    }

    /// The secret that signs minted sessions.
    #[must_use]
    pub fn signing_secret(&self) -> Option<&str> {
        self.admin_secrets.first().map(String::as_str)
    }

    /// The effective maximum KS lifetime.
    #[must_use]
    pub fn max_expiry(&self) -> i64 {
        if self.ks_max_expiry_seconds > 0 { self.ks_max_expiry_seconds } else { DEFAULT_KS_MAX_EXPIRY_SECONDS }
    }
}

impl std::fmt::Debug for PartnerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerConfig")
            .field("id", &self.id)
            .field("admin_secrets", &format_args!("[{} redacted]", self.admin_secrets.len()))
            .field("user_secret", &"[redacted]")
            .field("ks_max_expiry_seconds", &self.ks_max_expiry_seconds)
            .field("name", &self.name)
            .finish()
    }
}
