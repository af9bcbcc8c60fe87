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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_limit_the_sign_in_page_lets_you_sign_a_device_out_and_continue() {
    let Some(chromium) = crate::browser::Chromium::start().await else {
        return;
    };
    let server = spawn_with(|s| s.sessions.max_per_user = 2).await;
    server.create_user("alice", false).await;
    let phone = server.signed_in(CHROME_ANDROID, "alice").await;
    let laptop = server.signed_in(FIREFOX_UBUNTU, "alice").await;

    let home = server.url("/-/user/sessions");
    chromium.goto(&home).await;
    chromium
        .type_into(&chromium.find("#login").await, "alice")
        .await;
    chromium
        .type_into(&chromium.find("#password").await, PASSWORD)
        .await;
    chromium.click(&chromium.find("button.primary").await).await;
    let listed = async || chromium.find_all(".limit-session").await.len() == 2;
    chromium.wait_for("the sessions at the limit", listed).await;
    let intro = chromium
        .text(&chromium.find(".limit-card .muted").await)
        .await;
    assert!(intro.contains("2 active sessions"), "{intro}");
    let devices = chromium.text(&chromium.find(".limit-sessions").await).await;
    assert!(
        devices.contains("Chrome on Android") && devices.contains("Firefox on Ubuntu"),
        "{devices}"
    );
    assert!(!crate::helpers::inline_script_runs(&chromium).await);
    // Nothing signed in yet: the pending state is not a session.
    assert!(
        chromium
            .execute("return document.cookie")
            .await
            .as_str()
            .unwrap()
            .is_empty()
    );

    let phone_button = chromium
        .execute(
            "return [...document.querySelectorAll('.limit-session')]\
             .findIndex(li => li.textContent.includes('Android'));",
        )
        .await;
    let buttons = chromium.find_all(".limit-session button").await;
    chromium
        .click(&buttons[phone_button.as_u64().unwrap() as usize])
        .await;
    let landed = async || chromium.current_url().await == home;
    chromium
        .wait_for("the sessions page, signed in", landed)
        .await;
    assert_eq!(phone.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.session_status().await, StatusCode::OK);
    let listed = chromium.find_all(".session").await;
    assert_eq!(listed.len(), 2, "the laptop's and this one");
}

#[tokio::test]
async fn the_limit_page_refuses_a_used_or_forged_token_and_a_missing_form_token() {
    let server = spawn_with(|s| s.sessions.max_per_user = 1).await;
    server.create_user("alice", false).await;
    let first = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let browser = server.browser(CHROME_ANDROID);
    let page = browser.get("/login").await.text().await.unwrap();
    let csrf = csrf_field(&page);
    let response = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("login", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    let marker = "name=\"limit_token\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let first_id = first.get_json("/api/session").await.1["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let without_csrf = browser
        .post_form(
            "/login/limit",
            &[("limit_token", &token), ("session_id", &first_id)],
        )
        .await;
    assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN);
    let forged = browser
        .post_form(
            "/login/limit",
            &[
                ("csrf_token", &csrf),
                ("limit_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ("session_id", &first_id),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("has expired or was completed")
    );
    assert_eq!(first.session_status().await, StatusCode::OK);

    let done = browser
        .post_form(
            "/login/limit",
            &[
                ("csrf_token", &csrf),
                ("limit_token", &token),
                ("session_id", &first_id),
            ],
        )
        .await;
    assert_is_redirect_to(&done, "/-/user/sessions");
    assert_eq!(first.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.session_status().await, StatusCode::OK);
    let again = browser
        .post_form(
            "/login/limit",
            &[
                ("csrf_token", &csrf),
                ("limit_token", &token),
                ("session_id", &first_id),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "used up");
}
