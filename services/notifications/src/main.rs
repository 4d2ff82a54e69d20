//! `kalcord-notifications`, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_notifications::Notifications>(
        "kalcord-notifications",
        "The single Discord REST egress for bot messages and scheduled events.",
    )
}
