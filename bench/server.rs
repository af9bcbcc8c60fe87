//! The real `sessiond` binary under test: its configuration, its process, its CLI, and
//! `wrk` against it.

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The binary under test: cargo's build next to this benchmark, or `SESSIOND_BIN` (to
/// measure an older build for a before/after comparison).
fn sessiond() -> String {
    std::env::var("SESSIOND_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sessiond").to_owned())
}

/// A configuration file naming the stores, shared by the server and the CLI runs.
pub struct Config {
    pub path: PathBuf,
    /// An admin API token for `GET /metrics`, made at the first server's start.
    admin_token: OnceLock<String>,
}

impl Config {
    pub fn write(dir: &Path, sessions: &str, directory: &str) -> Config {
        let path = dir.join("sessiond.toml");
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\nsessions = \"{sessions}\"\ndirectory = \"{directory}\"\n"
        );
        std::fs::write(&path, text).expect("writing the benchmark configuration");
        Config::at(path)
    }

    /// A configuration already written at `path`.
    pub fn at(path: PathBuf) -> Config {
        Config {
            path,
            admin_token: OnceLock::new(),
        }
    }

    /// An admin API token on the configured directory, made once. Builds that serve
    /// `/metrics` to anyone ignore it.
    fn admin_token(&self) -> &str {
        self.admin_token.get_or_init(|| {
            let name = format!("bench {}", self.path.display());
            let (output, _) = self.cli(&["tokens", "create", "--name", &name]);
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with("sat_"))
                .expect("tokens create printed a token")
                .to_owned()
        })
    }

    /// Runs `sessiond --config FILE ARGS...`, failing the benchmark if it fails.
    pub fn cli(&self, args: &[&str]) -> (Output, Duration) {
        self.cli_of(&sessiond(), args)
    }

    /// Every user's id by username, read through the binary under test, so an older build
    /// (`SESSIOND_BIN`) keeps its schema.
    pub fn user_ids(&self) -> HashMap<String, i64> {
        let (listing, _) = self.cli(&["users", "list", "--json"]);
        let users: Vec<Value> = serde_json::from_slice(&listing.stdout).expect("users list --json");
        users
            .iter()
            .filter_map(|user| Some((user["username"].as_str()?.to_owned(), user["id"].as_i64()?)))
            .collect()
    }

    /// [`Self::cli`] of a given build.
    pub fn cli_of(&self, binary: &str, args: &[&str]) -> (Output, Duration) {
        let started = Instant::now();
        let output = Command::new(binary)
            .arg("--config")
            .arg(&self.path)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("running sessiond");
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "sessiond {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        (output, elapsed)
    }
}

/// Resident memory in bytes: all of it, the process's own (heap, stacks), and pages of
/// memory-mapped files (the binary, SQLite's map of its database), and the peak.
pub struct Memory {
    pub rss: u64,
    pub anonymous: u64,
    pub file: u64,
    pub peak: u64,
}

/// A running `sessiond serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// The build it runs.
    pub binary: String,
    /// For `GET /metrics`, which answers administrators only.
    admin_token: String,
}

impl Server {
    pub fn start(config: &Config) -> Server {
        Server::start_binary(config, &sessiond())
    }

    /// `sessiond serve` of a given build.
    pub fn start_binary(config: &Config, binary: &str) -> Server {
        let admin_token = config.admin_token().to_owned();
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(&config.path)
            .arg("serve")
            .env("SESSIOND_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting sessiond serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("Listening on ").map(str::to_owned))
            .expect("sessiond serve printed no address");
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            base,
            binary: binary.to_owned(),
            admin_token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Resident memory, from /proc.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("reading the server's /proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
                .map_or(0, |kib| kib * 1024)
        };
        Memory {
            rss: field("VmRSS:"),
            anonymous: field("RssAnon:"),
            file: field("RssFile:"),
            peak: field("VmHWM:"),
        }
    }

    /// CPU time the server has used so far, all threads, user and system (from /proc, in
    /// clock ticks of 10 ms: Linux's `USER_HZ` on every platform this runs on).
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("reading the server's /proc stat");
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ticks: u64 = after_name
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|field| field.parse::<u64>().ok())
            .sum();
        Duration::from_millis(ticks * 10)
    }

    /// One sample of `GET /metrics`, e.g. `sessiond_activity_writes_total`.
    pub fn metric(&self, client: &reqwest::blocking::Client, sample: &str) -> u64 {
        let text = client
            .get(self.url("/metrics"))
            .bearer_auth(&self.admin_token)
            .send()
            .and_then(|response| response.text())
            .expect("GET /metrics");
        text.lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {sample}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy)]
pub struct WrkResult {
    pub requests: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Socket errors and non-2xx/3xx answers; any makes the run invalid.
    pub failures: u64,
}

/// Runs `wrk` with keep-alive connections on `url` for `duration`, cookies rotated from
/// `tokens` (a file, one per line) when given.
pub fn wrk(url: &str, connections: u32, duration: Duration, tokens: Option<&Path>) -> WrkResult {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/wrk.lua");
    let mut command = Command::new("wrk");
    command
        .arg("--threads")
        .arg("2")
        .arg("--connections")
        .arg(connections.to_string())
        .arg("--duration")
        .arg(format!("{}s", duration.as_secs()))
        .arg("--latency")
        // wrk's default of 2 s would count a slow answer as a socket error, and leave it
        // out of the percentiles; a stalled VM can take that long.
        .arg("--timeout")
        .arg("30s")
        .arg("--script")
        .arg(script)
        .arg(url);
    if let Some(tokens) = tokens {
        command.arg("--").arg(tokens);
    }
    let output = command.output().expect("running wrk (apt-get install wrk)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WRK "))
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("wrk printed no summary:\n{stdout}"));
    let number = |key: &str| summary[key].as_f64().unwrap_or(0.0);
    let micros = |key: &str| Duration::from_micros(number(key) as u64);
    WrkResult {
        requests: number("requests") as u64,
        per_second: number("requests") / (number("duration_us") / 1e6),
        p50: micros("p50_us"),
        p99: micros("p99_us"),
        failures: (number("socket_errors") + number("bad_status")) as u64,
    }
}
