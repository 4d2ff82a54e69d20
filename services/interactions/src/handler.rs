//! Handlers and what they get: the interaction, its route and the service's dependencies.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use kalcord_discord::egress::Egress;
use kalcord_discord::permission::Permissions;
use kalcord_discord::response::InteractionResponse;
use kalcord_runtime::Deps;
use twilight_model::application::interaction::Interaction;
use twilight_model::application::interaction::application_command::CommandOptionValue;

use crate::route::Route;

/// A handler failed; the member gets a polite message, the log gets the cause.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct HandlerError {
    context: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl HandlerError {
    /// An error with its cause.
    pub fn new(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { context: context.into(), source: Some(Box::new(source)) }
    }
}

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct App {
    /// Dependencies.
    pub deps: Deps,
    /// Discord REST egress (follow-ups); `None` when no bot token is configured.
    pub egress: Option<Egress>,
}

/// One interaction being handled.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Shared dependencies.
    pub app: Arc<App>,
    /// The interaction.
    pub interaction: Interaction,
    /// Its route.
    pub route: Route,
}

impl Ctx {
    /// The invoking member's permissions in the channel (none outside guilds).
    #[must_use]
    pub fn permissions(&self) -> Permissions {
        let bits = self.interaction.member.as_ref().and_then(|member| member.permissions).map_or(0, |p| p.bits());
        Permissions(bits)
    }

    /// The invoking member's role ids (empty outside guilds).
    #[must_use]
    pub fn member_roles(&self) -> Vec<u64> {
        self.interaction
            .member
            .as_ref()
            .map(|member| member.roles.iter().map(|role| role.get()).collect())
            .unwrap_or_default()
    }

    /// Whether the member has at least one of `roles`.
    #[must_use]
    pub fn has_any_role(&self, roles: &[u64]) -> bool {
        self.member_roles().iter().any(|role| roles.contains(role))
    }

    /// The invoking user's id (member in guilds, user in DMs).
    #[must_use]
    pub fn user_id(&self) -> Option<u64> {
        self.interaction.author_id().map(twilight_model::id::Id::get)
    }

    /// The guild the interaction happened in.
    #[must_use]
    pub fn guild_id(&self) -> Option<u64> {
        self.interaction.guild_id.map(twilight_model::id::Id::get)
    }

    /// A string option of the command.
    #[must_use]
    pub fn option_str(&self, name: &str) -> Option<&str> {
        self.option(name).and_then(|value| match value {
            CommandOptionValue::String(text) => Some(text.as_str()),
            _ => None,
        })
    }

    /// An integer option of the command.
    #[must_use]
    pub fn option_i64(&self, name: &str) -> Option<i64> {
        self.option(name).and_then(|value| match value {
            CommandOptionValue::Integer(number) => Some(*number),
            _ => None,
        })
    }

    /// A boolean option of the command.
    #[must_use]
    pub fn option_bool(&self, name: &str) -> Option<bool> {
        self.option(name).and_then(|value| match value {
            CommandOptionValue::Boolean(on) => Some(*on),
            _ => None,
        })
    }

    /// A role option of the command.
    #[must_use]
    pub fn option_role(&self, name: &str) -> Option<u64> {
        self.option(name).and_then(|value| match value {
            CommandOptionValue::Role(id) => Some(id.get()),
            _ => None,
        })
    }

    /// A channel option of the command.
    #[must_use]
    pub fn option_channel(&self, name: &str) -> Option<u64> {
        self.option(name).and_then(|value| match value {
            CommandOptionValue::Channel(id) => Some(id.get()),
            _ => None,
        })
    }

    /// The channel the interaction happened in.
    #[must_use]
    pub fn channel_id(&self) -> Option<u64> {
        #[allow(deprecated)]
        let legacy = self.interaction.channel_id;
        self.interaction.channel.as_ref().map(|channel| channel.id).or(legacy).map(twilight_model::id::Id::get)
    }

    /// The custom id arguments of a component or modal (empty for anything else).
    #[must_use]
    pub fn custom_args(&self) -> &[String] {
        match &self.route {
            Route::Component(Ok(id)) | Route::Modal(Ok(id), _) => &id.args,
            _ => &[],
        }
    }

    /// A modal field by custom id (`None` outside modals or when empty).
    #[must_use]
    pub fn modal_field(&self, name: &str) -> Option<&str> {
        let Route::Modal(_, fields) = &self.route else { return None };
        fields.get(name).map(|value| value.trim()).filter(|value| !value.is_empty())
    }

    /// The option being autocompleted and what was typed so far.
    #[must_use]
    pub fn focused(&self) -> Option<(&str, &str)> {
        let Route::Autocomplete { focused: Some((name, typed)), .. } = &self.route else { return None };
        Some((name.as_str(), typed.as_str()))
    }

    fn option(&self, name: &str) -> Option<&CommandOptionValue> {
        let Route::Command { options, .. } = &self.route else { return None };
        options.iter().find(|option| option.name == name).map(|option| &option.value)
    }
}

/// Handles one kind of interaction (a command, a component action, a modal, an autocomplete).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Builds the response.
    async fn handle(&self, ctx: &Ctx) -> Result<InteractionResponse, HandlerError>;
}

/// Handlers by route key (`command:kaltura status`, `component:join`, ...).
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.handlers.keys().collect();
        keys.sort();
        f.debug_struct("Registry").field("handlers", &keys).finish()
    }
}

impl Registry {
    /// Registers `handler` for `key`.
    #[must_use]
    pub fn with(mut self, key: &str, handler: impl Handler) -> Self {
        self.handlers.insert(key.to_owned(), Arc::new(handler));
        self
    }

    /// The handler for a route, if any.
    #[must_use]
    pub fn get(&self, route: &Route) -> Option<Arc<dyn Handler>> {
        route.key().and_then(|key| self.handlers.get(&key).cloned())
    }
}
