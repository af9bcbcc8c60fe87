//! Throttling failed sign-ins per address and per account, lockouts of unknown names that
//! match real ones, and the owner's lockout by address; counters shared through Redis.

use crate::helpers::*;
use crate::scale_out::pair;
use crate::services::Backend;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use sessiond::config::Settings;
use sessiond::domain::audit::{AuditEvent, AuditFilter, AuditKind};

/// Settings where `X-Forwarded-For` from the loopback names the client, so a test can sign
/// in from many addresses.
fn behind_proxy(settings: &mut Settings) {
    settings.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
}

/// A sign-in from `ip` with `password`.
async fn attempt(browser: &Browser, login: &str, password: &str, ip: &str) -> Response {
    let request = browser.login_request(login, password, false);
    request.header("x-forwarded-for", ip).send().await.unwrap()
}

/// Asserts a 429 with a `Retry-After` of at most `window_seconds` and the JSON error body.
async fn assert_throttled(response: Response, window_seconds: u64) {
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=window_seconds).contains(&wait), "Retry-After: {wait}");
    let message = assert_error(response, StatusCode::TOO_MANY_REQUESTS, "throttled").await;
    assert!(
        message.starts_with("too many failed sign-ins; try again in"),
        "{message}"
    );
}

#[tokio::test]
async fn one_address_trying_many_names_is_throttled_and_the_check_is_not() {
    let server = spawn_with(behind_proxy).await;
    server.create_user("alice", false).await;
    let signed_in = server.browser(FIREFOX_UBUNTU);
    let token = server.bearer(&signed_in.login_token("alice").await);
    let attacker = server.plain();
    for n in 0..20 {
        let name = format!("user{n}");
        let response = attempt(&attacker, &name, WRONG_PASSWORD, "203.0.113.9").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    for name in ["user20", "user21", "alice"] {
        let response = attempt(&attacker, name, WRONG_PASSWORD, "203.0.113.9").await;
        assert_throttled(response, 600).await;
    }
    // The right password does not get through either while the address waits.
    let right = attempt(&attacker, "alice", PASSWORD, "203.0.113.9").await;
    assert_throttled(right, 600).await;
    // Other addresses, and every session check, go on as before.
    let elsewhere = attempt(&server.plain(), "alice", PASSWORD, "198.51.100.7").await;
    assert_eq!(elsewhere.status(), StatusCode::CREATED);
    assert_eq!(token.session_status().await, StatusCode::OK);
}

#[tokio::test]
async fn failures_at_one_account_from_many_addresses_are_throttled() {
    let server = spawn_with(|s| {
        behind_proxy(s);
        s.login.account_failures = 5;
        s.login.lockout_threshold = 100;
    })
    .await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let client = server.plain();
    for n in 1..=5 {
        let ip = format!("192.0.2.{n}");
        let response = attempt(&client, "alice", WRONG_PASSWORD, &ip).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{ip}");
    }
    // By e-mail address too: the count is the account's, not the name's.
    let right = attempt(&client, "alice@example.com", PASSWORD, "192.0.2.99").await;
    assert_throttled(right, 3600).await;
    let bob = attempt(&client, "bob", PASSWORD, "192.0.2.1").await;
    assert_eq!(bob.status(), StatusCode::CREATED, "other accounts sign in");
}

/// The `login_throttled` events, oldest first.
async fn throttled_events(server: &TestServer) -> Vec<AuditEvent> {
    let filter = AuditFilter {
        kind: Some(AuditKind::LoginThrottled),
        ..AuditFilter::default()
    };
    let trail = server.service.audit_trail(&filter, 100, 0).await.unwrap();
    trail.items.into_iter().rev().collect()
}

#[tokio::test]
async fn going_over_a_limit_is_audited_once_per_window_with_the_name_tried() {
    let server = spawn_with(|s| {
        behind_proxy(s);
        s.login.address_failures = 2;
        s.login.account_failures = 3;
        s.login.lockout_threshold = 100;
    })
    .await;
    let alice = server.create_user("alice", false).await;
    let sprayer = "203.0.113.9";
    for name in ["user1", "user2"] {
        let response = attempt(&server.plain(), name, WRONG_PASSWORD, sprayer).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Escaped and cut as an unknown name is: what crossed the limit is the one named.
    let crafted = format!("\"quoted\"\n{}", "x".repeat(100));
    for name in [crafted.as_str(), "user3", "alice", "user4"] {
        let response = attempt(&server.plain(), name, WRONG_PASSWORD, sprayer).await;
        assert_throttled(response, 600).await;
    }
    let events = throttled_events(&server).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let shown: String = crafted.chars().take(64).collect();
    assert_eq!(events[0].actor, sprayer);
    assert_eq!(events[0].ip_address.as_deref(), Some(sprayer));
    assert_eq!(events[0].subject_user_id, None);
    assert_eq!(
        events[0].reason.as_deref(),
        Some(
            format!(
                "over the per-address limit of 2 failed sign-ins in 10 minutes; login {shown:?}"
            )
            .as_str()
        )
    );

    // Per account, from a new address each time: one event more, naming the account.
    for n in 1..=3 {
        let ip = format!("192.0.2.{n}");
        let response = attempt(&server.plain(), "alice", WRONG_PASSWORD, &ip).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{ip}");
    }
    for n in 4..=6 {
        let ip = format!("192.0.2.{n}");
        let response = attempt(&server.plain(), "alice@example.com", PASSWORD, &ip).await;
        assert_throttled(response, 3600).await;
    }
    let events = throttled_events(&server).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].actor, "192.0.2.4");
    assert_eq!(events[1].subject_user_id, Some(alice));
    assert_eq!(
        events[1].reason.as_deref(),
        Some(
            "over the per-account limit of 3 failed sign-ins in 60 minutes; login \"alice@example.com\""
        )
    );
}

