//! `kalcord discord register|invite-url`, run as the real binary against the Discord emulator (in this process,
//! demo guild, Discord's published schemas checking what the CLI sends). Fails, never skips, without the schema
//! validator's npm packages: run `make fidelity-deps`.

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use kalcord_discord_emulator::{DiscordEmulator, EmulatorConfig, RequestRecord, ValidatorConfig, seed};
use kalcord_test_util::process::binary;
use serde_json::Value;

const GUILD_COMMANDS_ROUTE: &str = "/applications/{application_id}/guilds/{guild_id}/commands";
/// What `kalcord discord invite-url` asks for (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, CREATE_EVENTS).
const BOT_PERMISSIONS: &str = "17592186063872";

async fn emulator() -> DiscordEmulator {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fidelity/discord");
    assert!(
        dir.join("node_modules/discord-api-spec/package.json").is_file(),
        "the schema validator's npm packages are not installed in {}: run make fidelity-deps",
        dir.display()
    );
    let config = EmulatorConfig::default()
        .with_guild(seed::demo_guild())
        .with_validator(ValidatorConfig::new(dir.join("validator.mjs")));
    DiscordEmulator::start(config).await.expect("the emulator starts")
}

/// The three settings `register` needs, pointing at `emulator`.
fn discord_env(emulator: &DiscordEmulator) -> Vec<(&'static str, String)> {
    let app = emulator.application();
    vec![
        ("KALCORD_DISCORD_APPLICATION_ID", app.id),
        ("KALCORD_DISCORD_BOT_TOKEN", app.bot_token),
        ("KALCORD_DISCORD_API_BASE", emulator.api_authority()),
    ]
}

