//! KS privileges: `name:value,name2:v1/v2,flag`, built so user data cannot inject any.

use std::fmt;

/// An ordered list of KS privileges.
///
/// Order is kept because it is part of the signed KS v2 payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Privileges(Vec<(String, String)>);

impl Privileges {
    /// No privileges.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the wire syntax the way the server does: split on `,`, trim, skip empty parts,
    /// `*` means `all:*`, split each on the first `:` (a value may hold more `:`), a bare name
    /// has an empty value.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let entries = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                if part == "*" {
                    return ("all".to_owned(), "*".to_owned());
                }
                // NOTE: names and values are trimmed on their own too, so `a\t:` reads as `a` both
                // before and after a round trip through the wire syntax.
                match part.split_once(':') {
                    Some((name, value)) => (name.trim().to_owned(), value.trim().to_owned()),
                    None => (part.to_owned(), String::new()),
                }
            })
            .collect();
        Self(entries)
    }

    /// Adds a privilege whose value the application controls (ids, roles).
    ///
    /// # Panics
    ///
    /// When the name or value contains `,` or the name contains `:` — a programming error;
    /// values that come from users go through [`Privileges::with_user_value`].
    #[must_use]
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Self {
        let value = value.to_string();
        assert!(is_name(name), "privilege name {name:?} is not a plain name");
        assert!(!value.contains(','), "privilege {name} value {value:?} contains a comma");
        self.0.push((name.to_owned(), value));
        self
    }

    /// Adds a privilege whose value comes from a user (a display name, an email): every
    /// character that could start another privilege or value (`,`, `:`, `/`, `;`, `&`, `=`,
    /// `|`) and every control character is removed, and the result is capped at 128 chars.
    #[must_use]
    pub fn with_user_value(mut self, name: &str, value: &str) -> Self {
        assert!(is_name(name), "privilege name {name:?} is not a plain name");
        let clean: String = value
            .chars()
            .filter(|c| !matches!(c, ',' | ':' | '/' | ';' | '&' | '=' | '|') && !c.is_control())
            .take(128)
            .collect();
        let clean = clean.trim();
        if !clean.is_empty() {
            self.0.push((name.to_owned(), clean.to_owned()));
        }
        self
    }

    /// Adds a bare flag (a privilege without value).
    #[must_use]
    pub fn with_flag(self, name: &str) -> Self {
        self.with(name, "")
    }

    /// The value of the first privilege named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn push_raw(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains([',', ':', '=', '&', ';', '|']) && !name.chars().any(char::is_whitespace)
}

impl fmt::Display for Privileges {
    /// The wire syntax: `name:value` or bare `name`, comma-separated, `all:*` as `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (name, value)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            match (name.as_str(), value.as_str()) {
                ("all", "*") => f.write_str("*")?,
                (name, "") => f.write_str(name)?,
                (name, value) => write!(f, "{name}:{value}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Privileges;

    #[test]
    fn names_and_values_are_trimmed_so_a_round_trip_is_stable() {
        let once = Privileges::parse("\0\t:").to_string();
        assert_eq!(once, "\0");
        assert_eq!(Privileges::parse(&once).to_string(), once);
        assert_eq!(Privileges::parse(" role : adminRole ,eventId:1").to_string(), "role:adminRole,eventId:1");
    }

    #[test]
    fn parses_like_the_server() {
        let privileges = Privileges::parse(" eventId:3371011, role:viewerRole,,flag,* ,urirestrict:http://x/y");
        let pairs: Vec<_> = privileges.iter().collect();
        assert_eq!(
            pairs,
            [("eventId", "3371011"), ("role", "viewerRole"), ("flag", ""), ("all", "*"), ("urirestrict", "http://x/y")]
        );
        assert_eq!(privileges.to_string(), "eventId:3371011,role:viewerRole,flag,*,urirestrict:http://x/y");
    }

    #[test]
    fn user_values_cannot_inject_privileges() {
        let privileges = Privileges::new()
            .with("role", "viewerRole")
            .with_user_value("firstName", "Max,role:adminRole,userContextualRole:0")
            .with_user_value("lastName", " \u{0}\n ");
        assert_eq!(privileges.to_string(), "role:viewerRole,firstName:MaxroleadminRoleuserContextualRole0");
        let reparsed = Privileges::parse(&privileges.to_string());
        assert_eq!(reparsed.get("role"), Some("viewerRole"));
        assert_eq!(reparsed.iter().count(), 2, "an empty cleaned value is left out");
    }

    #[test]
    #[should_panic(expected = "contains a comma")]
    fn application_values_must_not_contain_commas() {
        let _ = Privileges::new().with("eventId", "1,role:adminRole");
    }
}
