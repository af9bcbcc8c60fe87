//! The admin API's groups: the tree, creating groups, members and shares, the revocation
//! preview, and the 4xx answers to bad input.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The tree's group at `path`.
fn group<'t>(tree: &'t Value, path: &str) -> &'t Value {
    tree["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {tree}"))
}

#[tokio::test]
async fn groups_are_built_and_taken_apart_through_the_api() {
    let server = spawn().await;
    for user in ["alice", "bob", "carol"] {
        server.create_user(user, false).await;
    }
    let api = server.admin_token("ops").await;

    let created = api
        .post_json(
            "/api/admin/groups",
            &json!({"path": "acme/platform", "parents": true}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let paths: Vec<&str> = created["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["acme", "acme/platform"]);
    // `acme-x` sorts after `acme/platform` in the tree though not as text.
    for path in ["partners", "acme-x"] {
        let response = api
            .post_json("/api/admin/groups", &json!({"path": path}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    }
    for (member, group) in [
        ("alice", "acme"),
        ("bob", "acme%2Fplatform"),
        ("carol", "partners"),
    ] {
        let response = api
            .post_json(
                &format!("/api/admin/groups/{group}/members"),
                &json!({"user": member}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{member}");
    }
    let shared = api
        .post_json(
            "/api/admin/groups/acme%2Fplatform/shares",
            &json!({"with": "partners"}),
        )
        .await;
    assert_eq!(shared.status(), StatusCode::NO_CONTENT);
    server.signed_in(FIREFOX_UBUNTU, "carol").await;
    server.signed_in(CHROME_ANDROID, "carol").await;
    server.signed_in(FIREFOX_UBUNTU, "alice").await;

    let tree: Value = api.get("/api/admin/groups").await.json().await.unwrap();
    let order: Vec<&str> = tree["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["path"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["acme", "acme/platform", "acme-x", "partners"]);
    let platform = group(&tree, "acme/platform");
    assert_eq!(platform["depth"], 2);
    assert_eq!(platform["members"], json!(["bob"]));
    assert_eq!(platform["inherited_members"], json!(["alice", "carol"]));
    assert_eq!(platform["shared_with"], json!(["partners"]));
    assert_eq!(platform["active_sessions"], 3);
    // A parent counts its sub-groups' members, shared ones included.
    assert_eq!(
        group(&tree, "acme")["inherited_members"],
        json!(["bob", "carol"])
    );
    assert_eq!(group(&tree, "partners")["active_sessions"], 2);

    // The preview ends nothing and says what a revocation would.
    let preview: Value = api
        .get("/api/admin/groups/acme%2Fplatform/revoke-sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        (preview["members"].as_u64(), preview["sessions"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(preview["users_skipped"], 1);
    assert!(
        preview["report"]
            .as_str()
            .unwrap()
            .contains("[DRY RUN] Would revoke 3 sessions for 2 users")
    );
    let after: Value = api.get("/api/admin/groups").await.json().await.unwrap();
    assert_eq!(group(&after, "acme/platform")["active_sessions"], 3);

    // Taken apart again.
    let removed = api
        .delete("/api/admin/groups/acme%2Fplatform/members/bob")
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let unshared = api
        .delete("/api/admin/groups/acme%2Fplatform/shares/partners")
        .await;
    assert_eq!(unshared.status(), StatusCode::NO_CONTENT);
    let tree: Value = api.get("/api/admin/groups").await.json().await.unwrap();
    let platform = group(&tree, "acme/platform");
    assert_eq!(platform["members"], json!([]));
    assert_eq!(platform["shared_with"], json!([]));
    assert_eq!(platform["inherited_members"], json!(["alice"]));

    let kinds = audit_kinds(&server);
    for kind in [
        "group_created",
        "group_member_added",
        "group_shared",
        "group_member_removed",
        "group_unshared",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let actor: String =
        server.query_one("SELECT actor FROM audit_events WHERE kind = 'group_unshared'");
    assert_eq!(actor, "token:ops");
}

#[tokio::test]
async fn bad_group_edits_are_refused_with_json_errors() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let api = server.admin_token("ops").await;
    for path in ["acme", "partners"] {
        api.post_json("/api/admin/groups", &json!({"path": path}))
            .await;
    }
    api.post_json("/api/admin/groups/acme/members", &json!({"user": "alice"}))
        .await;
    api.post_json(
        "/api/admin/groups/acme/shares",
        &json!({"with": "partners"}),
    )
    .await;

    let cases = [
        (
            "/api/admin/groups",
            json!({"path": "Not A Path"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/admin/groups",
            json!({"path": "nowhere/child"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/admin/groups",
            json!({"path": "acme"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "/api/admin/groups",
            json!({"path": "x", "admin": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        ),
        (
            "/api/admin/groups/nope/members",
            json!({"user": "alice"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/admin/groups/acme/members",
            json!({"user": "nobody"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/admin/groups/acme/members",
            json!({"user": "alice"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "/api/admin/groups/acme/shares",
            json!({"with": "acme"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/admin/groups/partners/shares",
            json!({"with": "acme"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/admin/groups/acme/shares",
            json!({"with": "partners"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "/api/admin/groups/acme/shares",
            json!({"with": "nope"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (path, body, status, code) in cases {
        let message = assert_error(api.post_json(path, &body).await, status, code).await;
        assert!(!message.is_empty(), "{path} {body}");
    }
    assert_error(
        api.delete("/api/admin/groups/partners/members/alice").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        api.delete("/api/admin/groups/partners/shares/acme").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        api.get("/api/admin/groups/nope/revoke-sessions").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Not for people who are not administrators.
    server.create_user("bob", false).await;
    let bob = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    assert_eq!(
        bob.get("/api/admin/groups").await.status(),
        StatusCode::FORBIDDEN
    );
}
