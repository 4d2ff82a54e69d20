//! Subject matching and namespacing.

/// Whether `subject` matches `pattern` (`*` matches one token, a final `>` one or more).
#[must_use]
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (literal, Some(actual)) if literal == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// Namespaces subjects and stream names so several deployments or tests share one broker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// A namespace; an empty prefix leaves names as they are.
    #[must_use]
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Subject on the wire for `subject`.
    #[must_use]
    pub fn subject(&self, subject: &str) -> String {
        if self.prefix.is_empty() { subject.to_owned() } else { format!("{}.{subject}", self.prefix) }
    }

    /// Strips the prefix from a subject seen on the wire.
    #[must_use]
    pub fn local<'a>(&self, wire: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            return wire;
        }
        wire.strip_prefix(self.prefix.as_str()).and_then(|rest| rest.strip_prefix('.')).unwrap_or(wire)
    }

    /// Stream name on the broker for `stream` (stream names may not contain `.`).
    #[must_use]
    pub fn stream(&self, stream: &str) -> String {
        if self.prefix.is_empty() {
            return stream.to_owned();
        }
        let prefix: String =
            self.prefix.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("{prefix}_{stream}")
    }
}

/// Dead-letter subject of a subject.
#[must_use]
pub fn dead_letter(subject: &str) -> String {
    format!("{}.{subject}", crate::spec::DEAD_LETTER_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::{Namespace, matches};

    #[test]
    fn wildcards_match_like_nats() {
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "a.b.c"));
        assert!(!matches("a.b.c", "a.b"));
        assert!(matches("a.*", "a.b"));
        assert!(!matches("a.*", "a.b.c"));
        assert!(matches("a.>", "a.b.c"));
        assert!(!matches("a.>", "a"));
        assert!(matches("*.b.>", "x.b.y"));
        assert!(!matches("a.b", "a.c"));
    }

    #[test]
    fn namespaces_prefix_and_strip() {
        let ns = Namespace::new("t1.x");
        assert_eq!(ns.subject("a.b"), "t1.x.a.b");
        assert_eq!(ns.local("t1.x.a.b"), "a.b");
        assert_eq!(ns.stream("EVENTS"), "t1_x_EVENTS");
        let none = Namespace::default();
        assert_eq!((none.subject("a"), none.local("a"), none.stream("S")), ("a".into(), "a", "S".into()));
    }
}
