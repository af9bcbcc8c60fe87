//! The concurrent-session limit in both modes, and the owner who is never refused.

use crate::helpers::*;
use reqwest::StatusCode;
use sessiond::config::OnLimit;
use std::time::Duration;

#[tokio::test]
async fn reject_mode_refuses_the_eleventh_login_with_a_message() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let mut browsers = Vec::new();
    for _ in 0..10 {
        browsers.push(server.signed_in(FIREFOX_UBUNTU, "alice").await);
    }
    let eleventh = server.browser(CHROME_ANDROID);
    let response = eleventh.login_as("alice", PASSWORD, true).await;
    let message = assert_error(response, StatusCode::CONFLICT, "session_limit").await;
    assert!(message.contains("10 active sessions"));
    // Refused: audited as such, and no remember-me token is left behind.
    let (kind, reason): (String, String) = server
        .db()
        .query_row(
            "SELECT kind, reason FROM audit_events ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (kind.as_str(), reason.as_str()),
        ("login_failure", "session limit reached")
    );
    let tokens: i64 = server.query_one("SELECT COUNT(*) FROM remember_tokens");
    assert_eq!(tokens, 0);
    for browser in &browsers {
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    // Ending one session makes room again.
    browsers[0].logout().await;
    eleventh.login("alice").await;
}

#[tokio::test]
async fn evict_oldest_mode_drops_the_least_recently_active() {
    let server = spawn_with(|s| {
        s.sessions.max_per_user = 3;
        s.sessions.on_limit = OnLimit::EvictOldest;
        s.sessions.activity_write_interval = duration("0s");
    })
    .await;
    server.create_user("alice", false).await;
    let first = server.browser(FIREFOX_UBUNTU);
    let second = server.browser(CHROME_ANDROID);
    let third = server.browser(SAFARI_IPAD);
    for browser in [&first, &second, &third] {
        browser.login("alice").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The first signed in earliest but is used now, so the second is least recently active.
    assert_eq!(first.session_status().await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fourth = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    assert_eq!(second.session_status().await, StatusCode::UNAUTHORIZED);
    for browser in [&first, &third, &fourth] {
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    let evictions: i64 =
        server.query_one("SELECT COUNT(*) FROM audit_events WHERE kind = 'session_evicted'");
    assert_eq!(evictions, 1);
    let kinds = audit_kinds(&server);
    assert_eq!(
        &kinds[kinds.len() - 2..],
        ["session_evicted", "login_success"],
        "the eviction is recorded with the login that caused it"
    );
}

#[tokio::test]
async fn the_owner_is_never_refused() {
    let server = spawn_with(|s| s.sessions.max_per_user = 2).await;
    let password = server.service.ensure_owner().await.unwrap().unwrap();
    let browsers: Vec<_> = (0..3).map(|_| server.browser(FIREFOX_UBUNTU)).collect();
    for browser in &browsers {
        let response = browser.login_as("admin", password.expose(), false).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(browsers[0].session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(browsers[1].session_status().await, StatusCode::OK);
    assert_eq!(browsers[2].session_status().await, StatusCode::OK);
}
