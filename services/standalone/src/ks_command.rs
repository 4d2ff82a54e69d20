//! `kalcord ks mint|inspect`: Kaltura Sessions for operators, minted and read locally.
//!
//! The admin secret never goes on the command line (it would show in `ps` and shell history):
//! it is read from an environment variable, a file or standard input.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use kalcord_kaltura::ks::{self, KsSpec, Minter, Privileges, SessionType};

/// Environment variable read for the admin secret by default.
pub const DEFAULT_SECRET_ENV: &str = "KALCORD_KALTURA_ADMIN_SECRET";

/// Where the partner's admin secret comes from.
#[derive(Debug, clap::Args)]
pub struct SecretSource {
    /// Environment variable holding the admin secret.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET_ENV)]
    pub secret_env: String,
    /// File holding the admin secret (wins over --secret-env).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Read the admin secret from the first line of standard input (wins over both).
    #[arg(long)]
    pub secret_stdin: bool,
}

/// `kalcord ks ...`.
#[derive(Debug, clap::Subcommand)]
pub enum KsCommand {
    /// Mint a KS and print it.
    Mint {
        /// Partner id.
        #[arg(long)]
        partner_id: i64,
        /// User id the session is for (may be empty for admin sessions).
        #[arg(long, default_value = "")]
        user_id: String,
        /// Session type.
        #[arg(long = "type", value_enum, default_value = "user")]
        session_type: KsType,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        expiry: i64,
        /// Privileges, e.g. `eventId:3371011,role:viewerRole,userContextualRole:3`.
        #[arg(long, default_value = "")]
        privileges: String,
        /// KS format.
        #[arg(long, value_enum, default_value = "v2")]
        format: KsFormat,
        /// Admin secret source.
        #[command(flatten)]
        secret: SecretSource,
    },
    /// Verify a KS with the partner's admin secret and print what it says as JSON.
    Inspect {
        /// The KS.
        ks: String,
        /// Admin secret source.
        #[command(flatten)]
        secret: SecretSource,
    },
}

/// Session type names.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KsType {
    /// USER (0).
    User,
    /// ADMIN (2).
    Admin,
}

/// KS formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KsFormat {
    /// Encrypted (the default for modern partners).
    V2,
    /// Signed, readable (legacy).
    V1,
}

