//! `kalcord audit verify`: checks the audit log's hash chain in the configured database.

use kalcord_config::ConfigArgs;
use kalcord_store::{Store, StoreError};

/// `kalcord audit ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check every entry's hash against its content and its predecessor (exit 1 when broken).
    Verify,
}

/// A `kalcord audit` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditCommandError {
    /// Configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] kalcord_config::ConfigError),
    /// The database failed.
    #[error("cannot read the audit log")]
    Store(#[source] StoreError),
    /// Output failed.
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

/// What the verification found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry verifies.
    Intact,
    /// The first entry that does not.
    Broken {
        /// Its chain position.
        seq: i64,
    },
}

/// Runs `command` against the store `args` configure, printing the verdict to `out`.
///
/// # Errors
///
/// Bad configuration or an unreachable database.
pub async fn run(
    command: &AuditCommand,
    args: &ConfigArgs,
    out: &mut impl std::io::Write,
) -> Result<Verdict, AuditCommandError> {
    let AuditCommand::Verify = command;
    let common = crate::load_common(args).await?;
    let store = Store::connect(common.store.url.expose()).await.map_err(AuditCommandError::Store)?;
    let verdict = match kalcord_store::audit::verify_chain(store.connection()).await {
        Ok(()) => Verdict::Intact,
        Err(StoreError::AuditChainBroken { seq }) => Verdict::Broken { seq },
        Err(err) => return Err(AuditCommandError::Store(err)),
    };
    let message = match &verdict {
        Verdict::Intact => "audit log intact: every entry matches its content and its predecessor".to_owned(),
        Verdict::Broken { seq } => {
            format!("audit log BROKEN at entry #{seq}: it or its predecessor was changed after it was written")
        }
    };
    writeln!(out, "{message}")?;
    Ok(verdict)
}
