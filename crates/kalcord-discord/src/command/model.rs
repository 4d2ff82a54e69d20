//! Application command definitions as Discord's API takes them (`PUT .../commands`).

use serde::{Deserialize, Serialize};

/// Option types.
pub mod option_kind {
    /// A subcommand.
    pub const SUB_COMMAND: u8 = 1;
    /// A group of subcommands.
    pub const SUB_COMMAND_GROUP: u8 = 2;
    /// Text.
    pub const STRING: u8 = 3;
    /// Integer.
    pub const INTEGER: u8 = 4;
    /// Boolean.
    pub const BOOLEAN: u8 = 5;
    /// A channel.
    pub const CHANNEL: u8 = 7;
    /// A role.
    pub const ROLE: u8 = 8;
}

/// A fixed choice of an option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChoice {
    /// Shown.
    pub name: String,
    /// Sent.
    pub value: serde_json::Value,
}

/// A command option (or subcommand).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOption {
    /// [`option_kind`] value.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Lower-case name (1–32).
    pub name: String,
    /// Description (1–100).
    pub description: String,
    /// Must be given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Fixed choices (≤ 25).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<OptionChoice>,
    /// Suggestions come from the app as the member types.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub autocomplete: bool,
    /// Subcommand options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<CommandOption>,
    /// Allowed channel types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_types: Vec<u8>,
    /// Smallest integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    /// Largest integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    /// Longest string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u16>,
}

impl CommandOption {
    fn new(kind: u8, name: &str, description: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            description: description.to_owned(),
            required: false,
            choices: Vec::new(),
            autocomplete: false,
            options: Vec::new(),
            channel_types: Vec::new(),
            min_value: None,
            max_value: None,
            max_length: None,
        }
    }

    /// A subcommand with `options`.
    #[must_use]
    pub fn subcommand(name: &str, description: &str, options: Vec<CommandOption>) -> Self {
        Self { options, ..Self::new(option_kind::SUB_COMMAND, name, description) }
    }

    /// A group of `subcommands`.
    #[must_use]
    pub fn group(name: &str, description: &str, subcommands: Vec<CommandOption>) -> Self {
        Self { options: subcommands, ..Self::new(option_kind::SUB_COMMAND_GROUP, name, description) }
    }

    /// A text option.
    #[must_use]
    pub fn string(name: &str, description: &str) -> Self {
        Self::new(option_kind::STRING, name, description)
    }

    /// An integer option.
    #[must_use]
    pub fn integer(name: &str, description: &str) -> Self {
        Self::new(option_kind::INTEGER, name, description)
    }

    /// A true/false option.
    #[must_use]
    pub fn boolean(name: &str, description: &str) -> Self {
        Self::new(option_kind::BOOLEAN, name, description)
    }

    /// A channel option limited to `types`.
    #[must_use]
    pub fn channel(name: &str, description: &str, types: &[u8]) -> Self {
        Self { channel_types: types.to_vec(), ..Self::new(option_kind::CHANNEL, name, description) }
    }

    /// A role option.
    #[must_use]
    pub fn role(name: &str, description: &str) -> Self {
        Self::new(option_kind::ROLE, name, description)
    }

    /// Marks it required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks it autocompleted.
    #[must_use]
    pub fn autocomplete(mut self) -> Self {
        self.autocomplete = true;
        self
    }

    /// Fixed string choices `(name, value)`.
    #[must_use]
    pub fn choices(mut self, choices: &[(&str, &str)]) -> Self {
        self.choices = choices
            .iter()
            .map(|(name, value)| OptionChoice { name: (*name).to_owned(), value: serde_json::json!(value) })
            .collect();
        self
    }

    /// Integer bounds.
    #[must_use]
    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }

    /// Longest string.
    #[must_use]
    pub fn max_length(mut self, max: u16) -> Self {
        self.max_length = Some(max);
        self
    }
}

/// A chat-input command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandDefinition {
    /// 1: chat input (slash command).
    #[serde(rename = "type")]
    pub kind: u8,
    /// Name (1–32, lower case).
    pub name: String,
    /// Description (1–100).
    pub description: String,
    /// Options or subcommands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<CommandOption>,
    /// Permission bits (decimal string) a member needs by default; `None` lets everyone see it.
    pub default_member_permissions: Option<String>,
    /// Where it can be used: 0 guild, 1 bot DM, 2 private channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<u8>,
    /// How the app is installed: 0 guild, 1 user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integration_types: Vec<u8>,
}
