//! Groups, the membership closure and bulk revocation, through the real binary on the
//! store of a running server.

use crate::cli::{blocking_login, create_user, listening_address, run, serve, text};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sessiond::domain::group::{GroupPath, NewGroup};
use sessiond::domain::time::Timestamp;
use sessiond::domain::user::{Email, NewUser, UserKind, Username};
use sessiond::service::NoProgress;
use sessiond::service::users::CreateUser;
use sessiond::store::DirectoryImport;
use std::path::Path;

async fn create_bot(server: &TestServer, username: &str) {
    let request = CreateUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        name: None,
        is_admin: false,
        is_bot: true,
        password: Some(sessiond::domain::password::Password::new(PASSWORD)),
        must_change_password: false,
        reuse_deleted_username: false,
    };
    server
        .service
        .create_user(request, &"test".into())
        .await
        .unwrap();
}

/// The closure of a group, as usernames.
async fn member_names(server: &TestServer, group: &str) -> Vec<String> {
    let group = server.service.find_group(group).await.unwrap();
    let members = server.service.group_members(&group).await.unwrap();
    members.iter().map(|u| u.username.to_string()).collect()
}

fn write_file(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

/// `acme` ⊃ `acme/platform` ⊃ `acme/platform/infra` and a sibling `acme/sales`;
/// `acme/platform` shared with `partners/contractors`, whose parent has a member and whose
/// sub-group `juniors` does not count; a group named `42` and another group with id 42.
async fn build_directory(server: &TestServer) {
    for user in [
        "ceo", "pat", "ivan", "mallory", "carol", "paula", "dave", "sam", "junior", "outsider",
        "ninja", "tara",
    ] {
        server.create_user(user, false).await;
    }
    create_bot(server, "buildbot").await;

    server.cli_ok(&["groups", "create", "acme/platform/infra", "--parents"]);
    server.cli_ok(&["groups", "create", "acme/sales"]);
    let created = server.cli_ok(&[
        "groups",
        "create",
        "partners/contractors/juniors",
        "--parents",
    ]);
    assert_eq!(
        created,
        "Created group partners (id 5).\nCreated group partners/contractors (id 6).\n\
         Created group partners/contractors/juniors (id 7).\n"
    );
    server.cli_ok(&["groups", "create", "42", "--name", "The Answer"]);
    // Fillers by import, so that `target` gets id 42.
    let mut groups: Vec<Value> = (9..=41)
        .map(|i| json!({"path": format!("filler-{i}")}))
        .collect();
    groups.push(json!({"path": "target"}));
    let file = write_file(
        server.dir(),
        "fillers.json",
        &json!({"groups": groups, "memberships": [{"group": "target", "user": "tara"}]}),
    );
    assert!(
        server
            .cli_ok(&["import", &file])
            .contains("Imported 0 users, 34 groups")
    );
    assert_eq!(server.service.find_group("target").await.unwrap().id, 42);

    for (group, user) in [
        ("acme", "ceo"),
        ("acme/platform", "pat"),
        ("acme/platform", "mallory"),
        ("acme/platform", "dave"),
        ("acme/platform/infra", "ivan"),
        ("acme/platform/infra", "buildbot"),
        ("partners/contractors", "carol"),
        ("partners/contractors", "dave"),
        ("partners", "paula"),
        ("partners/contractors/juniors", "junior"),
        ("acme/sales", "sam"),
        ("42", "ninja"),
    ] {
        let added = server.cli_ok(&["groups", "add-member", group, user]);
        assert_eq!(added, format!("Added {user} to {group}.\n"));
    }
    // By id and by e-mail; twice is harmless.
    let again = server.cli_ok(&["groups", "add-member", "2", "dave@example.com"]);
    assert_eq!(again, "dave is already a member of acme/platform.\n");
    let shared = server.cli_ok(&[
        "groups",
        "share",
        "acme/platform",
        "--with",
        "partners/contractors",
    ]);
    assert_eq!(shared, "Shared acme/platform with partners/contractors.\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_revocation_dry_run_execute_and_audit() {
    let server = spawn().await;
    build_directory(&server).await;

    let mut browsers = Vec::new();
    for user in [
        "ceo", "pat", "ivan", "ivan", "carol", "dave", "buildbot", "sam", "junior", "outsider",
        "ninja", "tara", "mallory",
    ] {
        browsers.push((user, server.signed_in(FIREFOX_UBUNTU, user).await));
    }
    // A blocked member: blocking ends the session, and the closure leaves the user out.
    server.block("mallory").await;

    assert_eq!(
        member_names(&server, "acme/platform").await,
        ["carol", "ceo", "dave", "ivan", "pat", "paula"]
    );

    let dry_run =
        "Found 6 unique members in group 'acme/platform' (including subgroups and group shares)
=== Session Revocation (DRY RUN) ===
Group: acme/platform (ID: 2)

[DRY RUN] Would revoke 6 sessions for 5 users
Users affected: carol, ceo, dave, ivan, pat
Users skipped (no active sessions): 1

To actually revoke sessions, run again with --execute.
";
    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--group", "acme/platform"]),
        dry_run
    );
    // GROUP is a path first, then an id.
    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--group", "2"]),
        dry_run
    );
    let answer = server.cli_ok(&["sessions", "revoke", "--group", "42"]);
    assert!(answer.contains("Group: 42 (ID: 8)\n"), "{answer}");
    assert!(answer.contains("Users affected: ninja\n"), "{answer}");
    let json: Value = serde_json::from_str(
        &server.cli_ok(&["sessions", "revoke", "--group", "target", "--json"]),
    )
    .unwrap();
    assert_eq!(json["group"]["id"], 42);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["users_affected"][0]["username"], "tara");

    // A missing group is an error and revokes nothing.
    let missing = server.cli(&["sessions", "revoke", "--group", "acme/nope", "--execute"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no group \"acme/nope\""));
    assert!(missing.stdout.is_empty());
    for (user, browser) in &browsers {
        let expected = if *user == "mallory" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(browser.session_status().await, expected, "{user}");
    }

    let live = server.cli_ok(&[
        "sessions",
        "revoke",
        "--group",
        "acme/platform",
        "--execute",
    ]);
    assert_eq!(
        live,
        "Found 6 unique members in group 'acme/platform' (including subgroups and group shares)
=== Session Revocation (LIVE) ===
Group: acme/platform (ID: 2)

Revoked 6 sessions for 5 users
Users affected: carol, ceo, dave, ivan, pat
Users skipped (no active sessions): 1
"
    );
    for (user, browser) in &browsers {
        let revoked = ["ceo", "pat", "ivan", "carol", "dave", "mallory"].contains(user);
        let expected = if revoked {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(browser.session_status().await, expected, "{user}");
    }

    let again = server.cli_ok(&["sessions", "revoke", "--group", "acme/platform"]);
    assert!(
        again.contains("[DRY RUN] Would revoke 0 sessions for 0 users\nUsers affected: none\n")
    );
    assert!(again.contains("Users skipped (no active sessions): 6\n"));
    // The same report in-process, as the HTTP API gets it.
    let report = server
        .service
        .revoke_group_sessions("2", true, &"test".into(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (report.members, report.sessions, report.users_skipped),
        (6, 0, 6)
    );
    assert_eq!(report.to_string(), again);

    // One audit event per affected user, with the count, the group and the actor.
    let events: Value =
        serde_json::from_str(&server.cli_ok(&["audit", "list", "--limit", "200", "--json"]))
            .unwrap();
    let group_events: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == "session_revoked"
                && e["reason"].as_str().unwrap_or("").contains("acme/platform")
        })
        .collect();
    let mut audited: Vec<(&str, u64)> = group_events
        .iter()
        .map(|e| {
            (
                e["subject_username"].as_str().unwrap(),
                e["session_count"].as_u64().unwrap(),
            )
        })
        .collect();
    audited.sort();
    assert_eq!(
        audited,
        [
            ("carol", 1),
            ("ceo", 1),
            ("dave", 1),
            ("ivan", 2),
            ("pat", 1)
        ]
    );
    for event in group_events {
        assert!(event["actor"].as_str().unwrap().starts_with("cli:"));
        assert!(event["reason"].as_str().unwrap().contains("(ID: 2)"));
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
    }
    let ivan = server.cli_ok(&["audit", "list", "--user", "ivan", "--limit", "1"]);
    assert!(ivan.contains("session_revoked") && ivan.contains("group 'acme/platform'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_list_and_revoke_by_id_and_user() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice_firefox = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let alice_phone = server.signed_in(CHROME_ANDROID, "alice").await;
    let bob = server.signed_in(SAFARI_IPAD, "bob").await;

    let listing = server.cli_ok(&["sessions", "list"]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 5, "{listing}");
    assert_eq!(lines[0], "alice (alice Example):");
    assert_eq!(lines[3], "bob (bob Example):");
    let session_line = |line: &str, browser: &str| {
        let prefix = format!("  - IP: 127.0.0.1, Browser: {browser}, Last active: ");
        assert!(line.starts_with(&prefix), "{line}");
        assert!(
            line.ends_with('Z') && line.len() == prefix.len() + 20,
            "{line}"
        );
    };
    let mut alice_browsers = [lines[1], lines[2]];
    alice_browsers.sort();
    session_line(alice_browsers[0], "Chrome");
    session_line(alice_browsers[1], "Firefox");
    session_line(lines[4], "Safari");

    // --user by username, id and e-mail.
    let alice_id = server.service.find_user("alice").await.unwrap().id;
    for reference in ["alice", &alice_id.to_string(), "alice@example.com"] {
        let only = server.cli_ok(&["sessions", "list", "--user", reference]);
        assert_eq!(only.lines().count(), 3, "{only}");
        assert!(only.starts_with("alice (alice Example):\n"));
    }
    let json: Value =
        serde_json::from_str(&server.cli_ok(&["sessions", "list", "--user", "bob", "--json"]))
            .unwrap();
    let bob_session = json[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["device_type"], "tablet");
    let unknown = server.cli(&["sessions", "list", "--user", "nobody"]);
    assert_eq!(unknown.status.code(), Some(2));

    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--id", &bob_session]),
        format!("Revoked 1 session of bob ({bob_session}).\n")
    );
    assert_eq!(bob.session_status().await, StatusCode::UNAUTHORIZED);
    let gone = server.cli(&["sessions", "revoke", "--id", &bob_session]);
    assert_eq!(gone.status.code(), Some(2));

    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--user", "alice@example.com"]),
        "Revoked 2 sessions of alice.\n"
    );
    assert_eq!(
        alice_firefox.session_status().await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(alice_phone.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.cli_ok(&["sessions", "list"]),
        "No active sessions.\n"
    );

    // --execute belongs to the bulk revocations only.
    let misuse = server.cli(&["sessions", "revoke", "--user", "bob", "--execute"]);
    assert_eq!(misuse.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_are_safe_on_the_command_line_even_when_they_begin_with_a_hyphen() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let bob = server.signed_in(SAFARI_IPAD, "bob").await;
    let id_of = |user: &str| {
        let json: Value =
            serde_json::from_str(&server.cli_ok(&["sessions", "list", "--user", user, "--json"]))
                .unwrap();
        json[0]["id"].as_str().unwrap().to_owned()
    };
    let alice_id = id_of("alice");
    assert!(alice_id.starts_with("ses_"), "{alice_id}");
    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--id", &alice_id]),
        format!("Revoked 1 session of alice ({alice_id}).\n")
    );
    assert_eq!(alice.session_status().await, StatusCode::UNAUTHORIZED);

    // An id made before the prefix, one in 64 of which began with `-`, is still taken.
    let legacy = "-TmEGnK8Sx0qGNSoJ1Wt7Q";
    let renamed = server
        .db()
        .execute(
            "UPDATE sessions SET id = ?1 WHERE id = ?2",
            [legacy, &id_of("bob")],
        )
        .unwrap();
    assert_eq!(renamed, 1);
    assert_eq!(
        server.cli_ok(&["sessions", "revoke", "--id", legacy]),
        format!("Revoked 1 session of bob ({legacy}).\n")
    );
    assert_eq!(bob.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_create_share_and_list_refuse_bad_input() {
    let server = spawn().await;
    let orphan = server.cli(&["groups", "create", "acme/platform"]);
    assert_eq!(orphan.status.code(), Some(2));
    assert!(text(&orphan.stderr).contains("the parent group 'acme' does not exist"));
    assert!(text(&orphan.stderr).contains("--parents"));
    server.cli_ok(&["groups", "create", "acme"]);
    server.cli_ok(&["groups", "create", "acme/platform", "--name", "Platform"]);
    let duplicate = server.cli(&["groups", "create", "acme"]);
    assert_eq!(duplicate.status.code(), Some(2));
    assert!(text(&duplicate.stderr).contains("already exists"));
    let bad = server.cli(&["groups", "create", "Acme Corp"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("invalid group path"));
    let itself = server.cli(&["groups", "share", "acme", "--with", "1"]);
    assert_eq!(itself.status.code(), Some(2));
    let nobody = server.cli(&["groups", "add-member", "acme", "nobody"]);
    assert_eq!(nobody.status.code(), Some(2));

    server.create_user("alice", false).await;
    server.cli_ok(&["groups", "add-member", "acme/platform", "alice"]);
    server.cli_ok(&["groups", "share", "acme", "--with", "acme/platform"]);
    let listed: Value =
        serde_json::from_str(&server.cli_ok(&["groups", "list", "--json"])).unwrap();
    assert_eq!(
        listed,
        json!([
            {"id": 1, "parent_id": null, "path": "acme", "name": "acme",
             "created_at": listed[0]["created_at"], "members": [],
             "shared_with": ["acme/platform"]},
            {"id": 2, "parent_id": 1, "path": "acme/platform", "name": "Platform",
             "created_at": listed[1]["created_at"], "members": ["alice"], "shared_with": []},
        ])
    );
    let table = server.cli_ok(&["groups", "list"]);
    assert!(table.lines().nth(2).unwrap().contains("acme/platform"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_loads_everything_or_nothing() {
    let server = spawn().await;
    let dir = server.dir();
    server.create_user("existing", false).await;
    let hash =
        sessiond::domain::password::hash(&sessiond::domain::password::Password::new(PASSWORD));
    let good = json!({
        "users": [
            {"username": "alice", "email": "alice@example.com", "name": "Alice A",
             "password_hash": hash},
            {"username": "deploy", "email": "deploy@example.com", "bot": true}
        ],
        "groups": [{"path": "acme/platform"}, {"path": "acme", "name": "ACME"}],
        "memberships": [
            {"group": "acme/platform", "user": "alice"},
            {"group": "acme", "user": "existing"}
        ],
        "shares": []
    });
    let mut bad_entry = good.clone();
    bad_entry["memberships"][1]["user"] = json!("ghost");
    let file = write_file(dir, "bad.json", &bad_entry);
    let refused = server.cli(&["import", &file]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("memberships[1].user: no user 'ghost'"),
        "{}",
        text(&refused.stderr)
    );
    let mut bad_email = good.clone();
    bad_email["users"][1]["email"] = json!("not-an-address");
    let file = write_file(dir, "bad-email.json", &bad_email);
    let refused = server.cli(&["import", &file]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("users[1].email: invalid e-mail address"));
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"users\": [\n    {\"username\": 1}\n  ]\n}").unwrap();
    let refused = server.cli(&["import", broken.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("line 3"),
        "{}",
        text(&refused.stderr)
    );

    // Nothing of the refused files was written.
    assert_eq!(server.service.list_users().await.unwrap().len(), 1);
    assert!(server.service.list_groups().await.unwrap().is_empty());

    let file = write_file(dir, "good.json", &good);
    assert_eq!(
        server.cli_ok(&["import", &file]),
        format!("Imported 2 users, 2 groups, 2 memberships and 0 shares from {file}.\n")
    );
    // The imported hash signs in; the bot counts in no group.
    server.browser(FIREFOX_UBUNTU).login("alice").await;
    let acme = server.service.find_group("acme").await.unwrap();
    assert_eq!(acme.name, "ACME");
    assert_eq!(member_names(&server, "acme").await, ["alice", "existing"]);
    let twice = server.cli(&["import", &file]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(text(&twice.stderr).contains("users[0].username: 'alice' already exists"));
}

/// The store's own guarantee, beneath the service's checks: a failing entry rolls back
/// everything before it.
#[tokio::test]
async fn store_import_is_one_transaction() {
    let server = spawn().await;
    let import = DirectoryImport {
        users: vec![NewUser {
            username: Username::parse("alice").unwrap(),
            name: "Alice".into(),
            email: Email::parse("alice@example.com").unwrap(),
            kind: UserKind::Human,
            is_admin: false,
            is_owner: false,
            password_hash: None,
            must_change_password: false,
        }],
        groups: vec![
            NewGroup {
                path: GroupPath::parse("acme").unwrap(),
                name: "acme".into(),
            },
            NewGroup {
                path: GroupPath::parse("orphan/child").unwrap(),
                name: "child".into(),
            },
        ],
        ..DirectoryImport::default()
    };
    let error = server
        .service
        .directory
        .import(&import, Timestamp(0))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("'orphan' does not exist"),
        "{error}"
    );
    assert!(server.service.list_users().await.unwrap().is_empty());
    assert!(server.service.list_groups().await.unwrap().is_empty());
}

/// `serve` and the CLI as separate processes on one store: a CLI revocation is seen at once.
#[test]
fn a_running_server_rejects_a_session_right_after_the_cli_revokes_its_group() {
    let dir = crate::cli::new_store();
    let dir = dir.path();
    for user in ["alice", "bob"] {
        let created = create_user(dir, user, PASSWORD, &[]);
        assert!(created.status.success(), "{}", text(&created.stderr));
    }
    for args in [
        &["groups", "create", "acme/team", "--parents"][..],
        &["groups", "add-member", "acme", "alice"],
    ] {
        let output = run(dir, args);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }

    let mut server = serve(dir);
    let address = listening_address(&mut server);
    let client = reqwest::blocking::Client::new();
    let login = |user: &str| -> String {
        let body = blocking_login(&address, user, PASSWORD);
        body["token"].as_str().unwrap().to_owned()
    };
    let check = |token: &str| {
        client
            .get(format!("{address}/api/session"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
    };
    let (alice, bob) = (login("alice"), login("bob"));
    assert_eq!(check(&alice), StatusCode::OK);
    assert_eq!(check(&bob), StatusCode::OK);

    // alice is a member of acme/team by inheritance from acme.
    let revoked = run(
        dir,
        &["sessions", "revoke", "--group", "acme/team", "--execute"],
    );
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(
        text(&revoked.stdout).contains("Revoked 1 sessions for 1 users\nUsers affected: alice\n")
    );
    assert_eq!(check(&alice), StatusCode::UNAUTHORIZED);
    assert_eq!(check(&bob), StatusCode::OK);

    // Everybody: a dry run first, then for real.
    let dry = text(&run(dir, &["sessions", "revoke", "--all"]).stdout);
    assert!(
        dry.contains("=== Session Revocation (DRY RUN) ===\nScope: all users\n"),
        "{dry}"
    );
    assert!(dry.contains("[DRY RUN] Would revoke 1 sessions for 1 users\nUsers affected: bob\n"));
    assert_eq!(check(&bob), StatusCode::OK);
    let all = text(&run(dir, &["sessions", "revoke", "--all", "--execute"]).stdout);
    assert!(all.contains("Revoked 1 sessions for 1 users\n"), "{all}");
    assert_eq!(check(&bob), StatusCode::UNAUTHORIZED);

    server.kill().unwrap();
    server.wait().unwrap();
}

/// The group events of the audit trail, oldest first: kind, subject, reason.
fn group_audit(server: &TestServer) -> Vec<(String, String, String)> {
    let events: Value =
        serde_json::from_str(&server.cli_ok(&["audit", "list", "--limit", "500", "--json"]))
            .unwrap();
    let mut found: Vec<(String, String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("group_"))
        .map(|e| {
            assert!(e["actor"].as_str().unwrap().starts_with("cli:"), "{e}");
            let field = |name: &str| e[name].as_str().unwrap_or("").to_owned();
            (field("kind"), field("subject_username"), field("reason"))
        })
        .collect();
    found.reverse();
    found
}

#[tokio::test]
async fn group_edits_are_audited_from_the_command_line_and_the_import() {
    let server = spawn().await;
    for user in ["alice", "bob"] {
        server.create_user(user, false).await;
    }
    server.cli_ok(&["groups", "create", "acme/platform", "--parents"]);
    server.cli_ok(&["groups", "add-member", "acme/platform", "alice"]);
    // What changes nothing is not audited: a repeated membership, a refused share.
    server.cli_ok(&["groups", "add-member", "acme/platform", "alice"]);
    assert!(
        !server
            .cli(&["groups", "share", "acme", "--with", "acme"])
            .status
            .success()
    );
    server.cli_ok(&["groups", "share", "acme", "--with", "acme/platform"]);
    let file = write_file(
        server.dir(),
        "more.json",
        &json!({
            "groups": [{"path": "partners"}],
            "memberships": [
                {"group": "acme/platform", "user": "alice"},
                {"group": "partners", "user": "bob"}
            ],
            "shares": [
                {"group": "acme", "with": "acme/platform"},
                {"group": "partners", "with": "acme"}
            ]
        }),
    );
    server.cli_ok(&["import", &file]);

    let expected = [
        ("group_created", "", "group 'acme' (ID: 1)"),
        ("group_created", "", "group 'acme/platform' (ID: 2)"),
        ("group_member_added", "alice", "group 'acme/platform'"),
        (
            "group_shared",
            "",
            "group 'acme' shared with 'acme/platform'",
        ),
        ("group_created", "", "import: group 'partners' (ID: 3)"),
        ("group_member_added", "bob", "import: group 'partners'"),
        (
            "group_shared",
            "",
            "import: group 'partners' shared with 'acme'",
        ),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(kind, user, reason)| (kind.to_string(), user.to_string(), reason.to_string()))
        .collect();
    assert_eq!(group_audit(&server), expected);
}

#[tokio::test]
async fn remove_member_and_unshare_from_the_command_line() {
    let server = spawn().await;
    for user in ["alice", "bob"] {
        server.create_user(user, false).await;
    }
    server.cli_ok(&["groups", "create", "acme/platform", "--parents"]);
    server.cli_ok(&["groups", "create", "partners"]);
    server.cli_ok(&["groups", "add-member", "acme", "alice"]);
    server.cli_ok(&["groups", "add-member", "partners", "bob"]);
    server.cli_ok(&["groups", "share", "acme/platform", "--with", "partners"]);
    assert_eq!(
        member_names(&server, "acme/platform").await,
        ["alice", "bob"]
    );
    // Sharing back would make a cycle.
    let back = server.cli(&["groups", "share", "partners", "--with", "acme/platform"]);
    assert_eq!(back.status.code(), Some(2));
    assert!(
        text(&back.stderr).contains("cycle"),
        "{}",
        text(&back.stderr)
    );

    // alice is a member of acme/platform by nesting, not directly: nothing to remove there.
    assert_eq!(
        server.cli_ok(&["groups", "remove-member", "acme/platform", "alice"]),
        "alice is not a direct member of acme/platform.\n"
    );
    assert_eq!(
        server.cli_ok(&["groups", "remove-member", "acme", "alice"]),
        "Removed alice from acme.\n"
    );
    assert_eq!(
        server.cli_ok(&["groups", "unshare", "acme/platform", "--with", "partners"]),
        "acme/platform is no longer shared with partners.\n"
    );
    assert_eq!(
        server.cli_ok(&["groups", "unshare", "acme/platform", "--with", "partners"]),
        "acme/platform was not shared with partners.\n"
    );
    assert!(member_names(&server, "acme/platform").await.is_empty());
    for unknown in [
        vec!["groups", "remove-member", "nope", "alice"],
        vec!["groups", "remove-member", "acme", "nobody"],
        vec!["groups", "unshare", "acme", "--with", "nope"],
    ] {
        let output = server.cli(&unknown);
        assert_eq!(output.status.code(), Some(2), "{unknown:?}");
        assert!(output.stdout.is_empty());
    }
    let audit = group_audit(&server);
    assert_eq!(
        audit[audit.len() - 2..],
        [
            (
                "group_member_removed".to_owned(),
                "alice".to_owned(),
                "group 'acme'".to_owned()
            ),
            (
                "group_unshared".to_owned(),
                String::new(),
                "group 'acme/platform' no longer shared with 'partners'".to_owned()
            ),
        ]
    );
}