/// Runs `kalcord ARGS` with exactly `env` as its `KALCORD_*` variables (inherited ones are removed).
async fn kalcord(args: &[&str], env: &[(&'static str, String)]) -> Output {
    let mut command = tokio::process::Command::new(binary("kalcord"));
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (key, _) in std::env::vars_os().filter(|(key, _)| key.to_string_lossy().starts_with("KALCORD_")) {
        command.env_remove(key);
    }
    command.envs(env.iter().map(|(key, value)| (*key, value.as_str())));
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("kalcord exits within a minute")
        .expect("kalcord runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn requests_on(emulator: &DiscordEmulator, method: &str, route: &str) -> Vec<RequestRecord> {
    emulator
        .state()
        .requests()
        .into_iter()
        .filter(|record| record.method == method && record.route.as_deref() == Some(route))
        .collect()
}

fn guild_command_names(emulator: &DiscordEmulator) -> Vec<String> {
    let mut names: Vec<String> = emulator
        .state()
        .commands()
        .iter()
        .filter(|command| command["guild_id"].as_str() == Some(seed::GUILD_ID.to_string().as_str()))
        .filter_map(|command| command["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn register_in_a_guild_writes_once_then_reports_up_to_date() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = emulator().await;
    let env = discord_env(&emulator);
    let guild = seed::GUILD_ID.to_string();
    let first = kalcord(&["discord", "register", "--guild", &guild], &env).await;
    assert_eq!(first.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(&first), stderr(&first));
    let text = stdout(&first);
    assert!(text.contains(&format!("registered in guild {guild}: ")), "{text}");
    assert!(text.contains("meeting") && text.contains("kaltura"), "{text}");
    assert_eq!(guild_command_names(&emulator), ["kaltura", "meeting"]);
    assert_eq!(requests_on(&emulator, "PUT", GUILD_COMMANDS_ROUTE).len(), 1);

    let second = kalcord(&["discord", "register", "--guild", &guild], &env).await;
    assert_eq!(second.status.code(), Some(0), "stderr: {}", stderr(&second));
    let text = stdout(&second);
    assert!(text.contains("up to date") && text.contains("nothing written"), "{text}");
    assert_eq!(requests_on(&emulator, "PUT", GUILD_COMMANDS_ROUTE).len(), 1, "no second bulk overwrite");
    assert_eq!(requests_on(&emulator, "GET", GUILD_COMMANDS_ROUTE).len(), 2, "each run read the commands once");
    let violations = emulator.state().schema_violations();
    assert!(violations.is_empty(), "Discord's schemas reject what the CLI sent: {violations:#?}");
    emulator.stop().await;
}

#[tokio::test]
async fn a_dry_run_prints_the_commands_and_writes_nothing() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = emulator().await;
    let guild = seed::GUILD_ID.to_string();
    let output = kalcord(&["discord", "register", "--guild", &guild, "--dry-run"], &discord_env(&emulator)).await;
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let (heading, body) = text.split_once('\n').expect("a heading, then the body");
    assert_eq!(heading, format!("would register in guild {guild}:"));
    let body: Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("the body is JSON ({error}): {body}"));
    assert_eq!(body, serde_json::to_value(kalcord_discord::command::all()).expect("definitions serialise"));
    assert!(guild_command_names(&emulator).is_empty(), "nothing registered");
    assert!(requests_on(&emulator, "PUT", GUILD_COMMANDS_ROUTE).is_empty(), "no bulk overwrite");
    assert_eq!(requests_on(&emulator, "GET", GUILD_COMMANDS_ROUTE).len(), 1, "only the current commands were read");
    emulator.stop().await;
}

#[tokio::test]
async fn invite_url_names_the_application_and_the_bot_permissions() {
    let _trace = kalcord_test_util::trace_init();
    let env = [("KALCORD_DISCORD_APPLICATION_ID", "1284000000000000900".to_owned())];
    let output = kalcord(&["discord", "invite-url"], &env).await;
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let url = stdout(&output).trim().to_owned();
    assert!(url.starts_with("https://discord.com/oauth2/authorize?"), "{url}");
    let query: Vec<&str> = url.split_once('?').map(|(_, query)| query.split('&').collect()).unwrap_or_default();
    assert!(query.contains(&"client_id=1284000000000000900"), "{url}");
    assert!(query.contains(&format!("permissions={BOT_PERMISSIONS}").as_str()), "{url}");
    assert!(query.contains(&"scope=bot%20applications.commands"), "{url}");
}

#[tokio::test]
async fn a_missing_bot_token_exits_2_naming_the_setting() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = emulator().await;
    let env: Vec<_> =
        discord_env(&emulator).into_iter().filter(|(key, _)| *key != "KALCORD_DISCORD_BOT_TOKEN").collect();
    let output = kalcord(&["discord", "register", "--guild", &seed::GUILD_ID.to_string()], &env).await;
    assert_eq!(output.status.code(), Some(2), "stdout: {}", stdout(&output));
    let text = stderr(&output);
    assert!(text.contains("discord.bot_token"), "{text}");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(emulator.state().requests().is_empty(), "nothing was sent to Discord");
    emulator.stop().await;
}

#[tokio::test]
async fn a_bot_token_on_the_command_line_is_refused_as_a_secret() {
    let _trace = kalcord_test_util::trace_init();
    let emulator = emulator().await;
    let env: Vec<_> =
        discord_env(&emulator).into_iter().filter(|(key, _)| *key != "KALCORD_DISCORD_BOT_TOKEN").collect();
    let token = format!("--set=discord.bot_token={}", emulator.application().bot_token);
    let output = kalcord(&[&token, "discord", "register", "--guild", &seed::GUILD_ID.to_string()], &env).await;
    assert_eq!(output.status.code(), Some(2), "stdout: {}", stdout(&output));
    let text = stderr(&output);
    assert!(text.contains("discord.bot_token (from --set)") && text.contains("is a secret"), "{text}");
    assert!(!text.contains(&emulator.application().bot_token), "the token is not echoed: {text}");
    assert!(emulator.state().requests().is_empty(), "nothing was sent to Discord");
    emulator.stop().await;
}
