//! `kalcord discord register|invite-url`: set up the Discord application from the command line.

use std::sync::Arc;
use std::time::Duration;

use kalcord_config::ConfigArgs;
use kalcord_discord::command::{SyncPlan, all, plan};
use kalcord_discord::egress::{Egress, EgressError};
use kalcord_discord::permission::invite_url;

/// `kalcord discord ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DiscordCommand {
    /// Register /meeting and /kaltura (bulk overwrite), globally or in one guild; writes nothing
    /// when Discord already has them, and keeps the Activity entry-point command.
    Register {
        /// Register in this guild only (instant; good for testing) instead of globally.
        #[arg(long)]
        guild: Option<u64>,
        /// Show what would be sent without sending it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the URL that adds the bot to a server with the permissions it needs.
    InviteUrl,
}

/// A `kalcord discord` command failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscordCommandError {
    /// Configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] kalcord_config::ConfigError),
    /// A required setting is absent.
    #[error("{0} is not set (see docs/discord.md)")]
    Missing(&'static str),
    /// Discord refused.
    #[error(transparent)]
    Discord(#[from] EgressError),
    /// Output failed.
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

/// Runs a `kalcord discord` command.
///
/// # Errors
///
/// Missing configuration, or Discord refusing the registration.
pub async fn run(
    command: &DiscordCommand,
    args: &ConfigArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), DiscordCommandError> {
    let config = crate::load_common(args).await?.discord;
    let application_id = config.application_id.ok_or(DiscordCommandError::Missing("discord.application_id"))?;
    let DiscordCommand::Register { guild, dry_run } = command else {
        writeln!(out, "{}", invite_url(application_id))?;
        return Ok(());
    };
    let egress_config =
        config.egress(Duration::from_secs(15)).ok_or(DiscordCommandError::Missing("discord.bot_token"))?;
    let egress = Egress::new(egress_config, Arc::new(kalcord_cache::MemoryCache::new("kalcord", 1000)));
    let existing = egress.commands(*guild).await?;
    let scope = guild.map_or_else(|| "globally".to_owned(), |g| format!("in guild {g}"));
    match plan(&existing, &all()) {
        SyncPlan::UpToDate => writeln!(out, "commands are up to date {scope}; nothing written")?,
        SyncPlan::Overwrite(body) if *dry_run => writeln!(out, "would register {scope}:\n{body:#}")?,
        SyncPlan::Overwrite(body) => {
            let registered = egress.overwrite_commands(*guild, &body).await?;
            let names: Vec<&str> = registered.iter().filter_map(|c| c.get("name").and_then(|n| n.as_str())).collect();
            writeln!(out, "registered {scope}: {}", names.join(", "))?;
        }
    }
    Ok(())
}