#[tokio::test]
async fn the_sign_in_page_says_how_long_to_wait() {
    let server = spawn_with(|s| s.login.address_failures = 2).await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    for _ in 0..2 {
        browser.fail_login("alice").await;
    }
    let form = browser.get("/login").await.text().await.unwrap();
    let csrf = csrf_field(&form);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("login", "alice"),
        ("password", PASSWORD),
    ];
    let response = browser.post_form("/login", &fields).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many failed sign-ins; try again in 10 minutes."),
        "{page}"
    );
}

/// Status, error code and message of each of `tries` wrong passwords for `login` from `ip`.
async fn answers(server: &TestServer, login: &str, ip: &str, tries: u32) -> Vec<(u16, Value)> {
    let client = server.plain();
    let mut seen = Vec::new();
    for _ in 0..tries {
        let response = attempt(&client, login, WRONG_PASSWORD, ip).await;
        let status = response.status().as_u16();
        seen.push((status, response.json().await.unwrap()));
    }
    seen
}

#[tokio::test]
async fn an_unknown_name_answers_exactly_as_a_real_one_up_to_the_lockout() {
    let server = spawn_with(behind_proxy).await;
    server.create_user("alice", false).await;
    let users_before: i64 = server.query_one("SELECT COUNT(*) FROM users");
    let real = answers(&server, "alice", "192.0.2.1", 11).await;
    let unknown = answers(&server, "nobody", "192.0.2.2", 11).await;
    assert_eq!(real, unknown);
    let statuses: Vec<u16> = real.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [[401; 9].as_slice(), &[423, 423]].concat());
    let users_after: i64 = server.query_one("SELECT COUNT(*) FROM users");
    assert_eq!(users_before, users_after, "no user was made for the name");
}

