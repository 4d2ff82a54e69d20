//! Interaction responses and message bodies, serialised exactly as Discord expects.
//!
//! Everything user-provided is cut to Discord's limits here, and messages never ping anyone
//! unless asked (`allowed_mentions.parse = []`), so a meeting titled `@everyone` stays quiet.

use serde::Serialize;

/// `EPHEMERAL`: only the invoking member sees the message.
pub const EPHEMERAL: u64 = 1 << 6;

/// Callback types.
pub mod kind {
    /// Acknowledges a PING.
    pub const PONG: u8 = 1;
    /// Replies with a message.
    pub const CHANNEL_MESSAGE: u8 = 4;
    /// Shows "thinking…"; the answer follows by editing `@original`.
    pub const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
    /// Acknowledges a component without changing its message yet.
    pub const DEFERRED_UPDATE_MESSAGE: u8 = 6;
    /// Edits the message a component is on.
    pub const UPDATE_MESSAGE: u8 = 7;
    /// Autocomplete choices.
    pub const AUTOCOMPLETE_RESULT: u8 = 8;
    /// Opens a modal.
    pub const MODAL: u8 = 9;
    /// Launches the app's Activity (absent from twilight-model 0.18).
    pub const LAUNCH_ACTIVITY: u8 = 12;
}

/// Cuts `text` to `max` characters, ending with `…` when cut.
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Who may be pinged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowedMentions {
    /// Mention kinds parsed from the content; empty pings nobody.
    pub parse: Vec<String>,
    /// Roles that may be pinged (snowflakes), whatever `parse` says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

impl AllowedMentions {
    /// Pings exactly `role` and nobody else.
    #[must_use]
    pub fn role(role: u64) -> Self {
        Self { parse: Vec::new(), roles: vec![role.to_string()] }
    }
}

/// An embed field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmbedField {
    /// Name (≤ 256).
    pub name: String,
    /// Value (≤ 1024).
    pub value: String,
    /// Side by side with neighbours.
    pub inline: bool,
}

/// An embed footer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmbedFooter {
    /// Text (≤ 2048).
    pub text: String,
}

/// A rich embed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Embed {
    /// Title (≤ 256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description (≤ 4096).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Link of the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Colour, `0xRRGGBB`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    /// Fields (≤ 25).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    /// Footer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    /// ISO-8601 timestamp shown in the footer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl Embed {
    /// An embed with a title.
    #[must_use]
    pub fn titled(title: &str) -> Self {
        Self { title: Some(truncate(title, 256)), ..Self::default() }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(truncate(text, 4096));
        self
    }

    /// Adds a field (ignored past Discord's 25).
    #[must_use]
    pub fn field(mut self, name: &str, value: &str, inline: bool) -> Self {
        if self.fields.len() < 25 {
            self.fields.push(EmbedField { name: truncate(name, 256), value: truncate(value, 1024), inline });
        }
        self
    }

    /// Sets the colour.
    #[must_use]
    pub fn color(mut self, rgb: u32) -> Self {
        self.color = Some(rgb & 0x00FF_FFFF);
        self
    }

    /// Sets the footer.
    #[must_use]
    pub fn footer(mut self, text: &str) -> Self {
        self.footer = Some(EmbedFooter { text: truncate(text, 2048) });
        self
    }
}

/// Button styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonStyle {
    /// Blurple.
    Primary = 1,
    /// Grey.
    Secondary = 2,
    /// Green.
    Success = 3,
    /// Red.
    Danger = 4,
    /// Opens a URL; sends no interaction.
    Link = 5,
}

/// A message or modal component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Component {
    /// A row of up to five buttons.
    ActionRow {
        /// Always 1.
        #[serde(rename = "type")]
        kind: u8,
        /// The buttons.
        components: Vec<Component>,
    },
    /// A button.
    Button {
        /// Always 2.
        #[serde(rename = "type")]
        kind: u8,
        /// [`ButtonStyle`] value.
        style: u8,
        /// Label (≤ 80).
        label: String,
        /// Component id (not for link buttons).
        #[serde(skip_serializing_if = "Option::is_none")]
        custom_id: Option<String>,
        /// Target (link buttons only, ≤ 512).
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Greyed out.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        disabled: bool,
    },
    /// A labelled modal field (Label, type 18, wrapping a Text Input, type 4).
    Label {
        /// Always 18.
        #[serde(rename = "type")]
        kind: u8,
        /// Label (≤ 45).
        label: String,
        /// Help text (≤ 100).
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// The text input.
        component: Box<TextInput>,
    },
}

