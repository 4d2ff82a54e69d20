#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![warn(clippy::pedantic, missing_docs)]
// Allowed pedantic lints:
// - missing_errors_doc: every fallible fn returns StoreError, whose variants say when.
// - doc_markdown: "SQLite" and "PostgreSQL" are product names in prose, not code.
#![allow(clippy::missing_errors_doc, clippy::doc_markdown)]

pub mod audit;
mod dburl;
pub mod entity;
mod error;
pub mod migration;
pub mod repo;
mod store;
mod time;

pub use error::StoreError;
pub use store::{Backend, Store};
pub use time::now;
