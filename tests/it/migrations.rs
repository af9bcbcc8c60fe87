//! SQLite's schema over time: a file made by the release before numbered migrations
//! (tests/fixtures/sqlite-release.db, made by tests/fixtures/sqlite-release.sh) is brought to
//! this build's schema without losing a row, opens again without change, and a file newer
//! than this build is refused.

use crate::cli::{serve_command, text};
use crate::helpers::spawn_with;
use reqwest::StatusCode;
use serde_json::Value;
use sessiond::config::StorageSettings;
use sessiond::domain::audit::AuditFilter;
use sessiond::domain::time::{Clock, SystemClock};
use sessiond::store::sqlite::{SQLITE_DIRECTORY_VERSION, SQLITE_SESSIONS_VERSION};
use sessiond::store::{Stores, open};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A copy of the release's file in a directory of its own, as `sessiond.db`.
fn release_file() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("sessiond.db");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlite-release.db");
    std::fs::copy(fixture, &path).unwrap();
    (dir, path)
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn open_both(path: &Path) -> Result<Stores, String> {
    let settings = StorageSettings {
        sessions: url(path),
        directory: url(path),
    };
    open(&settings).await
}

/// Each table's rows, by name.
fn row_counts(path: &Path) -> BTreeMap<String, i64> {
    let db = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let count = db
                .query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |row| {
                    row.get(0)
                })
                .unwrap();
            (table, count)
        })
        .collect()
}

/// `sessiond_migrations`, as (component, version) in order.
fn recorded(path: &Path) -> Vec<(String, i64)> {
    rusqlite::Connection::open(path)
        .unwrap()
        .prepare("SELECT component, version FROM sessiond_migrations ORDER BY 1, 2")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The whole schema's definitions, to tell whether an open changed any.
fn schema(path: &Path) -> Vec<String> {
    rusqlite::Connection::open(path)
        .unwrap()
        .prepare(
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_schema ORDER BY 1",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every version of both components, one per file under migrations/sqlite/, after asserting
/// that the files number as many as the versions this build expects.
fn every_version() -> Vec<(String, i64)> {
    let mut versions = Vec::new();
    for (component, expected) in [
        ("directory", SQLITE_DIRECTORY_VERSION),
        ("sessions", SQLITE_SESSIONS_VERSION),
    ] {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/sqlite")
            .join(component);
        let files = std::fs::read_dir(folder).unwrap().count() as i64;
        assert_eq!(files, expected, "migrations/sqlite/{component}");
        versions.extend((1..=files).map(|version| (component.to_owned(), version)));
    }
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_file_upgrades_and_keeps_every_row() {
    let (_dir, path) = release_file();
    let before = row_counts(&path);
    assert!(!before.contains_key("sessiond_migrations"), "{before:?}");

    let stores = open_both(&path).await.unwrap();
    let after = row_counts(&path);
    for (table, rows) in &before {
        assert_eq!(after.get(table), Some(rows), "the rows of {table}");
    }
    assert_eq!(recorded(&path), every_version());
    let own_families: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM remember_tokens \
             WHERE family_id = lower(hex(token_hash)) AND used_at IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(own_families, 4, "the release's tokens start a family each");

    let d = &stores.directory;
    let now = SystemClock.now();
    let alice = d.user_by_username("alice").await.unwrap().expect("alice");
    let remembered = stores.sessions.list_by_user(alice.id, now).await.unwrap();
    assert_eq!(remembered.len(), 3);
    assert!(remembered.iter().all(|s| s.remember_me), "{remembered:?}");
    assert_eq!(d.count_users().await.unwrap(), 4);
    let graph = d.group_graph().await.unwrap();
    assert_eq!(graph.groups.len(), 3);
    assert_eq!(graph.shares.len(), 1);
    let group_ids: Vec<i64> = graph.groups.iter().map(|g| g.id).collect();
    let mut members: Vec<String> = d
        .direct_members(&group_ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, user)| user.username.to_string())
        .collect();
    members.sort();
    assert_eq!(members, ["alice", "bob", "carol"]);
    let tokens = d.list_api_tokens().await.unwrap();
    assert_eq!(
        tokens.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["ci"]
    );
    let audit = d.list_audit(&AuditFilter::default(), 100, 0).await.unwrap();
    assert_eq!(audit.items.len(), 19);
    let alarms = d.list_alarms(false, 10, 0).await.unwrap();
    assert_eq!(alarms.items.len(), 1);
    assert_eq!(alarms.items[0].username, "alice");
    drop(stores);

    // A step applied twice would fail (the migrations create their tables without IF NOT
    // EXISTS), and nothing is recorded or changed again.
    let upgraded = schema(&path);
    let stores = open_both(&path).await.unwrap();
    assert_eq!(recorded(&path), every_version());
    assert_eq!(schema(&path), upgraded);
    stores.sessions.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_users_sign_in_to_the_upgraded_file() {
    let (_dir, path) = release_file();
    let server = spawn_with(|s| {
        s.storage.sessions = url(&path);
        s.storage.directory = url(&path);
    })
    .await;
    for name in ["alice", "bob", "carol"] {
        let browser = server.browser("curl/8");
        let response = browser
            .login_as(name, &format!("password-{name}"), false)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        if name == "alice" {
            let (status, body) = browser.get_json("/api/user/sessions").await;
            assert_eq!(status, StatusCode::OK);
            let sessions: &Vec<Value> = body["sessions"].as_array().unwrap();
            // The three remembered at the release, and this one.
            assert_eq!(sessions.len(), 4, "{body}");
        }
    }
}

/// `sessiond serve` on `dir`'s file, which must exit within a while; its stderr.
fn refused_serve(dir: &Path) -> String {
    let mut server = serve_command(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            server.kill().unwrap();
            panic!("serve started on a file newer than this build");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = server.wait_with_output().unwrap();
    assert!(!output.status.success());
    text(&output.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_newer_than_this_build_is_refused() {
    for component in ["sessions", "directory"] {
        let (dir, path) = release_file();
        drop(open_both(&path).await.unwrap());
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(
                "INSERT INTO sessiond_migrations VALUES (?1, 999)",
                [component],
            )
            .unwrap();
        let logged = refused_serve(dir.path());
        assert!(
            logged.contains(&format!(
                "its {component} schema is at version 999, newer than this sessiond knows"
            )),
            "{logged}"
        );
        // Refused before any change: the version stays as found.
        assert!(recorded(&path).contains(&(component.to_owned(), 999)));
    }
}