/// A text input inside a modal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextInput {
    /// Always 4.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Component id.
    pub custom_id: String,
    /// 1 short, 2 paragraph.
    pub style: u8,
    /// Required to submit.
    pub required: bool,
    /// Prefilled value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Placeholder (≤ 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Longest input accepted (≤ 4000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u16>,
}

impl Component {
    /// A row of buttons (at most five are kept).
    #[must_use]
    pub fn row(buttons: Vec<Component>) -> Self {
        Self::ActionRow { kind: 1, components: buttons.into_iter().take(5).collect() }
    }

    /// A button sending an interaction with `custom_id`.
    #[must_use]
    pub fn button(style: ButtonStyle, label: &str, custom_id: String) -> Self {
        Self::Button {
            kind: 2,
            style: style as u8,
            label: truncate(label, 80),
            custom_id: Some(custom_id),
            url: None,
            disabled: false,
        }
    }

    /// A link button (style 5) opening `url`; `None` when the URL is too long for Discord.
    #[must_use]
    pub fn link(label: &str, url: &str) -> Option<Self> {
        (url.len() <= 512 && (url.starts_with("https://") || url.starts_with("http://"))).then(|| Self::Button {
            kind: 2,
            style: ButtonStyle::Link as u8,
            label: truncate(label, 80),
            custom_id: None,
            url: Some(url.to_owned()),
            disabled: false,
        })
    }

    /// A labelled text field of a modal.
    #[must_use]
    pub fn text_field(label: &str, input: TextInput) -> Self {
        Self::Label { kind: 18, label: truncate(label, 45), description: None, component: Box::new(input) }
    }
}

impl TextInput {
    /// A single-line input.
    #[must_use]
    pub fn short(custom_id: &str, required: bool) -> Self {
        Self {
            kind: 4,
            custom_id: custom_id.to_owned(),
            style: 1,
            required,
            value: None,
            placeholder: None,
            max_length: None,
        }
    }
}

/// A message body (responses, follow-ups, channel posts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageData {
    /// Text (≤ 2000).
    pub content: Option<String>,
    /// Embeds (≤ 10).
    pub embeds: Vec<Embed>,
    /// Rows of components (≤ 5).
    pub components: Vec<Component>,
    /// Flags, e.g. [`EPHEMERAL`].
    pub flags: Option<u64>,
    /// Pings allowed; none by default.
    pub allowed_mentions: AllowedMentions,
    /// Sends empty `embeds` and `components` as `[]` instead of leaving them out. An edit (PATCH) without them
    /// keeps the old ones, so an edit that must remove buttons (a meeting that ended) sets this.
    pub replace: bool,
}

impl Serialize for MessageData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(content) = &self.content {
            map.serialize_entry("content", content)?;
        }
        if self.replace || !self.embeds.is_empty() {
            map.serialize_entry("embeds", &self.embeds)?;
        }
        if self.replace || !self.components.is_empty() {
            map.serialize_entry("components", &self.components)?;
        }
        if let Some(flags) = self.flags {
            map.serialize_entry("flags", &flags)?;
        }
        map.serialize_entry("allowed_mentions", &self.allowed_mentions)?;
        map.end()
    }
}

impl MessageData {
    /// A plain text message.
    #[must_use]
    pub fn text(content: &str) -> Self {
        Self {
            content: Some(truncate(content, 2000)),
            embeds: Vec::new(),
            components: Vec::new(),
            flags: None,
            allowed_mentions: AllowedMentions::default(),
            replace: false,
        }
    }

