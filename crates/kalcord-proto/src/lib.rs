#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

/// `kalcord.v1`: the first version of every bus message.
pub mod v1 {
    #![allow(missing_docs, clippy::pedantic, clippy::doc_markdown)]
    include!("gen/kalcord.v1.rs");
}

pub use prost::Message;
