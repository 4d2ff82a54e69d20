//! The systems under test as real processes: started (pinned to the server core when the
//! machine has two), read for RSS and CPU time, stopped with SIGTERM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

/// The core servers run on and the core the load generator runs on, when there are two.
#[derive(Clone, Copy, Debug)]
pub struct Cores {
    /// `taskset -c` for servers, `None` when not pinning.
    pub server: Option<usize>,
    /// Description for the report.
    pub pinned: bool,
}

impl Cores {
    /// Pins servers to core 0 when `taskset` exists and this process may use two cores or more.
    #[must_use]
    pub fn detect(pin: bool) -> Self {
        let taskset = std::process::Command::new("taskset").arg("-V").output().is_ok_and(|out| out.status.success());
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let machine = std::fs::read_to_string("/proc/cpuinfo")
            .map_or(1, |info| info.lines().filter(|line| line.starts_with("processor")).count());
        let pinned = pin && taskset && machine >= 2 && cores >= 1;
        Self { server: pinned.then_some(0), pinned }
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

/// A running server.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    endpoints: BTreeMap<String, String>,
    name: String,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Starts `binary` (pinned to `cores.server`) with `env` (inherited `KALCORD_*` variables
    /// removed) and waits for its `listening <announce> <url>` line.
    ///
    /// # Errors
    ///
    /// When it cannot start or does not announce within 60 s.
    pub async fn start(
        binary: &Path,
        args: &[String],
        env: &[(String, String)],
        cores: Cores,
        announce: &str,
    ) -> anyhow::Result<Self> {
        Self::start_in(None, binary, args, env, cores, announce).await
    }

    /// [`Proc::start`] in the working directory `dir` (relative paths such as `data/` land there).
    ///
    /// # Errors
    ///
    /// When it cannot start or does not announce within 60 s.
    pub async fn start_in(
        dir: Option<&Path>,
        binary: &Path,
        args: &[String],
        env: &[(String, String)],
        cores: Cores,
        announce: &str,
    ) -> anyhow::Result<Self> {
        let name = binary.file_name().map_or_else(|| "server".to_owned(), |n| n.to_string_lossy().into_owned());
        let mut command = match cores.server {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.arg("-c").arg(core.to_string()).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for (key, _) in std::env::vars_os().filter(|(key, _)| key.to_string_lossy().starts_with("KALCORD_")) {
            command.env_remove(key);
        }
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut text = sink.lock().await;
                // NOTE: keep the tail only; a long run must not grow this process.
                if text.len() > 64 * 1024 {
                    text.clear();
                }
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut endpoints = BTreeMap::new();
        let announced = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = out_lines.next_line().await? {
                if let Some((what, url)) = line.strip_prefix("listening ").and_then(|rest| rest.split_once(' ')) {
                    endpoints.insert(what.to_owned(), url.to_owned());
                    if what == announce {
                        return Ok::<bool, std::io::Error>(true);
                    }
                }
            }
            Ok(false)
        })
        .await;
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        let proc = Self { child, endpoints, name, stderr };
        match announced {
            Ok(Ok(true)) => Ok(proc),
            _ => bail!("{} did not start; stderr:\n{}", proc.name, proc.stderr.lock().await),
        }
    }

    /// URL of an announced listener.
    ///
    /// # Errors
    ///
    /// When it announced none of that name.
    pub fn url(&self, name: &str) -> anyhow::Result<&str> {
        self.endpoints
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("{} announced no {name} listener", self.name))
    }

    /// Polls the admin listener's `/readyz` until it answers 200.
    ///
    /// # Errors
    ///
    /// When it does not within 60 s.
    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.url("admin")?);
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client.get(&url).send().await.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} not ready within 60 s; stderr:\n{}", self.name, self.stderr.lock().await)
    }

    /// Process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Resident set size now, in KiB.
    #[must_use]
    pub fn rss_kib(&self) -> u64 {
        status_field(self.pid(), "VmRSS:")
    }

    /// Largest resident set size so far, in KiB.
    #[must_use]
    pub fn peak_kib(&self) -> u64 {
        status_field(self.pid(), "VmHWM:")
    }

    /// CPU time used so far (user + system), in seconds.
    #[must_use]
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid())
    }

    /// SIGTERM, then a kill after 20 s.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
            if tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await.is_err() {
                let _ = self.child.kill().await;
            }
        }
    }
}

/// A `/proc/PID/status` field in KiB (0 when the process is gone).
#[must_use]
pub fn status_field(pid: u32, field: &str) -> u64 {
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
#[must_use]
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // NOTE: fields after the command name (which may hold spaces) start after the last ')'.
    let Some(rest) = stat.rfind(')').map(|end| &stat[end + 1..]) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat; here 0-based after the name: 11 and 12.
    (ticks(11) + ticks(12)) as f64 / 100.0
}
