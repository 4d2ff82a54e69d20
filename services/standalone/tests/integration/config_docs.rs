//! `docs/configuration.md` lists exactly the keys the code declares.
//!
//! The table between the `BEGIN GENERATED` and `END GENERATED` markers is generated from the
//! same declarations that parse configuration; `make docs` rewrites it
//! (`KALCORD_DOCS_BLESS=1`).

use std::path::Path;

use kalcord_standalone::StandaloneRoot;

const BEGIN: &str = "<!-- BEGIN GENERATED: cargo test -p kalcord-standalone config_docs -->\n";
const END: &str = "<!-- END GENERATED -->";

#[test]
fn configuration_reference_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let doc = std::fs::read_to_string(&path).expect("docs/configuration.md exists");
    let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = doc.find(END).expect("end marker");
    let table = kalcord_config::render_markdown(&kalcord_config::describe::<StandaloneRoot>());
    if doc[start..end] == table {
        return;
    }
    if std::env::var_os("KALCORD_DOCS_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &doc[..start], &doc[end..])).unwrap();
        return;
    }
    panic!("docs/configuration.md is out of date with the code; run `make docs`");
}
