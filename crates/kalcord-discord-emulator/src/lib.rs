#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// Allowed pedantic lints:
// - must_use_candidate: `add_fault()`-style methods act; their result is informative only.
// - missing_panics_doc: nothing here panics on request data; the lint fires on `unwrap_or` chains it cannot see through.
// - doc_markdown: Discord's own names (OAuth2, GUILD_CREATE, RESUMED) are prose in these docs, not code.
#![allow(clippy::must_use_candidate, clippy::missing_panics_doc, clippy::doc_markdown)]

mod admin;
mod api_error;
mod config;
mod error;
mod faults;
mod gateway;
pub mod ids;
mod interaction;
pub mod perms;
mod ratelimit;
mod records;
mod rest;
pub mod seed;
mod sender;
mod server;
mod state;
mod validator;
mod world;

pub use config::{
    ApplicationConfig, BucketLimit, ChannelSeed, EmulatorConfig, GatewayConfig, GuildSeed, MemberSeed, OverwriteSeed,
    RateLimitConfig, RoleSeed, RouteLimit, UserSeed, ValidatorConfig,
};
pub use error::EmulatorError;
pub use faults::{Fault, FaultAction};
pub use gateway::GatewayAction;
pub use gateway::session::{IdentifyRecord, SessionInfo};
pub use interaction::{ATTACHMENT_SIZE_LIMIT, InteractionKind, InteractionSpec};
pub use records::{MessageAction, MessageRecord, MessageSource, RequestRecord, SchemaViolation};
pub use sender::{InteractionOutcome, ProbeKind, ProbeOutcome, sign};
pub use server::DiscordEmulator;
pub use state::{ApplicationInfo, EmulatorState};
pub use world::APPLICATION_FLAG_EMBEDDED;
