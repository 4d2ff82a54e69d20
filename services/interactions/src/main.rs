//! `kalcord-interactions`, run as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    kalcord_runtime::main::<kalcord_interactions::Interactions>(
        "kalcord-interactions",
        "Discord interaction logic: slash commands, buttons, modals and autocomplete.",
    )
}
