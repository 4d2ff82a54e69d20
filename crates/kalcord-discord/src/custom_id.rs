//! Component ids: `kc<version>:<action>[:<arg>...]`, at most 100 characters.
//!
//! Buttons live on in old messages after a release changes what they mean; the version lets
//! an old button be recognised and answered politely instead of being misread.

use std::fmt;

/// Prefix of every kalcord component id.
pub const PREFIX: &str = "kc";
/// Version of the ids this release issues.
pub const VERSION: u32 = 1;
/// Discord's limit.
pub const MAX_LEN: usize = 100;

/// A parsed component id of the current version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomId {
    /// What the component does, e.g. `join`.
    pub action: String,
    /// Its arguments, e.g. the meeting id.
    pub args: Vec<String>,
}

/// Why a component id cannot be handled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomIdError {
    /// Not one of ours.
    #[error("not a kalcord component")]
    Foreign,
    /// Issued by an older (or newer) release.
    #[error("component from version {0}")]
    Outdated(u32),
    /// Ours, but malformed.
    #[error("malformed component id")]
    Malformed,
    /// Too long for Discord, or an argument holds `:`.
    #[error("component id does not fit")]
    TooLong,
}

impl CustomId {
    /// A new id.
    #[must_use]
    pub fn new(action: &str, args: &[&str]) -> Self {
        Self { action: action.to_owned(), args: args.iter().map(|arg| (*arg).to_owned()).collect() }
    }

    /// The wire form, checked against Discord's limit.
    ///
    /// # Errors
    ///
    /// [`CustomIdError::TooLong`] when it exceeds 100 characters or a part holds `:`.
    pub fn encode(&self) -> Result<String, CustomIdError> {
        if std::iter::once(&self.action).chain(&self.args).any(|part| part.contains(':')) || self.action.is_empty() {
            return Err(CustomIdError::TooLong);
        }
        let text = self.to_string();
        if text.len() > MAX_LEN { Err(CustomIdError::TooLong) } else { Ok(text) }
    }

    /// Parses a component id.
    ///
    /// # Errors
    ///
    /// Foreign, outdated or malformed ids.
    pub fn parse(text: &str) -> Result<Self, CustomIdError> {
        let mut parts = text.split(':');
        let head = parts.next().unwrap_or_default();
        let version = head.strip_prefix(PREFIX).ok_or(CustomIdError::Foreign)?;
        let version: u32 = version.parse().map_err(|_| CustomIdError::Foreign)?;
        if version != VERSION {
            return Err(CustomIdError::Outdated(version));
        }
        let action = parts.next().filter(|a| !a.is_empty()).ok_or(CustomIdError::Malformed)?.to_owned();
        Ok(Self { action, args: parts.map(str::to_owned).collect() })
    }

    /// Argument `index`, if present.
    #[must_use]
    pub fn arg(&self, index: usize) -> Option<&str> {
        self.args.get(index).map(String::as_str)
    }
}

impl fmt::Display for CustomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{VERSION}:{}", self.action)?;
        for arg in &self.args {
            write!(f, ":{arg}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{CustomId, CustomIdError};

    #[test]
    fn round_trips_and_refuses_others() {
        let id = CustomId::new("join", &["0193a6f0-7c8e-7000-8000-000000000001"]);
        let text = id.encode().unwrap();
        assert_eq!(text, "kc1:join:0193a6f0-7c8e-7000-8000-000000000001");
        assert_eq!(CustomId::parse(&text), Ok(id));
        assert_eq!(CustomId::parse("kc0:join:x"), Err(CustomIdError::Outdated(0)));
        assert_eq!(CustomId::parse("kc2:join"), Err(CustomIdError::Outdated(2)));
        assert_eq!(CustomId::parse("other_bot_button"), Err(CustomIdError::Foreign));
        assert_eq!(CustomId::parse("kcx:join"), Err(CustomIdError::Foreign));
        assert_eq!(CustomId::parse("kc1:"), Err(CustomIdError::Malformed));
        assert_eq!(CustomId::new("a", &[&"x".repeat(100)]).encode(), Err(CustomIdError::TooLong));
        assert_eq!(CustomId::new("a", &["b:c"]).encode(), Err(CustomIdError::TooLong));
    }
}
