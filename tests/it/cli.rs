//! The built binary against a temporary store.

use crate::helpers::PASSWORD;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use tempfile::TempDir;

pub fn sessiond(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessiond"));
    let url = format!("sqlite://{}", dir.join("sessiond.db").display());
    command
        .current_dir(dir)
        .env("SESSIOND_STORAGE__SESSIONS", &url)
        .env("SESSIOND_STORAGE__DIRECTORY", &url);
    command
}

/// A temporary directory with an empty store in it, as `serve` creates one (without the
/// owner): no other command creates a store.
pub fn new_store() -> TempDir {
    let dir = TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessiond.db").display());
    let storage = sessiond::config::StorageSettings {
        sessions: url.clone(),
        directory: url,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    drop(runtime.block_on(sessiond::store::open(&storage)).unwrap());
    dir
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    sessiond(dir).args(args).output().unwrap()
}

pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = sessiond(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `sessiond serve` on a random loopback port, not yet started.
pub fn serve_command(dir: &Path) -> Command {
    let mut command = sessiond(dir);
    command
        .env("SESSIOND_SERVER__LISTEN", "127.0.0.1:0")
        .arg("serve");
    command
}

/// [`serve_command`] started; its stdout is piped for the address line.
pub fn serve(dir: &Path) -> Child {
    serve_command(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `users create USERNAME --email USERNAME@example.com --password-stdin`, then `more`.
pub fn create_user(dir: &Path, username: &str, password: &str, more: &[&str]) -> Output {
    let email = format!("{username}@example.com");
    let mut args = vec!["users", "create", username, "--email", &email];
    args.extend(more);
    args.push("--password-stdin");
    run_with_stdin(dir, &args, &format!("{password}\n"))
}

/// Reads a started server's stdout up to the line that names its address; the address.
pub fn listening_address(server: &mut Child) -> String {
    BufReader::new(server.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find_map(|line| line.strip_prefix("Listening on ").map(str::to_owned))
        .expect("the server's address")
}

/// Signs in at the server at `address` and asserts it worked; the answer's body.
pub fn blocking_login(address: &str, login: &str, password: &str) -> Value {
    let response = reqwest::blocking::Client::new()
        .post(format!("{address}/api/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    response.json().unwrap()
}

#[test]
fn users_create_list_block_unblock_unlock() {
    let dir = new_store();
    let created = create_user(dir.path(), "alice", PASSWORD, &["--name", "Alice A"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("Created user alice"));

    let generated = run(
        dir.path(),
        &[
            "users",
            "create",
            "ops-bot",
            "--email",
            "bot@example.com",
            "--bot",
            "--admin",
        ],
    );
    assert!(generated.status.success());
    assert!(text(&generated.stdout).contains("Password, shown only this once: "));

    let listed = run(dir.path(), &["users", "list", "--json"]);
    assert!(listed.status.success());
    let users: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["name"], "Alice A");
    assert_eq!(users[0]["state"], "active");
    assert_eq!(users[1]["kind"], "bot");
    assert_eq!(users[1]["is_admin"], true);
    assert!(users[0].get("password_hash").is_none());

    let table = text(&run(dir.path(), &["users", "list"]).stdout);
    assert!(table.contains("USERNAME") && table.contains("alice@example.com"));

    // USER is a username, a numeric id or an e-mail address.
    for reference in ["alice", "1", "alice@example.com"] {
        let blocked = run(dir.path(), &["users", "block", reference]);
        assert!(blocked.status.success(), "{}", text(&blocked.stderr));
        let unblocked = run(dir.path(), &["users", "unblock", reference]);
        assert!(unblocked.status.success());
    }
    let blocked = run(dir.path(), &["users", "block", "alice"]);
    assert!(text(&blocked.stdout).contains("Blocked alice"));
    let users: Value =
        serde_json::from_slice(&run(dir.path(), &["users", "list", "--json"]).stdout).unwrap();
    assert_eq!(users[0]["state"], "blocked");
    assert!(
        run(dir.path(), &["users", "unlock", "alice"])
            .status
            .success()
    );
}

#[test]
fn bad_usage_and_unknown_users_exit_2() {
    let dir = new_store();
    let missing = run(dir.path(), &["users", "block", "nobody"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no user \"nobody\""));

    let short = create_user(dir.path(), "bob", "short", &[]);
    assert_eq!(short.status.code(), Some(2));
    assert!(text(&short.stderr).contains("at least 12 characters"));

    let common = create_user(dir.path(), "bob", "password1234", &[]);
    assert_eq!(common.status.code(), Some(2));
    assert!(text(&common.stderr).contains("too common"));

    // Spaces, a tab and ideographic spaces: long enough, and nothing but whitespace.
    let blank = create_user(dir.path(), "bob", "      \t\u{3000}\u{3000}      ", &[]);
    assert_eq!(blank.status.code(), Some(2));
    assert!(
        text(&blank.stderr).contains("must not be only spaces or other whitespace"),
        "{}",
        text(&blank.stderr)
    );

    let bad_name = run(
        dir.path(),
        &["users", "create", "Bob Smith", "--email", "bob@example.com"],
    );
    assert_eq!(bad_name.status.code(), Some(2));

    assert!(
        run(
            dir.path(),
            &["users", "create", "bob", "--email", "bob@example.com"]
        )
        .status
        .success()
    );
    let duplicate = run(
        dir.path(),
        &["users", "create", "bob", "--email", "other@example.com"],
    );
    assert_eq!(duplicate.status.code(), Some(2));
    assert!(text(&duplicate.stderr).contains("already exists"));

    assert_eq!(
        run(dir.path(), &["users", "frobnicate"]).status.code(),
        Some(2)
    );
    let bad_config = sessiond(dir.path())
        .env("SESSIOND_SESSIONS__IDLE_TIMEOUT", "soon")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert_eq!(bad_config.status.code(), Some(2));
    assert!(
        text(&bad_config.stderr).contains("idle_timeout")
            || text(&bad_config.stderr).contains("duration")
    );
    let idling_out = sessiond(dir.path())
        .env("SESSIOND_SESSIONS__IDLE_TIMEOUT", "30s")
        .env("SESSIOND_SESSIONS__ACTIVITY_WRITE_INTERVAL", "60s")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(idling_out.status.code(), Some(2));
    assert!(
        text(&idling_out.stderr).contains("must be at most half of sessions.idle_timeout (30s)"),
        "{}",
        text(&idling_out.stderr)
    );
}

#[test]
fn serve_creates_the_owner_once_and_prints_its_password() {
    let dir = TempDir::new().unwrap();
    let mut server = serve(dir.path());
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut password = None;
    let mut address = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("    ") {
            password = Some(line.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("Listening on ") {
            address = Some(rest.to_owned());
            break;
        }
    }
    let (password, address) = (password.expect("owner password"), address.unwrap());
    let body = blocking_login(&address, "admin", &password);
    assert_eq!(body["user"]["is_admin"], true);
    server.kill().unwrap();
    server.wait().unwrap();

    // A second start on the same store creates nobody and prints no password.
    let mut again = serve(dir.path());
    let first = BufReader::new(again.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(first.starts_with("Listening on "), "{first}");
    again.kill().unwrap();
    again.wait().unwrap();
}

/// What opening an older database changes is logged by `serve`, before it listens: here
/// the wide listing index of older builds, replaced by the narrow one.
#[test]
fn serve_logs_the_upgrade_of_an_older_database() {
    let dir = new_store();
    let db = rusqlite::Connection::open(dir.path().join("sessiond.db")).unwrap();
    db.execute_batch(
        "DROP INDEX sessions_by_last_active; \
         CREATE INDEX sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);",
    )
    .unwrap();
    let mut server = serve_command(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut logged = Vec::new();
    for line in BufReader::new(server.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let listening = line.contains("sessiond listening");
        logged.push(line);
        if listening {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        logged[..logged.len() - 1]
            .iter()
            .any(|line| line.contains("replaced the admin listing's index")),
        "{logged:#?}"
    );
    let left: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'sessions_by_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(left, ["sessions_by_expiry", "sessions_by_last_active"]);
}

#[test]
fn a_listing_piped_into_a_closed_reader_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = new_store();
    assert!(
        create_user(dir.path(), "alice", PASSWORD, &[])
            .status
            .success()
    );
    for args in [&["users", "list"][..], &["audit", "list"]] {
        let mut child = sessiond(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the command has opened its stores, so its first line meets EPIPE,
        // as in `sessiond audit list | head -0`.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            output.status.success() || output.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {stderr}",
            output.status
        );
    }
}

/// Runs `args` with `env` on a new store in `dir` and asserts a start-up error: exit 2 within
/// two seconds, one error line on stderr that contains each of `says`, and no password.
fn assert_start_up_error(dir: &Path, env: &[(&str, &str)], args: &[&str], says: &[&str]) {
    let started = std::time::Instant::now();
    let output = sessiond(dir)
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{env:?}: {stderr}");
    assert!(
        took < std::time::Duration::from_secs(2),
        "{env:?}: took {took:?}"
    );
    // `serve` logs what opening a new store does; nothing else but the error.
    let said: Vec<&str> = stderr.lines().filter(|l| !l.contains(" INFO")).collect();
    assert_eq!(said.len(), 1, "{env:?}: {stderr}");
    assert!(said[0].starts_with("error: "), "{env:?}: {stderr}");
    for said in says {
        assert!(
            stderr.contains(said),
            "{env:?}: {stderr:?} does not say {said:?}"
        );
    }
    assert!(!text(&output.stdout).contains("password"), "{env:?}");
}

#[test]
fn start_up_errors_name_the_setting_in_one_line_and_exit_2_at_once() {
    let dir = TempDir::new().unwrap();
    // (variable, value, what the error says)
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "SESSIOND_STORAGE__SESSIONS",
            "sqlite:///nonexistent/dir/s.db",
            &["storage.sessions", "unable to open database file"],
        ),
        (
            "SESSIOND_STORAGE__DIRECTORY",
            "mysql://localhost/sessiond",
            &["storage.directory", "is not supported"],
        ),
        (
            "SESSIOND_SERVER__LISTEN",
            "localhost-8080",
            &["server.listen", "not an address"],
        ),
        (
            "SESSIOND_SESSIONS__MAX_PER_USER",
            "ten",
            &["sessions.max_per_user", "invalid type"],
        ),
        (
            "SESSIOND_LOGIN__PASSWORD_MIN_LENGTH",
            "129",
            &["login.password_min_length", "from 8 to 128"],
        ),
        (
            "SESSIOND_LOGIN__LOCKOUT_DURATION",
            "0s",
            &["login.lockout_duration", "above 0"],
        ),
        (
            "SESSIOND_SESSIONS__REMEMBER_ME_LIFETIME",
            "0m",
            &["sessions.remember_me_lifetime", "above 0"],
        ),
    ];
    for (variable, value, says) in cases {
        assert_start_up_error(dir.path(), &[(variable, value)], &["serve"], says);
    }
    // A mistyped value in the file is named the same way.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[login]\nlockout_threshold = \"ten\"\n",
    )
    .unwrap();
    assert_start_up_error(
        dir.path(),
        &[],
        &["--config", "bad.toml", "users", "list"],
        &["login.lockout_threshold", "invalid type"],
    );
}

#[test]
fn postgres_start_up_errors_say_why() {
    if crate::services::available("PostgreSQL", crate::services::POSTGRES).is_none() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let closed = crate::services::free_port();
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/nosuchdb".to_owned(),
            r#"database "nosuchdb" does not exist"#,
        ),
        (
            "postgres://nosuchrole@127.0.0.1:5432/test".to_owned(),
            r#"role "nosuchrole" does not exist"#,
        ),
        (
            format!("postgres://postgres@127.0.0.1:{closed}/test"),
            "Connection refused",
        ),
    ];
    for (url, cause) in &cases {
        assert_start_up_error(
            dir.path(),
            &[("SESSIOND_STORAGE__DIRECTORY", url)],
            &["serve"],
            &["storage.directory", cause],
        );
    }
}

/// The port is bound before the owner is made: a taken port costs nothing, the one showing
/// of the owner's password included.
#[test]
fn a_taken_port_fails_before_the_owner_is_created() {
    let dir = TempDir::new().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = sessiond(dir.path())
        .env("SESSIOND_SERVER__LISTEN", &address)
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("server.listen"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        !text(&output.stdout).contains("password"),
        "{}",
        text(&output.stdout)
    );
    let users = run(dir.path(), &["users", "list", "--json"]);
    assert_eq!(text(&users.stdout).trim(), "[]", "no owner was created");
}

/// Only `serve` creates a store: any other command in a directory without one exits 2,
/// naming the file it looked for, and leaves none behind.
#[test]
fn commands_other_than_serve_refuse_to_create_a_store() {
    let dir = TempDir::new().unwrap();
    let looked_for = dir.path().join("sessiond.db");
    for args in [
        &["users", "list"][..],
        &["sessions", "list"],
        &["audit", "list"],
    ] {
        let output = run(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&looked_for.display().to_string()) && stderr.contains("serve"),
            "{stderr}"
        );
        assert!(!looked_for.exists(), "{args:?} created {looked_for:?}");
    }
    let mut server = serve(dir.path());
    let address = listening_address(&mut server);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(!address.is_empty());
    assert!(looked_for.exists(), "serve creates the store");
    assert!(run(dir.path(), &["users", "list"]).status.success());
}

/// With `server.public_url` left at its default, the owner is sent to the address the server
/// listens on, not to the default port.
#[test]
fn the_first_start_prints_a_sign_in_url_on_the_listening_address() {
    let dir = TempDir::new().unwrap();
    let mut server = serve(dir.path());
    let mut lines = Vec::new();
    for line in BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Listening on ");
        lines.push(line);
        if done {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let listening = lines.last().unwrap().trim_start_matches("Listening on ");
    let sign_in = lines
        .iter()
        .find_map(|line| line.strip_prefix("Sign in at "))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        sign_in.starts_with(&format!("{listening}/login ")),
        "{sign_in} / {listening}"
    );
}