#[tokio::test]
async fn an_unknown_name_is_released_after_the_lockout_duration() {
    let server = spawn_with(|s| s.login.lockout_duration = duration("1s")).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    for _ in 0..9 {
        browser.fail_login("nobody").await;
    }
    assert_eq!(
        browser.fail_login("nobody").await.status(),
        StatusCode::LOCKED
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = browser.fail_login("nobody").await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failures_against_the_owner_lock_out_only_their_address() {
    let server = spawn_with(behind_proxy).await;
    let password = server.service.ensure_owner().await.unwrap().unwrap();
    let client = server.plain();
    let stranger = "203.0.113.66";
    let statuses = answers(&server, "admin", stranger, 10).await;
    assert_eq!(statuses.last().unwrap().0, 423);
    let from_stranger = attempt(&client, "admin", password.expose(), stranger).await;
    assert_error(from_stranger, StatusCode::LOCKED, "locked").await;
    let owner = attempt(&client, "admin", password.expose(), "198.51.100.1").await;
    assert_eq!(owner.status(), StatusCode::CREATED);
    let failed: i64 = server.query_one("SELECT failed_logins FROM users WHERE is_owner = 1");
    assert_eq!(failed, 0, "the owner's account itself is never locked");
    assert!(audit_kinds(&server).contains(&"lockout".to_owned()));

    // An unlock lifts the lockout of every address, and counts from there afresh.
    let owner: i64 = server.query_one("SELECT id FROM users WHERE is_owner = 1");
    let admin = server.admin_token("ops").await;
    let unlock = format!("/api/admin/users/{owner}/unlock");
    let unlocked = admin.post_json(&unlock, &Value::Null).await;
    assert_eq!(unlocked.status(), StatusCode::NO_CONTENT);
    let again = answers(&server, "admin", stranger, 1).await;
    assert_eq!(again[0].0, 401, "{again:?}");
    let from_stranger = attempt(&client, "admin", password.expose(), stranger).await;
    assert_eq!(from_stranger.status(), StatusCode::CREATED);
}

/// Locks `login` out and throttles it: as many wrong passwords, each from its own address,
/// as the lockout threshold and the account's throttle limit (both `failures`).
async fn lock_and_throttle(server: &TestServer, login: &str, failures: u32) {
    for n in 1..=failures {
        let ip = format!("192.0.2.{n}");
        let response = attempt(&server.plain(), login, WRONG_PASSWORD, &ip).await;
        let expected = if n < failures { 401 } else { 423 };
        assert_eq!(response.status().as_u16(), expected, "{ip}");
    }
    let right = attempt(&server.plain(), login, PASSWORD, "192.0.2.200").await;
    assert_throttled(right, 3600).await;
}

fn locked_and_throttled(settings: &mut Settings) {
    behind_proxy(settings);
    settings.login.account_failures = 3;
    settings.login.lockout_threshold = 3;
}

#[tokio::test]
async fn an_unlock_by_an_administrator_lets_the_account_sign_in_at_once() {
    let server = spawn_with(locked_and_throttled).await;
    let alice = server.create_user("alice", false).await;
    lock_and_throttle(&server, "alice", 3).await;
    let admin = server.admin_token("ops").await;
    let unlock = format!("/api/admin/users/{alice}/unlock");
    let unlocked = admin.post_json(&unlock, &Value::Null).await;
    assert_eq!(unlocked.status(), StatusCode::NO_CONTENT);
    let right = attempt(&server.plain(), "alice", PASSWORD, "192.0.2.201").await;
    assert_eq!(right.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_command_line_unlock_clears_the_counters_nodes_share_in_redis() {
    let Some(sessions) = Backend::Redis.isolated() else {
        return;
    };
    let url = sessions.url.clone();
    let server = spawn_with(move |s| {
        locked_and_throttled(s);
        s.storage.sessions = url;
    })
    .await;
    server.create_user("alice", false).await;
    lock_and_throttle(&server, "alice", 3).await;
    let unlock = crate::cli::sessiond(server.dir())
        .env("SESSIOND_STORAGE__SESSIONS", &sessions.url)
        .args(["users", "unlock", "alice"])
        .output()
        .unwrap();
    assert!(unlock.status.success(), "{unlock:?}");
    let right = attempt(&server.plain(), "alice", PASSWORD, "192.0.2.201").await;
    assert_eq!(right.status(), StatusCode::CREATED);
}

/// Two nodes on one Redis (standalone or Cluster) and one PostgreSQL: failures counted on
/// either throttle both.
async fn nodes_share_their_counts(redis: Backend) {
    let Some((sessions, directory)) = pair(redis, Backend::Postgres) else {
        return;
    };
    let node = |_| {
        let (sessions, directory) = (sessions.url.clone(), directory.url.clone());
        spawn_with(move |s| {
            s.storage.sessions = sessions;
            s.storage.directory = directory;
            s.login.address_failures = 4;
        })
    };
    let (a, b) = (node(0).await, node(1).await);
    a.create_user("alice", false).await;
    let (on_a, on_b) = (a.plain(), b.plain());
    for node in [&on_a, &on_b, &on_a, &on_b] {
        let response = node.fail_login("alice").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    for node in [&on_a, &on_b, &on_a, &on_b] {
        assert_throttled(node.login_as("alice", PASSWORD, false).await, 600).await;
    }
    // Whichever node refused first, the trail has it once.
    assert_eq!(throttled_events(&a).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_redis_share_their_counts() {
    nodes_share_their_counts(Backend::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_redis_cluster_share_their_counts() {
    nodes_share_their_counts(Backend::RedisCluster).await;
}
