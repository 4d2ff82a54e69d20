//! Runs kalcord binaries as real processes: start, read where they listen, wait until
//! ready, stop them with SIGTERM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

/// A kalcord binary running as a child process.
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    endpoints: BTreeMap<String, String>,
    name: String,
    stderr: Arc<Mutex<String>>,
}

/// How to start a process, beyond its program, arguments and environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Launch<'a> {
    /// Working directory (default: this one), where relative paths such as `data/` land.
    pub dir: Option<&'a Path>,
    /// The only CPU it may run on (`taskset -c`), for benchmarks that keep load and server apart.
    pub cpu: Option<usize>,
    /// The listener whose `listening` line means it started (default `admin`).
    pub announce: Option<&'a str>,
}

/// Path of a workspace binary, built next to the test binaries.
///
/// `cargo nextest run --workspace` (the `make test` command) builds every binary first; when
/// a single package is tested the binary is built here with `cargo build`.
///
/// # Panics
///
/// When the binary can neither be found nor built.
#[must_use]
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target directory");
    let path = dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = std::process::Command::new(cargo)
            .args(["build", "--bin", name])
            .status()
            .unwrap_or_else(|err| panic!("cannot run cargo to build {name}: {err}"));
        assert!(status.success(), "cargo build --bin {name} failed");
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

impl Spawned {
    /// Process id, while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Starts `program` with `env` (inherited `KALCORD_*` variables are removed) and waits
    /// for its `listening <name> <url>` lines, ending with the admin one.
    ///
    /// # Errors
    ///
    /// When the process cannot start, exits, or does not announce its admin listener within 60 s.
    pub async fn start(program: &Path, args: &[&str], env: &[(String, String)]) -> anyhow::Result<Self> {
        Self::launch(program, args, env, &Launch::default()).await
    }

    /// [`Spawned::start`] with a working directory, a CPU to run on, or another listener to
    /// wait for.
    ///
    /// # Errors
    ///
    /// When the process cannot start, exits, or does not announce the listener within 60 s.
    pub async fn launch(
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        launch: &Launch<'_>,
    ) -> anyhow::Result<Self> {
        let name = program.file_name().map_or_else(|| "process".to_owned(), |n| n.to_string_lossy().into_owned());
        let announce = launch.announce.unwrap_or("admin");
        let mut command = match launch.cpu {
            Some(cpu) => {
                // NOTE: taskset execs the program, so the child's pid is the program's.
                let mut command = Command::new("taskset");
                command.arg("-c").arg(cpu.to_string()).arg(program);
                command
            }
            None => Command::new(program),
        };
        if let Some(dir) = launch.dir {
            command.current_dir(dir);
        }
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for (key, _) in std::env::vars_os().filter(|(key, _)| key.to_string_lossy().starts_with("KALCORD_")) {
            command.env_remove(key);
        }
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut child = command.spawn().with_context(|| format!("cannot start {}", program.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let sink = Arc::clone(&stderr);
        let echo = std::env::var_os("TEST_LOG").is_some();
        let label = name.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                if echo {
                    eprintln!("[{label}] {line}");
                }
                let mut text = sink.lock().await;
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
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
        // NOTE: keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        let spawned = Self { child, endpoints, name, stderr };
        match announced {
            Ok(Ok(true)) => Ok(spawned),
            Ok(Ok(false)) => bail!("{} exited before listening; stderr:\n{}", spawned.name, spawned.stderr().await),
            Ok(Err(err)) => bail!("reading {} output failed: {err}", spawned.name),
            Err(_) => bail!(
                "{} did not announce its {announce} listener within 60 s; stderr:\n{}",
                spawned.name,
                spawned.stderr().await
            ),
        }
    }

    /// URL of an announced listener (`admin`, `api`, ...).
    ///
    /// # Panics
    ///
    /// When the process did not announce that listener.
    #[must_use]
    pub fn url(&self, name: &str) -> &str {
        self.endpoints
            .get(name)
            .unwrap_or_else(|| panic!("{} announced no {name} listener: {:?}", self.name, self.endpoints))
    }

    /// Everything the process wrote to stderr so far.
    pub async fn stderr(&self) -> String {
        self.stderr.lock().await.clone()
    }

    /// Polls `/readyz` until it answers 200.
    ///
    /// # Errors
    ///
    /// When it does not within `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.url("admin"));
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("{} {}", response.status(), response.text().await.unwrap_or_default()),
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} not ready within {timeout:?}: {last}; stderr:\n{}", self.name, self.stderr().await)
    }

    /// Sends SIGTERM and waits for the process to exit.
    ///
    /// # Errors
    ///
    /// When the signal cannot be sent or the process outlives `timeout` (it is then killed).
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.id().context("process already exited")?;
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
        anyhow::ensure!(status.success(), "kill -TERM {pid} failed");
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                bail!("{} still running {timeout:?} after SIGTERM; stderr:\n{}", self.name, self.stderr().await)
            }
        }
    }
}

/// The lifecycle every service binary must have, against the real servers: it starts in
/// distributed mode, turns ready, serves its admin endpoints, and exits 0 on SIGTERM.
///
/// # Panics
///
/// When any step fails (this is a test assertion).
pub async fn assert_lifecycle(binary: &Path, with_database: bool) {
    let env = crate::distributed::DistributedEnv::new(with_database).await.expect("distributed test environment");
    let process = Spawned::start(binary, &[], &env.vars()).await.expect("binary starts");
    process.wait_ready(Duration::from_secs(30)).await.expect("binary turns ready");

    let admin = process.url("admin").to_owned();
    let metrics = reqwest::get(format!("{admin}/metrics")).await.expect("metrics answer");
    assert!(metrics.status().is_success(), "/metrics answered {}", metrics.status());
    let health = reqwest::get(format!("{admin}/healthz")).await.expect("healthz answers");
    assert_eq!(health.text().await.expect("healthz body"), "ok\n");

    let status = process.terminate(Duration::from_secs(20)).await.expect("binary stops");
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    env.cleanup().await.expect("clean-up");
}
