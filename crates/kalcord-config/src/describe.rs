//! Renders the declared keys as `--help-config` text and as Markdown.

use std::fmt::Write as _;

use crate::reader::{KeyDoc, Reader, Section, State};
use crate::secret_store::SecretStore;
use crate::source::Sources;

/// Every key a section declares, in declaration order.
#[must_use]
pub fn describe<S: Section>() -> Vec<KeyDoc> {
    let sources = Sources::empty();
    let secrets = SecretStore::empty();
    let mut state = State::default();
    let _ = S::read(&mut Reader::new(&sources, &secrets, &mut state));
    state.docs
}

/// Plain-text listing for `--help-config`.
#[must_use]
pub fn render_text(keys: &[KeyDoc]) -> String {
    let mut out = String::new();
    for key in keys {
        let mut default = match (&key.default, key.secret) {
            (_, true) => "secret".to_owned(),
            (Some(default), false) if !default.is_empty() => format!("default {default}"),
            _ => "no default".to_owned(),
        };
        if let Some(distributed) = &key.distributed_default {
            let _ = write!(default, "; services: {distributed}");
        }
        let _ = writeln!(out, "{}  [{}]  ({default})\n    {}", key.key, key.env, key.doc);
    }
    out
}

/// Markdown table for `docs/configuration.md`.
#[must_use]
pub fn render_markdown(keys: &[KeyDoc]) -> String {
    let mut out = String::from("| key | environment variable | default | meaning |\n|---|---|---|---|\n");
    for key in keys {
        let mut default = match (&key.default, key.secret) {
            (_, true) => "*secret*".to_owned(),
            (Some(default), false) if !default.is_empty() => format!("`{default}`"),
            _ => "—".to_owned(),
        };
        if let Some(distributed) = &key.distributed_default {
            let _ = write!(default, "; services: `{distributed}`");
        }
        let doc = key.doc.replace('|', "\\|");
        let _ = writeln!(out, "| `{}` | `{}` | {default} | {doc} |", key.key, key.env);
    }
    out
}
