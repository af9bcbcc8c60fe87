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
        s.sessions.activity_write_interval = Some(duration("0s"));
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

/// A `limit_token` request to the node at `base`.
fn with_limit_token(
    method: reqwest::Method,
    base: &Browser,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, base.url(path))
        .bearer_auth(token)
}

#[tokio::test]
async fn at_the_limit_the_api_lets_you_end_a_session_and_complete_the_sign_in() {
    let server = spawn_with(|s| s.sessions.max_per_user = 2).await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let first = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let second = server.signed_in(SAFARI_IPAD, "alice").await;
    let bobs = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    let third = server.browser(CHROME_ANDROID);

    // A wrong password at the limit gets no token.
    let wrong = third.login_as("alice", "not the password", false).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let response = third.login_as("alice", PASSWORD, true).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(set_cookie(response.headers(), "sessiond_session").is_none());
    let held: serde_json::Value = response.json().await.unwrap();
    assert_eq!(held["error"]["code"], "session_limit");
    assert!(
        held["error"]["message"]
            .as_str()
            .unwrap()
            .contains("end one of them")
    );
    assert_eq!(held["expires_in"], 300);
    let token = held["limit_token"].as_str().unwrap().to_owned();

    // Not a session: it opens nothing else.
    let check = with_limit_token(reqwest::Method::GET, &third, "/api/session", &token);
    assert_eq!(
        check.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let mine = with_limit_token(reqwest::Method::GET, &third, "/api/user/sessions", &token);
    assert_eq!(
        mine.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let listed: serde_json::Value =
        with_limit_token(reqwest::Method::GET, &third, "/api/login/limit", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let ids: Vec<String> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // Still at the limit: completing is refused, and the token stays good.
    let early = with_limit_token(reqwest::Method::POST, &third, "/api/login/limit", &token);
    assert_error(
        early.send().await.unwrap(),
        StatusCode::CONFLICT,
        "session_limit",
    )
    .await;
    // Another user's session is not yours to end.
    let bob_session = bobs.get_json("/api/session").await.1["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/login/limit/sessions/{bob_session}");
    let theirs = with_limit_token(reqwest::Method::DELETE, &third, &path, &token);
    assert_error(
        theirs.send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(bobs.session_status().await, StatusCode::OK);

    let path = format!("/api/login/limit/sessions/{}", ids[1]);
    let ended = with_limit_token(reqwest::Method::DELETE, &third, &path, &token);
    assert_eq!(ended.send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let statuses = [first.session_status().await, second.session_status().await];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);

    let done = with_limit_token(reqwest::Method::POST, &third, "/api/login/limit", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let body: serde_json::Value = done.json().await.unwrap();
    assert_eq!(body["session"]["remember_me"], true, "as asked at sign-in");
    assert_eq!(body["user"]["username"], "alice");
    // Used up.
    let again = with_limit_token(reqwest::Method::POST, &third, "/api/login/limit", &token);
    assert_error(
        again.send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "pending_sign_in_gone",
    )
    .await;
    let kinds = audit_kinds(&server);
    assert_eq!(&kinds[kinds.len() - 1..], ["login_success"]);
    let reason: String = server.query_one(
        "SELECT reason FROM audit_events WHERE kind = 'session_revoked' ORDER BY id DESC LIMIT 1",
    );
    assert!(reason.contains("at sign-in"), "{reason}");
    // A made-up token opens nothing.
    let made_up = with_limit_token(
        reqwest::Method::GET,
        &third,
        "/api/login/limit",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_error(
        made_up.send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "pending_sign_in_gone",
    )
    .await;
}
