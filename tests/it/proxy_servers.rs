//! Real reverse proxies for the tests: nginx and Caddy, each on a free loopback port running
//! its example file from `examples/` with the addresses replaced, stopped when dropped.

use crate::services::{free_port, skip_unless, wait_for_port};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running proxy.
pub struct Proxy {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Runs `binary` with `args` in `dir` (which holds its configuration), waiting for `port`.
    fn spawn(binary: &str, args: &[&str], dir: tempfile::TempDir, port: u16) -> Proxy {
        let child = Command::new(binary)
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        Proxy {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first of `candidates` that runs with `version_flag`: a notice and `None` when none
/// does, or a failure under `SESSIOND_REQUIRE_SERVICES=1`.
pub fn require_binary(candidates: &[&'static str], version_flag: &str) -> Option<&'static str> {
    let found = candidates.iter().copied().find(|binary| {
        Command::new(binary)
            .arg(version_flag)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    skip_unless(
        found.is_some(),
        &format!("{} is not installed", candidates[0]),
    )?;
    found
}

/// An example file with its sessiond nodes and application replaced by `HOST:PORT`s.
fn example(path: &str, node_a: &str, node_b: &str, app: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path);
    std::fs::read_to_string(file)
        .unwrap()
        .replace("10.0.0.11:8080", node_a)
        .replace("10.0.0.12:8080", node_b)
        .replace("10.0.0.21:3000", app)
}

/// nginx running `examples/nginx/sessiond.conf`.
pub fn nginx(node_a: &str, node_b: &str, app: &str) -> Option<Proxy> {
    let binary = require_binary(&["nginx", "/usr/sbin/nginx"], "-v")?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let site = example("nginx/sessiond.conf", node_a, node_b, app)
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    std::fs::write(dir.path().join("sessiond.conf"), site).unwrap();
    let temp = |name: &str| format!("{name} {}/{name};", dir.path().display());
    let main = format!(
        "daemon off;\nmaster_process off;\nerror_log stderr warn;\npid {dir}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  {}\n  {}\n  {}\n  {}\n  {}\n  include {dir}/sessiond.conf;\n}}\n",
        temp("client_body_temp_path"),
        temp("proxy_temp_path"),
        temp("fastcgi_temp_path"),
        temp("uwsgi_temp_path"),
        temp("scgi_temp_path"),
        dir = dir.path().display(),
    );
    let config = dir.path().join("nginx.conf");
    std::fs::write(&config, main).unwrap();
    let prefix = dir.path().display().to_string();
    let config = config.display().to_string();
    let args = ["-p", &prefix, "-c", &config, "-e", "stderr"];
    Some(Proxy::spawn(binary, &args, dir, port))
}

/// Caddy running `examples/caddy/Caddyfile`, without its admin endpoint (tests run several).
pub fn caddy(node_a: &str, node_b: &str, app: &str) -> Option<Proxy> {
    let binary = require_binary(&["caddy", "/usr/bin/caddy"], "version")?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let site = example("caddy/Caddyfile", node_a, node_b, app)
        .replace("sso.example.com {", &format!("http://127.0.0.1:{port} {{"));
    let config = format!("{{\n\tadmin off\n\tlog {{\n\t\tlevel WARN\n\t}}\n}}\n\n{site}");
    std::fs::write(dir.path().join("Caddyfile"), config).unwrap();
    let args = ["run", "--adapter", "caddyfile", "--config", "Caddyfile"];
    Some(Proxy::spawn(binary, &args, dir, port))
}

/// The protected application: answers with what the proxy told it, as JSON.
pub async fn spawn_app() -> String {
    use axum::http::{HeaderMap, Uri};
    use serde_json::json;
    let app = axum::Router::new().fallback(|uri: Uri, headers: HeaderMap| async move {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        axum::Json(json!({
            "uri": uri.to_string(),
            "user": header("x-sessiond-user"),
            "user_id": header("x-sessiond-user-id"),
            "session_id": header("x-sessiond-session-id"),
            "forwarded_for": header("x-forwarded-for"),
        }))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}
