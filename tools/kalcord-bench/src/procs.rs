//! The systems under test as real processes (`kalcord_test_util::process::Spawned`): started on
//! the server CPU when the machine has two, read for RSS and CPU time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use kalcord_test_util::process::{Launch, Spawned};

/// Where servers run.
#[derive(Clone, Copy, Debug)]
pub struct Cores {
    /// The CPU servers are pinned to (`taskset -c`); `None` when not pinning.
    pub server: Option<usize>,
}

impl Cores {
    /// Servers on CPU 0 when `pin`, `taskset` exists and the machine has two CPUs or more.
    #[must_use]
    pub fn detect(pin: bool) -> Self {
        let taskset = std::process::Command::new("taskset").arg("-V").output().is_ok_and(|out| out.status.success());
        let cpus = std::fs::read_to_string("/proc/cpuinfo")
            .map_or(1, |info| info.lines().filter(|line| line.starts_with("processor")).count());
        Self { server: (pin && taskset && cpus >= 2).then_some(0) }
    }

    /// Not pinned: servers share every CPU.
    pub const SHARED: Self = Self { server: None };

    /// Whether servers are pinned.
    #[must_use]
    pub fn pinned(self) -> bool {
        self.server.is_some()
    }
}

/// A workspace binary next to this one (`target/release/NAME`).
///
/// # Errors
///
/// When it was not built.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("own path")?;
    let path = exe.parent().context("own directory")?.join(name);
    anyhow::ensure!(path.exists(), "{} is missing: build it first (`cargo build --release --bins`)", path.display());
    Ok(path)
}

/// Starts the workspace binary `name` on the server CPU and waits for its `announce` listener
/// (and, when that is `admin`, for `/readyz`).
///
/// # Errors
///
/// When it is missing, does not start or does not turn ready.
pub async fn start(
    name: &str,
    args: &[&str],
    env: &[(String, String)],
    cores: Cores,
    announce: &str,
    dir: Option<&Path>,
) -> anyhow::Result<Spawned> {
    let launch = Launch { dir, cpu: cores.server, announce: Some(announce) };
    let process = Spawned::launch(&binary(name)?, args, env, &launch).await?;
    if announce == "admin" {
        process.wait_ready(Duration::from_secs(60)).await?;
    }
    Ok(process)
}

/// SIGTERM, waiting up to 20 s (a benchmark only needs it gone).
pub async fn stop(process: Spawned) {
    let _ = process.terminate(Duration::from_secs(20)).await;
}

/// What `/proc` tells of a running process.
pub trait Stats {
    /// Resident set size now, in KiB.
    fn rss_kib(&self) -> u64;
    /// Largest resident set size so far, in KiB.
    fn peak_kib(&self) -> u64;
    /// CPU time used so far (user + system), in seconds.
    fn cpu_seconds(&self) -> f64;
}

impl Stats for Spawned {
    fn rss_kib(&self) -> u64 {
        status_field(self.pid().unwrap_or(0), "VmRSS:")
    }

    fn peak_kib(&self) -> u64 {
        status_field(self.pid().unwrap_or(0), "VmHWM:")
    }

    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid().unwrap_or(0))
    }
}

/// A `/proc/PID/status` field in KiB (0 when the process is gone).
fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of `pid` (`/proc/PID/stat`, clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // NOTE: fields after the command name (which may hold spaces) start after the last ')'.
    let Some(rest) = stat.rfind(')').map(|end| &stat[end + 1..]) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    // NOTE: utime and stime are fields 14 and 15 of stat; counted from after the name, 11 and 12.
    (ticks(11) + ticks(12)) as f64 / 100.0
}
