//! `kalcord-identity`, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_identity::Identity>(
        "kalcord-identity",
        "Discord members to Kaltura users and roles, and local Kaltura session minting.",
    )
}