    /// Replaces every part of the message on an edit: empty embeds and components are sent as `[]` (removed).
    #[must_use]
    pub fn replacing(mut self) -> Self {
        self.replace = true;
        self
    }

    /// A message made of one embed.
    #[must_use]
    pub fn embed(embed: Embed) -> Self {
        Self { content: None, embeds: vec![embed], ..Self::text("") }
    }

    /// Only the invoking member sees it.
    #[must_use]
    pub fn ephemeral(mut self) -> Self {
        self.flags = Some(self.flags.unwrap_or(0) | EPHEMERAL);
        self
    }

    /// Adds a row of components (ignored past Discord's 5).
    #[must_use]
    pub fn row(mut self, row: Component) -> Self {
        if self.components.len() < 5 {
            self.components.push(row);
        }
        self
    }
}

/// An autocomplete choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// Shown (1–100).
    pub name: String,
    /// Sent back as the option value (≤ 100).
    pub value: String,
}

/// The body of an interaction response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ResponseData {
    /// A message.
    Message(MessageData),
    /// Autocomplete choices.
    Choices {
        /// At most 25.
        choices: Vec<Choice>,
    },
    /// A modal.
    Modal {
        /// Submitted back as the modal's id.
        custom_id: String,
        /// Title (≤ 45).
        title: String,
        /// Fields (1–5).
        components: Vec<Component>,
    },
    /// A deferral's flags.
    Flags {
        /// [`EPHEMERAL`] or 0.
        flags: u64,
    },
}

/// An interaction response: `{"type": …, "data": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InteractionResponse {
    /// Callback type, see [`kind`].
    #[serde(rename = "type")]
    pub kind: u8,
    /// Body, when the type has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<ResponseData>,
}

impl InteractionResponse {
    /// PONG.
    #[must_use]
    pub fn pong() -> Self {
        Self { kind: kind::PONG, data: None }
    }

    /// A message reply.
    #[must_use]
    pub fn message(data: MessageData) -> Self {
        Self { kind: kind::CHANNEL_MESSAGE, data: Some(ResponseData::Message(data)) }
    }

    /// A reply only the member sees.
    #[must_use]
    pub fn ephemeral(text: &str) -> Self {
        Self::message(MessageData::text(text).ephemeral())
    }

    /// "Thinking…", answered later by editing `@original`.
    #[must_use]
    pub fn deferred(ephemeral: bool) -> Self {
        let data = ephemeral.then_some(ResponseData::Flags { flags: EPHEMERAL });
        Self { kind: kind::DEFERRED_CHANNEL_MESSAGE, data }
    }

    /// Acknowledges a component; the message is edited later.
    #[must_use]
    pub fn deferred_update() -> Self {
        Self { kind: kind::DEFERRED_UPDATE_MESSAGE, data: None }
    }

    /// Edits the message a component is on.
    #[must_use]
    pub fn update(data: MessageData) -> Self {
        Self { kind: kind::UPDATE_MESSAGE, data: Some(ResponseData::Message(data)) }
    }

    /// Autocomplete choices (at most 25 are kept; names cut to 100).
    #[must_use]
    pub fn choices(choices: Vec<Choice>) -> Self {
        let choices = choices
            .into_iter()
            .take(25)
            .map(|c| Choice { name: truncate(&c.name, 100), value: truncate(&c.value, 100) })
            .collect();
        Self { kind: kind::AUTOCOMPLETE_RESULT, data: Some(ResponseData::Choices { choices }) }
    }

    /// Opens a modal.
    #[must_use]
    pub fn modal(custom_id: String, title: &str, fields: Vec<Component>) -> Self {
        let data = ResponseData::Modal {
            custom_id,
            title: truncate(title, 45),
            components: fields.into_iter().take(5).collect(),
        };
        Self { kind: kind::MODAL, data: Some(data) }
    }

    /// Launches the Activity.
    #[must_use]
    pub fn launch_activity() -> Self {
        Self { kind: kind::LAUNCH_ACTIVITY, data: None }
    }

    /// The JSON body.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("responses always serialise")
    }
}

#[cfg(test)]
mod tests;
