//! The `kalcord` command line: run the system (the default) or work with Kaltura sessions.

use kalcord_config::ConfigArgs;

use crate::audit_command::AuditCommand;
use crate::discord_command::DiscordCommand;
use crate::ks_command::KsCommand;
use crate::sandbox_command::SandboxCommand;

/// `kalcord [OPTIONS] [COMMAND]`.
#[derive(Debug, clap::Parser)]
#[command(name = "kalcord", version, about = crate::ABOUT)]
pub struct Cli {
    /// Configuration flags (for `run`).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run every service in this process (the default).
    Run,
    /// Mint or inspect a Kaltura Session (KS) locally, without calling Kaltura.
    #[command(subcommand)]
    Ks(KsCommand),
    /// Register commands with Discord, or print the bot's invite URL.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// Act as a member of the sandbox's demo server: run a slash command, press a button, submit a form.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Check the audit log's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
}
