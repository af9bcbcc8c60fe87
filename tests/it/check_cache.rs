//! The session check answers repeated checks from memory, and still sees at the very next
//! request every change made by another process (SQLite) or another node (Redis).

use crate::cli;
use crate::helpers::*;
use crate::scale_out::{pair, spawn_on};
use crate::services::Backend;
use reqwest::StatusCode;
use sessiond::domain::session::ClientInfo;
use sessiond::domain::token::SecretToken;
use sessiond::domain::user::User;
use sessiond::service::auth::Credentials;
use std::sync::atomic::Ordering;

fn cache_hits(server: &TestServer) -> u64 {
    server
        .service
        .metrics
        .check_cache_hits
        .load(Ordering::Relaxed)
}

/// Checks `browser`'s session until `server` answers one from memory.
async fn warm(server: &TestServer, browser: &Browser) {
    let before = cache_hits(server);
    // The first check learns the user, the second reads under the user's stamp, the third hits.
    for _ in 0..3 {
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    assert!(
        cache_hits(server) > before,
        "the third check of a session is answered from memory"
    );
}

/// The user the check of `token` on `server` answers with (the HTTP answer shows only part).
async fn checked_user(server: &TestServer, token: &str) -> User {
    let credentials = Credentials {
        session_token: SecretToken::parse(token),
        remember_token: None,
    };
    let found = server
        .service
        .authenticate(&credentials, &ClientInfo::default())
        .await
        .unwrap();
    found.expect("a valid session").user.clone()
}

#[tokio::test]
async fn a_remembered_session_is_revoked_by_another_process_at_the_next_request() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let (alice, bob) = (
        server.browser(FIREFOX_UBUNTU),
        server.browser(CHROME_ANDROID),
    );
    alice.login("alice").await;
    bob.login("bob").await;
    warm(&server, &alice).await;
    warm(&server, &bob).await;

    let dir = server.db_path.parent().unwrap();
    let revoked = cli::run(dir, &["sessions", "revoke", "--user", "alice"]);
    assert!(revoked.status.success(), "{}", cli::text(&revoked.stderr));
    assert_eq!(alice.session_status().await, StatusCode::UNAUTHORIZED);
    // Another user's remembered session is untouched.
    let hits = cache_hits(&server);
    assert_eq!(bob.session_status().await, StatusCode::OK);
    assert_eq!(cache_hits(&server), hits + 1);

    let blocked = cli::run(dir, &["users", "block", "bob"]);
    assert!(blocked.status.success(), "{}", cli::text(&blocked.stderr));
    assert_eq!(bob.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_failed_login_shows_in_the_next_check() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let login = server.browser(FIREFOX_UBUNTU).login("alice").await;
    let token = login["token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(checked_user(&server, token).await.failed_logins, 0);
    }
    assert!(cache_hits(&server) > 0);
    fail_login(&server, "alice").await;
    assert_eq!(checked_user(&server, token).await.failed_logins, 1);
}

/// A sign-in with a wrong password, which counts against the user.
async fn fail_login(server: &TestServer, username: &str) {
    let wrong = server
        .browser(SAFARI_IPAD)
        .login_as(username, "not the password at all", false)
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

/// `GET /api/session` on `server` with the token as a bearer credential.
async fn check(server: &TestServer, token: &str) -> StatusCode {
    with_bearer(server, reqwest::Method::GET, "/api/session", token).await
}

/// The status of `method path` on `server` with the token as a bearer credential.
async fn with_bearer(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> StatusCode {
    let response = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    response.status()
}

#[tokio::test]
async fn a_session_remembered_by_one_node_ends_when_another_node_revokes_it() {
    let Some(stores) = pair(Backend::Redis, Backend::Postgres) else {
        return;
    };
    let node_a = spawn_on(&stores, 10).await;
    let node_b = spawn_on(&stores, 10).await;
    node_a.create_user("alice", false).await;
    let login = node_a.browser(FIREFOX_UBUNTU).login("alice").await;
    let token = login["token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(check(&node_b, token).await, StatusCode::OK);
    }
    assert!(cache_hits(&node_b) > 0, "node B answers from memory");

    // A change to the user on node A shows in node B's next answer.
    fail_login(&node_a, "alice").await;
    assert_eq!(checked_user(&node_b, token).await.failed_logins, 1);
    checked_user(&node_b, token).await;
    let hits = cache_hits(&node_b);
    assert_eq!(check(&node_b, token).await, StatusCode::OK);
    assert_eq!(cache_hits(&node_b), hits + 1, "remembered again");

    let logout = with_bearer(&node_a, reqwest::Method::POST, "/api/logout", token).await;
    assert_eq!(logout, StatusCode::NO_CONTENT);
    assert_eq!(check(&node_b, token).await, StatusCode::UNAUTHORIZED);
}