/// A `kalcord ks` command failed.
#[derive(Debug, thiserror::Error)]
pub enum KsCommandError {
    /// The secret could not be read.
    #[error("cannot read the admin secret: {0}")]
    Secret(String),
    /// An argument is out of range.
    #[error("{0}")]
    Invalid(String),
    /// The KS does not verify.
    #[error("the KS is not valid for this secret: {0}")]
    Ks(#[from] ks::KsError),
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl SecretSource {
    fn read(
        &self,
        stdin: &mut dyn std::io::BufRead,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, KsCommandError> {
        let secret = if self.secret_stdin {
            let mut line = String::new();
            stdin.read_line(&mut line).map_err(|err| KsCommandError::Secret(err.to_string()))?;
            line
        } else if let Some(path) = &self.secret_file {
            std::fs::read_to_string(path).map_err(|err| KsCommandError::Secret(format!("{}: {err}", path.display())))?
        } else {
            env(&self.secret_env).ok_or_else(|| {
                KsCommandError::Secret(format!("set {} (or use --secret-file / --secret-stdin)", self.secret_env))
            })?
        };
        let secret = secret.trim().to_owned();
        if secret.is_empty() { Err(KsCommandError::Secret("it is empty".to_owned())) } else { Ok(secret) }
    }
}

/// Runs a `kalcord ks` command, writing its result to `out`.
///
/// # Errors
///
/// A missing secret, an invalid argument, or a KS that does not verify.
pub fn execute(
    command: &KsCommand,
    stdin: &mut dyn std::io::BufRead,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn std::io::Write,
) -> Result<(), KsCommandError> {
    match command {
        KsCommand::Mint { partner_id, user_id, session_type, expiry, privileges, format, secret } => {
            if *expiry <= 0 {
                return Err(KsCommandError::Invalid("--expiry must be a positive number of seconds".to_owned()));
            }
            if user_id.contains(';') {
                return Err(KsCommandError::Invalid("--user-id may not contain ';'".to_owned()));
            }
            let secret = secret.read(stdin, env)?;
            let privileges = Privileges::parse(privileges);
            let session_type = match session_type {
                KsType::User => SessionType::User,
                KsType::Admin => SessionType::Admin,
            };
            let spec = KsSpec {
                expiry: now() + expiry,
                partner_id: *partner_id,
                privileges: &privileges,
                session_type,
                user_id,
            };
            let ks = match format {
                KsFormat::V2 => Minter::new(*partner_id, &secret).mint(&spec),
                KsFormat::V1 => ks::mint_v1(&secret, &spec, rand_u16()),
            };
            writeln!(out, "{ks}").map_err(|err| KsCommandError::Secret(err.to_string()))
        }
        KsCommand::Inspect { ks: text, secret } => {
            let secret = secret.read(stdin, env)?;
            let decoded = ks::decode(text, &[secret.as_str()])?;
            let status = match decoded.check(now()) {
                Ok(()) => "valid",
                Err(_) => "expired",
            };
            let json = serde_json::json!({
                "status": status,
                "version": format!("{:?}", decoded.version).to_lowercase(),
                "partnerId": decoded.partner_id,
                "userId": decoded.user_id,
                "type": decoded.session_type.code(),
                "expiry": decoded.expiry,
                "privileges": decoded.privileges.to_string(),
            });
            writeln!(out, "{json:#}").map_err(|err| KsCommandError::Secret(err.to_string()))
        }
    }
}

fn rand_u16() -> u32 {
    let mut bytes = [0u8; 2];
    rand::fill(&mut bytes);
    u32::from(u16::from_le_bytes(bytes))
}

/// Runs the command against the process's stdin, environment and stdout.
///
/// # Errors
///
/// See [`execute`].
pub fn run(command: &KsCommand) -> Result<(), KsCommandError> {
    let env = |name: &str| std::env::var(name).ok();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    execute(command, &mut stdin.lock(), &env, &mut stdout)?;
    stdout.flush().map_err(|err| KsCommandError::Secret(err.to_string()))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{KsCommandError, execute};
    use crate::cli::{Cli, Command};

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn command(args: &[&str]) -> super::KsCommand {
        match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Ks(command)) => command,
            other => panic!("{other:?}"),
        }
    }

    fn env(name: &str) -> Option<String> {
        (name == super::DEFAULT_SECRET_ENV).then(|| SECRET.to_owned())
    }

    #[test]
    fn mint_then_inspect_round_trips() {
        let mint = command(&[
            "kalcord",
            "ks",
            "mint",
            "--partner-id",
            "1234567",
            "--user-id",
            "discord-1",
            "--privileges",
            "eventId:5,role:viewerRole",
            "--expiry",
            "600",
        ]);
        let mut out = Vec::new();
        execute(&mint, &mut &b""[..], &env, &mut out).unwrap();
        let ks = String::from_utf8(out).unwrap().trim().to_owned();
        let decoded = kalcord_kaltura::ks::decode(&ks, &[SECRET]).unwrap();
        assert_eq!((decoded.partner_id, decoded.user_id.as_str()), (1_234_567, "discord-1"));
        assert_eq!(decoded.privileges.to_string(), "eventId:5,role:viewerRole");

        let inspect = command(&["kalcord", "ks", "inspect", &ks, "--secret-stdin"]);
        let mut out = Vec::new();
        execute(&inspect, &mut format!("{SECRET}\n").as_bytes(), &|_| None, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            (json["status"].as_str(), json["type"].as_i64(), json["version"].as_str()),
            (Some("valid"), Some(0), Some("v2"))
        );
    }

    #[test]
    fn v1_and_admin_sessions() {
        let mint = command(&["kalcord", "ks", "mint", "--partner-id", "9", "--type", "admin", "--format", "v1"]);
        let mut out = Vec::new();
        execute(&mint, &mut &b""[..], &env, &mut out).unwrap();
        let decoded = kalcord_kaltura::ks::decode(String::from_utf8(out).unwrap().trim(), &[SECRET]).unwrap();
        assert!(decoded.is_admin());
        assert_eq!(decoded.version, kalcord_kaltura::ks::KsVersion::V1);
    }

    #[test]
    fn missing_secret_and_bad_arguments_are_clear_errors() {
        let mint = command(&["kalcord", "ks", "mint", "--partner-id", "9"]);
        let err = execute(&mint, &mut &b""[..], &|_| None, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("set KALCORD_KALTURA_ADMIN_SECRET"), "{err}");
        let negative = command(&["kalcord", "ks", "mint", "--partner-id", "9", "--expiry=-5"]);
        assert!(matches!(execute(&negative, &mut &b""[..], &env, &mut Vec::new()), Err(KsCommandError::Invalid(_))));
        let inspect = command(&["kalcord", "ks", "inspect", "djJ8MTIzfA=="]);
        assert!(matches!(execute(&inspect, &mut &b""[..], &env, &mut Vec::new()), Err(KsCommandError::Ks(_))));
        assert!(
            crate::cli::Cli::try_parse_from(["kalcord", "ks", "mint", "--partner-id", "9", "--secret", "x"]).is_err(),
            "no --secret flag"
        );
    }
}
