//! Where an interaction goes: which command, subcommand, component or modal.

use std::collections::BTreeMap;

use kalcord_discord::custom_id::{CustomId, CustomIdError};
use twilight_model::application::interaction::application_command::{CommandDataOption, CommandOptionValue};
use twilight_model::application::interaction::{Interaction, InteractionData, InteractionType};

/// The route of one interaction.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// A slash command (options are those of the subcommand, if any).
    Command {
        /// Command name.
        name: String,
        /// Subcommand name.
        sub: Option<String>,
        /// Options given.
        options: Vec<CommandDataOption>,
    },
    /// Autocomplete of a command option.
    Autocomplete {
        /// Command name.
        name: String,
        /// Subcommand name.
        sub: Option<String>,
        /// The focused option and what was typed so far.
        focused: Option<(String, String)>,
    },
    /// A button or select.
    Component(Result<CustomId, CustomIdError>),
    /// A modal submission with its fields by custom id.
    Modal(Result<CustomId, CustomIdError>, BTreeMap<String, String>),
    /// Anything else.
    Unsupported,
}

impl Route {
    /// The handler key: `command:meeting join`, `component:join`, `modal:setup`, ...
    #[must_use]
    pub fn key(&self) -> Option<String> {
        match self {
            Self::Command { name, sub, .. } => {
                Some(format!("command:{name}{}", sub.as_ref().map(|s| format!(" {s}")).unwrap_or_default()))
            }
            Self::Autocomplete { name, sub, .. } => {
                Some(format!("autocomplete:{name}{}", sub.as_ref().map(|s| format!(" {s}")).unwrap_or_default()))
            }
            Self::Component(Ok(id)) => Some(format!("component:{}", id.action)),
            Self::Modal(Ok(id), _) => Some(format!("modal:{}", id.action)),
            _ => None,
        }
    }
}

fn split_subcommand(options: &[CommandDataOption]) -> (Option<String>, Vec<CommandDataOption>) {
    match options.first() {
        Some(CommandDataOption { name, value: CommandOptionValue::SubCommand(inner) }) => {
            (Some(name.clone()), inner.clone())
        }
        Some(CommandDataOption { name: group, value: CommandOptionValue::SubCommandGroup(inner) }) => {
            let (sub, options) = split_subcommand(inner);
            (Some(format!("{group} {}", sub.unwrap_or_default())), options)
        }
        _ => (None, options.to_vec()),
    }
}

fn focused(options: &[CommandDataOption]) -> Option<(String, String)> {
    options.iter().find_map(|option| match &option.value {
        CommandOptionValue::Focused(text, _) => Some((option.name.clone(), text.clone())),
        _ => None,
    })
}

/// Routes an interaction.
#[must_use]
pub fn route(interaction: &Interaction) -> Route {
    match (&interaction.kind, &interaction.data) {
        (InteractionType::ApplicationCommand, Some(InteractionData::ApplicationCommand(data))) => {
            let (sub, options) = split_subcommand(&data.options);
            Route::Command { name: data.name.clone(), sub, options }
        }
        (InteractionType::ApplicationCommandAutocomplete, Some(InteractionData::ApplicationCommand(data))) => {
            let (sub, options) = split_subcommand(&data.options);
            Route::Autocomplete { name: data.name.clone(), sub, focused: focused(&options) }
        }
        (InteractionType::MessageComponent, Some(InteractionData::MessageComponent(data))) => {
            Route::Component(CustomId::parse(&data.custom_id))
        }
        (InteractionType::ModalSubmit, Some(InteractionData::ModalSubmit(data))) => {
            let fields = modal_fields(&serde_json::to_value(&data.components).unwrap_or_default());
            Route::Modal(CustomId::parse(&data.custom_id), fields)
        }
        _ => Route::Unsupported,
    }
}

/// Every `custom_id` → `value` pair in a modal's (possibly nested) components.
fn modal_fields(components: &serde_json::Value) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    collect(components, &mut fields);
    fields
}

fn collect(value: &serde_json::Value, fields: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, fields)),
        serde_json::Value::Object(map) => {
            if let (Some(id), Some(serde_json::Value::String(text))) =
                (map.get("custom_id").and_then(|v| v.as_str()), map.get("value"))
            {
                fields.insert(id.to_owned(), text.clone());
            }
            map.values().for_each(|inner| collect(inner, fields));
        }
        _ => {}
    }
}
