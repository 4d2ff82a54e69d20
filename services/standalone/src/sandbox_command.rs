//! `kalcord sandbox command|click|submit`: act as a member of the sandbox's demo server from a
//! terminal. Each call sends a real, signed interaction through the built-in Discord emulator to
//! the running kalcord, then prints what the bot answered (text, embeds, buttons, links).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Where a running sandbox listens unless told otherwise (`sandbox.discord_listen`).
pub const DEFAULT_SANDBOX_URL: &str = "http://127.0.0.1:7100";

/// How long to wait for a deferred answer.
const FOLLOW_UP_WAIT: Duration = Duration::from_secs(15);

/// `kalcord sandbox ...`.
#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Run a slash command as a member, e.g. `"/meeting start kind:meeting_room title:Maths 101"`.
    Command {
        /// The command as typed in Discord: `/name [subcommand] option:value ...`.
        text: String,
        /// The member acting (username in the demo server: owner, ada, bob, cy, dee).
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        /// Channel it is typed in (name, default `general`).
        #[arg(long)]
        channel: Option<String>,
        /// Base URL of the running sandbox's Discord emulator.
        #[arg(long, env = "KALCORD_SANDBOX_URL", default_value = DEFAULT_SANDBOX_URL)]
        url: String,
    },
    /// Press a button (by label or custom id) on the newest message that has it.
    Click {
        /// The button's label (e.g. `Join`) or custom id.
        button: String,
        /// The member acting.
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        /// Base URL of the running sandbox's Discord emulator.
        #[arg(long, env = "KALCORD_SANDBOX_URL", default_value = DEFAULT_SANDBOX_URL)]
        url: String,
    },
    /// Submit a form (modal) the bot showed, e.g. `kc1:setup partner_id=123 admin_secret=...`.
    Submit {
        /// The form's id, as printed with it.
        form: String,
        /// `field=value` pairs.
        fields: Vec<String>,
        /// The member acting.
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        /// Base URL of the running sandbox's Discord emulator.
        #[arg(long, env = "KALCORD_SANDBOX_URL", default_value = DEFAULT_SANDBOX_URL)]
        url: String,
    },
}

