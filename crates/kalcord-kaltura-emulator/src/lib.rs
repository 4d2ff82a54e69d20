#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// Allowed pedantic lints:
// - must_use_candidate: `remove_partner()`-style methods act; their result is informative only.
#![allow(clippy::must_use_candidate)]

mod admin;
mod api;
mod config;
mod error;
mod faults;
mod kaf;
mod model;
mod recordings;
mod server;
mod state;
mod webhooks;

pub use config::{DEFAULT_KS_MAX_EXPIRY_SECONDS, EmulatorConfig, PartnerConfig};
pub use error::EmulatorError;
pub use kalcord_kaltura::ks::SessionType;
pub use model::{
    Fault, FaultKind, HashAlgo, KafLaunch, RecordingRequest, RequestRecord, RoomRole, WebhookDelivery, WebhookFormat,
    WebhookInfo, WebhookSubscription,
};
pub use server::Emulator;
pub use state::EmulatorState;

/// Signs a webhook body as Kaltura does: lowercase hex of `H(secret || body)` (not an HMAC).
#[must_use]
pub fn webhook_signature(algo: HashAlgo, secret: &str, body: &[u8]) -> String {
    webhooks::sign(algo, secret, body)
}
