#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// NOTE: builders state invariants with `expect` (static definitions always serialise).
#![allow(clippy::missing_panics_doc)]

mod bucket;
pub mod cache_keys;
pub mod command;
mod config;
pub mod custom_id;
pub mod egress;
pub mod gateway;
pub mod permission;
pub mod response;
pub mod signature;

pub use config::{DiscordConfig, LOCATION_MAX_CHARS, launch_path};
