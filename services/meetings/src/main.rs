//! `kalcord-meetings`, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_meetings::Meetings>(
        "kalcord-meetings",
        "Meeting model and lifecycle on Kaltura rooms, classrooms and webinars.",
    )
}