/// A sandbox command failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxCommandError {
    /// The sandbox did not answer.
    #[error("cannot reach the sandbox at {url} (is `make run` running with the built-in Discord?)")]
    Unreachable {
        /// Where it was looked for.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The input is not understood.
    #[error("{0}")]
    Usage(String),
    /// The emulator refused the request.
    #[error("the sandbox refused: {0}")]
    Refused(String),
    /// Output failed.
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, SandboxCommandError>;

struct Sandbox {
    http: reqwest::Client,
    url: String,
    world: Value,
}

impl Sandbox {
    async fn open(url: &str) -> Result<Self> {
        let url = url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|source| SandboxCommandError::Unreachable { url: url.clone(), source })?;
        let world = get_json(&http, &format!("{url}/_emulator/world"), &url).await?;
        Ok(Self { http, url, world })
    }

    fn guild(&self) -> Result<&Value> {
        self.world["guilds"]
            .as_array()
            .and_then(|guilds| guilds.first())
            .ok_or_else(|| SandboxCommandError::Usage("the sandbox has no server".to_owned()))
    }

    fn guild_id(&self) -> Result<String> {
        Ok(self.guild()?["id"].as_str().unwrap_or_default().to_owned())
    }

    fn user_id(&self, username: &str) -> Result<String> {
        let members = self.guild()?["members"].as_array().cloned().unwrap_or_default();
        let wanted = username.trim_start_matches('@');
        members
            .iter()
            .map(|member| &member["user"])
            .find(|user| user["username"].as_str().is_some_and(|name| name.eq_ignore_ascii_case(wanted)))
            .and_then(|user| user["id"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                let names: Vec<&str> =
                    members.iter().filter_map(|member| member["user"]["username"].as_str()).collect();
                SandboxCommandError::Usage(format!(
                    "no member `{username}` in the sandbox; try one of: {}",
                    names.join(", ")
                ))
            })
    }

    fn named(&self, list: &str, name: &str) -> Option<String> {
        let wanted = name.trim_start_matches(['#', '@', '&']);
        self.guild().ok()?[list].as_array()?.iter().find_map(|item| {
            let matches = item["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                || item["id"].as_str() == Some(wanted);
            matches.then(|| item["id"].as_str().map(str::to_owned)).flatten()
        })
    }

    fn channel_id(&self, name: Option<&str>) -> Result<String> {
        let name = name.unwrap_or("general");
        self.named("channels", name)
            .ok_or_else(|| SandboxCommandError::Usage(format!("no channel `{name}` in the sandbox")))
    }

    async fn interact(&self, spec: &Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/_emulator/interactions", self.url))
            .json(spec)
            .send()
            .await
            .map_err(|source| SandboxCommandError::Unreachable { url: self.url.clone(), source })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(SandboxCommandError::Refused(body["message"].as_str().unwrap_or("unknown error").to_owned()));
        }
        Ok(body)
    }

    /// The interaction's first message once the bot finished it (after a deferral).
    async fn original(&self, token: &str) -> Option<Value> {
        let application = self.world["application"]["id"].as_str()?;
        let url = format!("{}/api/v10/webhooks/{application}/{token}/messages/@original", self.url);
        let started = Instant::now();
        while started.elapsed() < FOLLOW_UP_WAIT {
            if let Ok(response) = self.http.get(&url).send().await
                && response.status().is_success()
                && let Ok(message) = response.json::<Value>().await
            {
                // NOTE: a deferred message shows "thinking" (flag 128, LOADING) until it is edited.
                if message["flags"].as_u64().unwrap_or(0) & 128 == 0 {
                    return Some(message);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }
}

async fn get_json(http: &reqwest::Client, address: &str, base: &str) -> Result<Value> {
    let response = http
        .get(address)
        .send()
        .await
        .map_err(|source| SandboxCommandError::Unreachable { url: base.to_owned(), source })?;
    response.json().await.map_err(|source| SandboxCommandError::Unreachable { url: base.to_owned(), source })
}

/// Runs one sandbox command, printing the bot's answer to `out`.
///
/// # Errors
///
/// When the sandbox cannot be reached or the input is not understood.
pub async fn run(command: &SandboxCommand, out: &mut impl std::io::Write) -> Result<()> {
    match command {
        SandboxCommand::Command { text, user, channel, url } => {
            let sandbox = Sandbox::open(url).await?;
            let (name, options) = parse_command(text, &sandbox)?;
            let spec = json!({
                "type": "command", "name": name, "options": options,
                "guild_id": sandbox.guild_id()?, "channel_id": sandbox.channel_id(channel.as_deref())?,
                "user_id": sandbox.user_id(user)?,
            });
            answer(&sandbox, &spec, out).await
        }
        SandboxCommand::Click { button, user, url } => {
            let sandbox = Sandbox::open(url).await?;
            let user_id = sandbox.user_id(user)?;
            let messages =
                get_json(&sandbox.http, &format!("{}/_emulator/messages", sandbox.url), &sandbox.url).await?;
            let (custom_id, message_id, channel_id) = find_button(&messages, button)?;
            let spec = json!({
                "type": "button", "custom_id": custom_id, "message_id": message_id,
                "guild_id": sandbox.guild_id()?, "channel_id": channel_id, "user_id": user_id,
            });
            answer(&sandbox, &spec, out).await
        }
        SandboxCommand::Submit { form, fields, user, url } => {
            let sandbox = Sandbox::open(url).await?;
            let pairs: Vec<(String, String)> = fields
                .iter()
                .map(|field| {
                    field
                        .split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| SandboxCommandError::Usage(format!("`{field}`: fields are written field=value")))
                })
                .collect::<Result<_>>()?;
            let spec = json!({
                "type": "modal_submit", "custom_id": form, "fields": pairs,
                "guild_id": sandbox.guild_id()?, "user_id": sandbox.user_id(user)?,
            });
            answer(&sandbox, &spec, out).await
        }
    }
}

async fn answer(sandbox: &Sandbox, spec: &Value, out: &mut impl std::io::Write) -> Result<()> {
    let outcome = sandbox.interact(spec).await?;
    if let Some(error) = outcome["error"].as_str() {
        writeln!(out, "kalcord did not answer: {error}")?;
        return Ok(());
    }
    if outcome["deadline_missed"].as_bool() == Some(true) {
        writeln!(out, "kalcord did not answer within Discord's 3 seconds (\"The application did not respond\")")?;
        return Ok(());
    }
    let response = &outcome["json"];
    let kind = response["type"].as_u64().unwrap_or(0);
    let text = match kind {
        4 | 7 => render_message(&response["data"], kind == 7),
        5 | 6 => match sandbox.original(outcome["token"].as_str().unwrap_or_default()).await {
            Some(message) => render_message(&message, kind == 6),
            None => "kalcord is still working on it (no answer after 15 s)".to_owned(),
        },
        8 => render_choices(&response["data"]),
        9 => render_modal(&response["data"]),
        12 => "kalcord opened its Activity".to_owned(),
        _ => format!("unexpected answer: {response}"),
    };
    writeln!(out, "{text}")?;
    Ok(())
}

/// `/meeting start kind:meeting_room title:Maths 101` -> (`meeting`, Discord-shaped options), typed
/// by the registered command's definitions.
fn parse_command(text: &str, sandbox: &Sandbox) -> Result<(String, Value)> {
    let text = text.trim();
    let text = text.strip_prefix('/').unwrap_or(text);
    let mut words = text.split_whitespace().peekable();
    let name = words.next().ok_or_else(|| SandboxCommandError::Usage("type a command such as /meeting list".into()))?;
    let commands = sandbox.world["commands"].as_array().cloned().unwrap_or_default();
    let command = commands
        .iter()
        .find(|command| command["name"].as_str() == Some(name))
        .ok_or_else(|| SandboxCommandError::Usage(format!("/{name} is not registered in the sandbox")))?;
    let mut path: Vec<(String, u64)> = Vec::new();
    let mut level = command["options"].as_array().cloned().unwrap_or_default();
    while let Some(next) = words.peek() {
        let sub = level.iter().find(|o| o["name"].as_str() == Some(*next) && matches!(o["type"].as_u64(), Some(1 | 2)));
        let Some(sub) = sub.cloned() else { break };
        path.push((sub["name"].as_str().unwrap_or_default().to_owned(), sub["type"].as_u64().unwrap_or(1)));
        level = sub["options"].as_array().cloned().unwrap_or_default();
        words.next();
    }
    if level.iter().any(|o| matches!(o["type"].as_u64(), Some(1 | 2))) {
        let names: Vec<&str> = level.iter().filter_map(|o| o["name"].as_str()).collect();
        return Err(SandboxCommandError::Usage(format!("/{name} needs one of: {}", names.join(", "))));
    }
    let mut values: Vec<(String, String)> = Vec::new();
    for word in words {
        let starts = word.split_once(':').filter(|(key, _)| level.iter().any(|o| o["name"].as_str() == Some(*key)));
        match (starts, values.last_mut()) {
            (Some((key, value)), _) => values.push((key.to_owned(), value.to_owned())),
            (None, Some((_, value))) => {
                value.push(' ');
                value.push_str(word);
            }
            (None, None) => {
                return Err(SandboxCommandError::Usage(format!("`{word}`: options are written name:value")));
            }
        }
    }
    let mut options = Vec::new();
    for (key, value) in values {
        let option = level.iter().find(|o| o["name"].as_str() == Some(key.as_str())).cloned().unwrap_or_default();
        options.push(json!({"name": key, "type": option["type"], "value": typed_value(&option, &value, sandbox)?}));
    }
    for required in level.iter().filter(|o| o["required"].as_bool() == Some(true)) {
        let key = required["name"].as_str().unwrap_or_default();
        if !options.iter().any(|o| o["name"].as_str() == Some(key)) {
            return Err(SandboxCommandError::Usage(format!("missing option {key}:")));
        }
    }
    let mut nested = Value::Array(options);
    for (sub, kind) in path.into_iter().rev() {
        nested = json!([{"name": sub, "type": kind, "options": nested}]);
    }
    Ok((name.to_owned(), nested))
}

fn typed_value(option: &Value, raw: &str, sandbox: &Sandbox) -> Result<Value> {
    let name = option["name"].as_str().unwrap_or_default();
    let bad = |what: &str| SandboxCommandError::Usage(format!("{name}: `{raw}` is not {what}"));
    if let Some(choices) = option["choices"].as_array().filter(|c| !c.is_empty()) {
        return choices
            .iter()
            .find(|c| {
                c["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(raw))
                    || c["value"].as_str().is_some_and(|v| v.eq_ignore_ascii_case(raw))
                    || c["value"].as_i64().is_some_and(|v| raw.parse() == Ok(v))
            })
            .map(|c| c["value"].clone())
            .ok_or_else(|| {
                let names: Vec<String> = choices.iter().map(|c| c["value"].to_string().replace('"', "")).collect();
                SandboxCommandError::Usage(format!("{name}: choose one of {}", names.join(", ")))
            });
    }
    Ok(match option["type"].as_u64() {
        Some(4) => json!(raw.parse::<i64>().map_err(|_| bad("a whole number"))?),
        Some(10) => json!(raw.parse::<f64>().map_err(|_| bad("a number"))?),
        Some(5) => json!(matches!(raw.to_ascii_lowercase().as_str(), "true" | "yes" | "1")),
        Some(6) => json!(sandbox.user_id(raw)?),
        Some(7) => json!(sandbox.channel_id(Some(raw))?),
        Some(8 | 9) => json!(sandbox.named("roles", raw).ok_or_else(|| bad("a role of the sandbox"))?),
        _ => json!(raw),
    })
}

/// The newest message with a button labelled or identified `wanted`.
fn find_button(messages: &Value, wanted: &str) -> Result<(String, String, String)> {
    let records = messages.as_array().cloned().unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for record in records.iter().rev() {
        let message_id = record["message_id"].as_str().unwrap_or_default().to_owned();
        if !seen.insert(message_id.clone()) {
            continue; // an older version of a message already looked at
        }
        for row in record["components"].as_array().into_iter().flatten() {
            for button in row["components"].as_array().into_iter().flatten() {
                let label = button["label"].as_str().unwrap_or_default();
                let custom_id = button["custom_id"].as_str();
                if label.eq_ignore_ascii_case(wanted) || custom_id == Some(wanted) {
                    if let Some(url) = button["url"].as_str() {
                        return Err(SandboxCommandError::Usage(format!("`{label}` is a link; open {url}")));
                    }
                    if button["disabled"].as_bool() == Some(true) {
                        return Err(SandboxCommandError::Usage(format!("`{label}` is disabled")));
                    }
                    let channel = record["channel_id"].as_str().unwrap_or_default().to_owned();
                    return Ok((custom_id.unwrap_or_default().to_owned(), message_id, channel));
                }
            }
        }
    }
    Err(SandboxCommandError::Usage(format!("no message in the sandbox has a `{wanted}` button")))
}

fn render_message(data: &Value, updated: bool) -> String {
    let mut text = String::new();
    let private = data["flags"].as_u64().unwrap_or(0) & 64 != 0;
    let _ = writeln!(
        text,
        "{} {}:",
        if private { "[only you can see this]" } else { "[posted in the channel]" },
        if updated { "kalcord updated the message" } else { "kalcord" }
    );
    if let Some(content) = data["content"].as_str().filter(|c| !c.is_empty()) {
        for line in content.lines() {
            let _ = writeln!(text, "  {line}");
        }
    }
    for embed in data["embeds"].as_array().into_iter().flatten() {
        if let Some(title) = embed["title"].as_str() {
            let _ = writeln!(text, "  ┌ {title}");
        }
        if let Some(description) = embed["description"].as_str() {
            for line in description.lines() {
                let _ = writeln!(text, "  │ {line}");
            }
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            let _ = writeln!(
                text,
                "  │ {}: {}",
                field["name"].as_str().unwrap_or_default(),
                field["value"].as_str().unwrap_or_default()
            );
        }
        let _ = writeln!(text, "  └");
    }
    for row in data["components"].as_array().into_iter().flatten() {
        for button in row["components"].as_array().into_iter().flatten() {
            let label = button["label"].as_str().unwrap_or("?");
            let state = if button["disabled"].as_bool() == Some(true) { " (disabled)" } else { "" };
            match (button["url"].as_str(), button["custom_id"].as_str()) {
                (Some(url), _) => {
                    let _ = writeln!(text, "  [{label}]{state} → {url}");
                }
                (None, Some(id)) => {
                    let _ = writeln!(
                        text,
                        "  [{label}]{state}  (kalcord sandbox click \"{label}\" --as <member>; id {id})"
                    );
                }
                (None, None) => {
                    let _ = writeln!(text, "  [{label}]{state}");
                }
            }
        }
    }
    text.trim_end().to_owned()
}

fn render_choices(data: &Value) -> String {
    let choices = data["choices"].as_array().cloned().unwrap_or_default();
    if choices.is_empty() {
        return "no suggestions".to_owned();
    }
    choices
        .iter()
        .map(|c| format!("  {} = {}", c["name"].as_str().unwrap_or_default(), c["value"]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_modal(data: &Value) -> String {
    let form = data["custom_id"].as_str().unwrap_or_default();
    let mut text = format!("kalcord asks you to fill in \"{}\":\n", data["title"].as_str().unwrap_or_default());
    let mut fields = Vec::new();
    for row in data["components"].as_array().into_iter().flatten() {
        // Text inputs sit in action rows (type 1) or labels (type 18).
        let inputs: Vec<&Value> = match row["type"].as_u64() {
            Some(18) => vec![&row["component"]],
            _ => row["components"].as_array().map(|c| c.iter().collect()).unwrap_or_default(),
        };
        for input in inputs {
            let id = input["custom_id"].as_str().unwrap_or_default();
            let label = row["label"].as_str().or_else(|| input["label"].as_str()).unwrap_or(id);
            let required = if input["required"].as_bool() == Some(false) { " (optional)" } else { "" };
            let _ = writeln!(text, "  {id}: {label}{required}");
            fields.push(format!("{id}=..."));
        }
    }
    let _ = write!(text, "answer with: kalcord sandbox submit {form} {} --as <member>", fields.join(" "));
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{find_button, render_message};

    #[test]
    fn messages_render_as_text_with_their_buttons_and_links() {
        let data = json!({
            "content": "Your personal link (expires in 1 hour):", "flags": 64,
            "embeds": [{"title": "Maths 101", "description": "Virtual classroom", "fields": [{"name": "Host", "value": "<@1>"}]}],
            "components": [{"type": 1, "components": [
                {"type": 2, "style": 5, "label": "Open in Kaltura", "url": "http://127.0.0.1:7200/virtualEvent/launch?ks=abc"},
                {"type": 2, "style": 4, "label": "End", "custom_id": "kc1:end:42", "disabled": true}
            ]}]
        });
        let text = render_message(&data, false);
        assert!(text.starts_with("[only you can see this] kalcord:"), "{text}");
        assert!(text.contains("┌ Maths 101") && text.contains("│ Host: <@1>"), "{text}");
        assert!(text.contains("[Open in Kaltura] → http://127.0.0.1:7200/virtualEvent/launch?ks=abc"), "{text}");
        assert!(text.contains("[End] (disabled)"), "{text}");
    }

    #[test]
    fn the_newest_message_with_the_button_wins_and_links_are_not_clicked() {
        let messages = json!([
            {"message_id": "1", "channel_id": "9", "components": [{"type": 1, "components": [{"type": 2, "label": "Join", "custom_id": "kc1:join:old"}]}]},
            {"message_id": "2", "channel_id": "9", "components": [{"type": 1, "components": [{"type": 2, "label": "Join", "custom_id": "kc1:join:new"}]}]},
            {"message_id": "3", "channel_id": "9", "components": [{"type": 1, "components": [{"type": 2, "label": "Open", "url": "http://127.0.0.1/x"}]}]}
        ]);
        assert_eq!(find_button(&messages, "join").unwrap(), ("kc1:join:new".into(), "2".into(), "9".into()));
        assert_eq!(find_button(&messages, "kc1:join:old").unwrap().1, "1");
        assert!(find_button(&messages, "Open").unwrap_err().to_string().contains("is a link"));
        assert!(find_button(&messages, "Nope").is_err());
    }
}
