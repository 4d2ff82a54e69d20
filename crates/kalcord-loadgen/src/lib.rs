//! Load generator for kalcord's HTTP edges.
//!
//! Requests are prepared and signed before a run starts ([`Prepared`]), so the generator spends
//! its time sending, not signing. A run ([`Plan`]) sends them to one URL either
//!
//! - **closed loop** ([`Mode::Closed`]): `n` connections, each sending its next request as soon as
//!   the previous one is answered — the most the target serves at that concurrency; or
//! - **open loop** ([`Mode::Open`]): a fixed offered rate whatever the target does. Latency is
//!   measured from the moment each request was *due*, so a target that falls behind shows it in
//!   its percentiles instead of slowing the generator down (no coordinated omission).
//!
//! Each answer is checked ([`Check`]); the [`Report`] gives throughput, p50/p90/p99/max latency of
//! the answers that passed, and the failures by reason.
//!
//! HTTP/1.1 over plain TCP on loopback with hyper's connection API: one connection per in-flight
//! request slot, kept alive, no pool bookkeeping per request.

pub mod interactions;
mod report;
mod run;
pub mod webhooks;

pub use report::{Latencies, Report};
pub use run::{Check, Mode, Plan, Prepared, RunError, body_contains, run, status_is};
