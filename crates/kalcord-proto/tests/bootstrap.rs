//! The checked-in generated code matches `proto/`: fails on any drift.
//!
//! Run `make proto` (which sets `KALCORD_PROTO_BLESS=1`) to rewrite `src/gen/` after editing
//! a schema.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_owned()
}

fn proto_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(proto_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn generated_code_matches_proto_sources() {
    let root = workspace_root();
    let includes = [root.join("proto")];
    let files = proto_files(&includes[0]);
    assert!(!files.is_empty(), "no .proto files under {}", includes[0].display());
    let descriptors = protox::compile(&files, &includes).expect("proto/ does not compile");

    let out = tempfile::tempdir().unwrap();
    prost_build::Config::new().out_dir(out.path()).compile_fds(descriptors).unwrap();

    let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gen");
    let bless = std::env::var_os("KALCORD_PROTO_BLESS").is_some();
    let mut generated: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().path()).collect();
    generated.sort();
    let mut drift = Vec::new();
    for path in &generated {
        let name = path.file_name().unwrap();
        let fresh = std::fs::read_to_string(path).unwrap();
        let target = checked_in.join(name);
        if std::fs::read_to_string(&target).ok().as_deref() != Some(fresh.as_str()) {
            if bless {
                std::fs::write(&target, &fresh).unwrap();
            } else {
                drift.push(name.to_string_lossy().into_owned());
            }
        }
    }
    let expected: Vec<_> = generated.iter().map(|p| p.file_name().unwrap().to_owned()).collect();
    for entry in std::fs::read_dir(&checked_in).unwrap() {
        let path = entry.unwrap().path();
        if !expected.contains(&path.file_name().unwrap().to_owned()) {
            if bless {
                std::fs::remove_file(&path).unwrap();
            } else {
                drift.push(format!("{} (no longer generated)", path.display()));
            }
        }
    }
    assert!(drift.is_empty(), "generated code is out of date for {drift:?}; run `make proto`");
}
