//! What the benchmarks ran on.

use std::process::Command;

fn first_line(path: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .map(|rest| rest.trim().trim_start_matches([':', '=']).trim().trim_matches('"').to_owned())
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A markdown list describing the machine, toolchain and revision.
#[must_use]
pub fn describe(pinned: bool) -> String {
    let cpu = first_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .map_or(0, |info| info.lines().filter(|line| line.starts_with("processor")).count());
    let memory = first_line("/proc/meminfo", "MemTotal")
        .and_then(|kib| kib.trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(|| "unknown".to_owned(), |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0));
    let os = first_line("/etc/os-release", "PRETTY_NAME").unwrap_or_else(|| "unknown OS".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
    let rustc = output("rustc", &["-V"]).unwrap_or_else(|| "unknown rustc".to_owned());
    let revision = output("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.md"])
        .is_some_and(|s| !s.is_empty());
    let placement = if pinned {
        "servers pinned to CPU 0 (`taskset -c 0`), the load generator, emulators and consumers to CPU 1 \
         (`taskset -c 1`); PostgreSQL, Redis and NATS are the machine's own services and not pinned"
    } else {
        "not pinned (`taskset` missing, one CPU, or `--no-pin`): servers and load share every CPU"
    };
    format!(
        "- CPU: {cpu}, {cores} logical CPUs; memory {memory}\n- OS: {os}, kernel {kernel}\n- Toolchain: {rustc}, \
         release profile (LTO, one codegen unit)\n- Revision: {revision}{}\n- Placement: {placement}\n",
        if dirty { " (with uncommitted changes)" } else { "" }
    )
}
