//! External services for the tests: the machine's Redis and PostgreSQL (each test on its own
//! key prefix or schema), a Redis Cluster started once per test binary, private Redis servers.
//! Absent services skip with a notice, or fail under `SESSIOND_REQUIRE_SERVICES=1`.

use sessiond::domain::token::new_public_id;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const REDIS: &str = "127.0.0.1:6379";
pub const POSTGRES: &str = "127.0.0.1:5432";

/// A storage backend the suites run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Redis,
    RedisCluster,
}

/// A storage URL for one test, and what removes its data afterwards.
pub struct Isolated {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _cleanup: Option<Cleanup>,
}

enum Cleanup {
    Schema(String),
    /// Every node's address, and the key prefix.
    Keys(Vec<String>, String),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Best effort: leftovers are namespaced and harmless.
        match self {
            Cleanup::Schema(schema) => {
                psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
            Cleanup::Keys(nodes, prefix) => {
                for node in nodes {
                    let (host, port) = node.split_once(':').unwrap();
                    let script = format!(
                        "redis-cli -h {host} -p {port} --scan --pattern '{prefix}:*' | \
                         xargs -r -n 100 redis-cli -h {host} -p {port} -c del >/dev/null"
                    );
                    let _ = Command::new("sh").args(["-c", &script]).status();
                }
            }
        }
    }
}

impl Backend {
    /// A fresh, empty store of this kind, or `None` (with a notice) when its service is absent.
    pub fn isolated(self) -> Option<Isolated> {
        let name = format!("t{}", new_public_id().to_lowercase().replace('-', "_"));
        let (url, cleanup) = match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("sessiond.db").display());
                return Some(Isolated {
                    url,
                    _dir: Some(dir),
                    _cleanup: None,
                });
            }
            Backend::Postgres => {
                available("PostgreSQL", POSTGRES)?;
                let url = format!("postgres://postgres@{POSTGRES}/test?schema={name}");
                (url, Cleanup::Schema(name))
            }
            Backend::Redis => {
                available("Redis", REDIS)?;
                let url = format!("redis://{REDIS}/0?prefix={name}");
                (url, Cleanup::Keys(vec![REDIS.into()], name))
            }
            Backend::RedisCluster => {
                let ports = redis_cluster()?;
                let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
                let url = format!("redis+cluster://{}?prefix={name}", nodes.join(","));
                (url, Cleanup::Keys(nodes, name))
            }
        };
        Some(Isolated {
            url,
            _dir: None,
            _cleanup: Some(cleanup),
        })
    }
}

/// Runs one statement on the machine's PostgreSQL ([`POSTGRES`], database `test`) with
/// `psql`: its unaligned output, trimmed, or `None` when `psql` could not run.
pub fn psql(sql: &str) -> Option<String> {
    let (host, port) = POSTGRES.split_once(':').expect("HOST:PORT");
    let output = Command::new("psql")
        .args([
            "-h", host, "-p", port, "-U", "postgres", "-d", "test", "-tAqc", sql,
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

pub fn services_required() -> bool {
    std::env::var("SESSIOND_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Whether `address` accepts connections; a notice or a failure when it does not.
pub fn available(service: &str, address: &str) -> Option<()> {
    let reachable =
        TcpStream::connect_timeout(&address.parse().unwrap(), Duration::from_secs(1)).is_ok();
    skip_unless(
        reachable,
        &format!("{service} at {address} is not reachable"),
    )
}

/// `Some(())` when `ok`; otherwise prints a skip notice, or panics when services are required.
pub fn skip_unless(ok: bool, why: &str) -> Option<()> {
    if ok {
        return Some(());
    }
    assert!(
        !services_required(),
        "{why}, and SESSIOND_REQUIRE_SERVICES=1"
    );
    eprintln!("SKIPPED: {why}");
    None
}

pub fn command_exists(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A loopback port nobody listens on now (and, for Cluster, whose bus port +10000 is free too).
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `redis-server` with `args`, ended by a watchdog when this test process exits, since
/// a static's drop never runs.
#[allow(
    clippy::zombie_processes,
    reason = "the watchdog outlives this process by design"
)]
fn redis_server_until_exit(dir: &Path, port: u16, args: &[&str]) {
    let command = format!(
        "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir} {args} \
         >/dev/null 2>&1 & server=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $server; wait $server; rm -rf {dir}",
        dir = dir.display(),
        args = args.join(" "),
        parent = std::process::id(),
    );
    Command::new("sh")
        .args(["-c", &command])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
}

/// The ports of a three-master Redis Cluster started once for this test binary.
pub fn redis_cluster() -> Option<&'static [u16]> {
    static CLUSTER: OnceLock<Option<Vec<u16>>> = OnceLock::new();
    let ports = CLUSTER.get_or_init(|| {
        skip_unless(
            command_exists("redis-server") && command_exists("redis-cli"),
            "redis-server/redis-cli are not installed (Redis Cluster tests)",
        )?;
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        for port in &ports {
            let dir = tempfile::tempdir().unwrap().keep();
            redis_server_until_exit(
                &dir,
                *port,
                &["--cluster-enabled yes", "--cluster-config-file nodes.conf"],
            );
        }
        ports.iter().for_each(|port| wait_for_port(*port));
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in &ports {
            while !redis_cli(*port, &["cluster", "info"]).contains("cluster_state:ok") {
                assert!(
                    Instant::now() < deadline,
                    "the Redis Cluster did not come up"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(ports)
    });
    ports.as_deref()
}

/// `redis-cli` against the shared Redis at [`REDIS`].
pub fn shared_redis_cli(args: &[&str]) -> String {
    let port = REDIS.rsplit_once(':').unwrap().1.parse().unwrap();
    redis_cli(port, args)
}

pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A `redis-server` of one test, which the test may stop and start again on the same port.
/// It saves on shutdown, so a restart finds the sessions it had.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> Option<PrivateRedis> {
        skip_unless(
            command_exists("redis-server"),
            "redis-server is not installed",
        )?;
        let mut redis = PrivateRedis {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        redis.resume();
        Some(redis)
    }

    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "3600 1", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port);
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as when
    /// Redis hangs. [`PrivateRedis::unpause`] lets it go on with what it was sent.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn unpause(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("a running redis-server");
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {signal}");
    }

    /// Stops the server (SIGTERM: it saves, then exits) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // A paused server does not die of SIGKILL until it is let go on.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
