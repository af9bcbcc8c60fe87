//! PostgreSQL's schema over time: tables made by the first migrations upgrade in place at
//! open, an upgraded schema opens again without change, and a newer one is refused.

use crate::services::{Backend, Isolated, psql};
use sessiond::config::StorageSettings;
use sessiond::domain::audit::AuditFilter;
use sessiond::domain::group::{GroupPath, NewGroup};
use sessiond::domain::time::Timestamp;
use sessiond::domain::token::TokenHash;
use sessiond::store::{Stores, TakenRememberToken, open};

/// Each component's first migration, as the oldest release shipped it.
const FIRST: [(&str, &str); 2] = [
    (
        "sessions",
        include_str!("../../migrations/postgres/sessions/0001_sessions.sql"),
    ),
    (
        "directory",
        include_str!("../../migrations/postgres/directory/0001_users_remember_tokens_audit.sql"),
    ),
];

/// Rows of every table the first migrations make.
const ROWS: &str = "
    INSERT INTO users (username, name, email, state, kind, is_admin, is_owner, password_hash,
        created_at) VALUES ('alice', 'Alice', 'alice@example.com', 'active', 'human', true, true,
        NULL, 1000);
    INSERT INTO remember_tokens (token_hash, user_id, expires_at)
        VALUES (decode(repeat('ab', 32), 'hex'), 1, 9000000000000);
    INSERT INTO audit_events (at, kind, actor, subject_user_id, subject_username, outcome)
        VALUES (1000, 'user_created', 'cli', 1, 'alice', 'success');
    INSERT INTO sessions (id, token_hash, user_id, username, ip_address, user_agent, browser, os,
        device_type, created_at, last_active_at, expires_at, absolute_expires_at, remember_me)
        VALUES ('s1', decode(repeat('cd', 32), 'hex'), 1, 'alice', '192.0.2.1', 'curl', 'curl',
        'Linux', 'other', 1000, 1000, 9000000000000, 9000000000000, false);
";

/// A fresh schema for both components, and its name.
fn fresh() -> Option<(Isolated, String)> {
    let isolated = Backend::Postgres.isolated()?;
    let schema = isolated.url.rsplit_once("schema=").unwrap().1.to_owned();
    Some((isolated, schema))
}

async fn open_both(url: &str) -> Result<Stores, String> {
    let settings = StorageSettings {
        sessions: url.to_owned(),
        directory: url.to_owned(),
    };
    open(&settings).await
}

/// Runs `sql` in `schema`; its statements run as one transaction.
fn psql_in(schema: &str, sql: &str) -> String {
    psql(&format!("SET search_path TO {schema}; {sql}")).expect("psql runs")
}

/// `sessiond_migrations`, one `component|version` a line.
fn recorded(schema: &str) -> String {
    psql_in(
        schema,
        "SELECT component || '|' || version FROM sessiond_migrations ORDER BY 1",
    )
}

/// Every version of both components, as `recorded` lists them once all are applied: one per
/// file under migrations/postgres/.
fn every_version() -> String {
    let mut lines = Vec::new();
    for component in ["directory", "sessions"] {
        let folder = format!(
            "{}/migrations/postgres/{component}",
            env!("CARGO_MANIFEST_DIR")
        );
        let files = std::fs::read_dir(folder).unwrap().count();
        lines.extend((1..=files).map(|version| format!("{component}|{version}")));
    }
    lines.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_schema_upgrades_to_the_latest_and_keeps_its_rows() {
    let Some((isolated, schema)) = fresh() else {
        return;
    };
    let first: String = FIRST.iter().map(|(_, sql)| *sql).collect();
    psql(&format!(
        "CREATE SCHEMA {schema}; SET search_path TO {schema}; {first}
         CREATE TABLE sessiond_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,
             PRIMARY KEY (component, version));
         INSERT INTO sessiond_migrations VALUES ('sessions', 1), ('directory', 1); {ROWS}"
    ))
    .expect("psql runs");
    assert_eq!(
        recorded(&schema),
        "directory|1\nsessions|1",
        "the first schema"
    );

    let stores = open_both(&isolated.url).await.unwrap();
    assert_eq!(recorded(&schema), every_version());
    let d = &stores.directory;
    let alice = d.user_by_username("alice").await.unwrap().expect("alice");
    assert_eq!(alice.email.as_str(), "alice@example.com");
    assert_eq!(
        d.take_remember_token(&TokenHash([0xab; 32]), Timestamp(2000))
            .await
            .unwrap(),
        Some(TakenRememberToken {
            user_id: alice.id,
            family_id: "ab".repeat(32),
            used_at: None,
        }),
        "a token stored before families starts one of its own"
    );
    let audit = d.list_audit(&AuditFilter::default(), 10, 0).await.unwrap();
    assert_eq!(audit.items[0].subject_username.as_deref(), Some("alice"));
    let session = stores
        .sessions
        .get_by_token_hash(&TokenHash([0xcd; 32]))
        .await
        .unwrap()
        .expect("the session");
    assert_eq!((session.id.as_str(), session.user_id), ("s1", alice.id));
    // The later migrations' tables are there and take rows.
    let group = NewGroup {
        path: GroupPath::parse("staff").unwrap(),
        name: "Staff".into(),
    };
    let staff = d.create_group(&group, Timestamp(2000)).await.unwrap();
    assert!(d.add_member(staff.id, alice.id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_an_upgraded_schema_again_applies_nothing() {
    let Some((isolated, schema)) = fresh() else {
        return;
    };
    drop(open_both(&isolated.url).await.unwrap());
    assert_eq!(recorded(&schema), every_version());
    // A step applied twice would fail: the migrations create their tables without IF NOT EXISTS.
    let stores = open_both(&isolated.url).await.unwrap();
    assert_eq!(recorded(&schema), every_version());
    stores.directory.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_this_build_is_refused_at_open() {
    for (component, _) in FIRST {
        let Some((isolated, schema)) = fresh() else {
            return;
        };
        drop(open_both(&isolated.url).await.unwrap());
        psql_in(
            &schema,
            &format!("INSERT INTO sessiond_migrations VALUES ('{component}', 999)"),
        );
        let Err(message) = open_both(&isolated.url).await else {
            panic!("the {component} tables at version 999 were opened");
        };
        assert!(
            message.contains(&format!(
                "the {component} tables are at schema version 999, but this sessiond knows"
            )),
            "{message}"
        );
        assert!(
            message.contains("a newer sessiond has upgraded them"),
            "{message}"
        );
    }
}
