#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// NOTE: the remaining `expect`s state invariants (fixed-size keys, one result per call).
#![allow(clippy::missing_panics_doc)]

mod breaker;
mod client;
pub mod config;
mod error;
pub mod join;
pub mod ks;
pub mod model;
pub mod ops;
mod retry;
pub mod webhook;
mod wire;

pub use breaker::BreakerConfig;
pub use client::{Call, Client, ClientConfig, DEFAULT_SERVICE_URL, Idempotency};
pub use config::{KalturaConfig, MAX_KS_TTL};
pub use error::{ApiError, KalturaError};
pub use join::{DisplayIdentity, JoinRole, JoinTarget, join_privileges, launch_url};
pub use ops::media::MediaFilter;
pub use ops::room::{Room, RoomKind, RoomSpec, Schedule};
pub use ops::user::{UserProfile, discord_user_id};
pub use ops::webinar::{Webinar, WebinarSpec};
pub use retry::RetryPolicy;
