//! Sign-in, sign-out, expiry, remember-me, lockout, blocking, fixation, stored secrets.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use sessiond::domain::audit::{AuditFilter, AuditKind};
use std::time::{Duration, Instant};

#[tokio::test]
async fn login_check_and_logout() {
    let server = spawn().await;
    let alice = server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);

    let login = browser.login("alice").await;
    assert_eq!(login["session"]["username"], "alice");
    assert_eq!(login["session"]["browser"], "Firefox");
    assert_eq!(login["session"]["os"], "Ubuntu");
    assert_eq!(login["session"]["device_type"], "desktop");
    assert_eq!(login["session"]["ip_address"], "127.0.0.1");

    // The first checks read the stores; the third is answered from memory.
    for _ in 0..3 {
        let check = browser.get("/api/session").await;
        assert_eq!(check.status(), StatusCode::OK);
        let headers = check.headers().clone();
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-sessiond-user"], "alice");
        assert_eq!(headers["x-sessiond-user-id"], alice.to_string().as_str());
        assert_eq!(
            headers["x-sessiond-session-id"],
            login["session"]["id"].as_str().unwrap()
        );
        assert_eq!(headers.get_all("x-sessiond-user").iter().count(), 1);
        let body: Value = check.json().await.unwrap();
        assert_eq!(body["user"]["username"], "alice");
        assert_eq!(body["session"]["id"], login["session"]["id"]);
    }

    assert_eq!(browser.logout().await.status(), StatusCode::NO_CONTENT);
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_kills_the_token_even_if_the_client_keeps_it() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let bearer = server.bearer(&browser.login_token("alice").await);
    assert_eq!(bearer.session_status().await, StatusCode::OK);
    browser.logout().await;
    assert_eq!(bearer.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn idle_timeout_expires_an_unused_session_and_keeps_a_used_one() {
    // The activity write interval left to its default, which is then half the idle timeout:
    // the default of 60 s would let the used session idle out too.
    let server = spawn_with(|s| s.sessions.idle_timeout = duration("2s")).await;
    server.create_user("alice", false).await;
    let active = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let idle = server.signed_in(CHROME_ANDROID, "alice").await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(active.session_status().await, StatusCode::OK);
    }
    assert_eq!(idle.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(active.session_status().await, StatusCode::OK);
}

#[tokio::test]
async fn absolute_lifetime_ends_even_an_active_session() {
    let server = spawn_with(|s| {
        s.sessions.absolute_lifetime = duration("2s");
        s.sessions.activity_write_interval = Some(duration("0s"));
    })
    .await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let login = browser.login("alice").await;
    let created = login["session"]["created_at"].as_str().unwrap().to_owned();
    assert!(login["session"]["expires_at"].as_str().unwrap() > created.as_str());
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
}

fn stored_last_active(server: &TestServer) -> i64 {
    server.query_one("SELECT last_active_at FROM sessions")
}

#[tokio::test]
async fn last_activity_is_written_at_most_once_per_interval() {
    let server = spawn_with(|s| s.sessions.activity_write_interval = Some(duration("1s"))).await;
    server.create_user("alice", false).await;
    let browser = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let at_login = stored_last_active(&server);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(browser.session_status().await, StatusCode::OK);
    let first_write = stored_last_active(&server);
    assert!(
        first_write > at_login,
        "the first check after the interval writes"
    );
    assert_eq!(browser.session_status().await, StatusCode::OK);
    assert_eq!(browser.session_status().await, StatusCode::OK);
    assert_eq!(
        stored_last_active(&server),
        first_write,
        "checks inside the interval do not write"
    );
}

#[tokio::test]
async fn remember_me_recreates_the_session_after_idle_expiry() {
    let server = spawn_with(|s| s.sessions.idle_timeout = duration("1s")).await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let login = browser.login_remembered("alice").await;
    let remember = set_cookie(login.headers(), "sessiond_remember").expect("remember-me cookie");
    let first: Value = login.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let check = browser.get("/api/session").await;
    assert_eq!(check.status(), StatusCode::OK);
    let rotated =
        set_cookie(check.headers(), "sessiond_remember").expect("a fresh remember-me cookie");
    assert_ne!(rotated, remember, "remember-me tokens are single use");
    let body: Value = check.json().await.unwrap();
    assert_ne!(body["session"]["id"], first["session"]["id"]);
    assert_eq!(body["session"]["remember_me"], true);
    assert_eq!(browser.session_status().await, StatusCode::OK);

    // The consumed token does not work a second time.
    let replay = server.status_with_cookie("sessiond_remember", &remember);
    assert_eq!(replay.await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_replayed_remember_me_token_ends_its_family() {
    let server = spawn_with_policy(
        |s| s.sessions.idle_timeout = duration("1s"),
        |p| p.remember_me_reuse_grace = Duration::ZERO,
    )
    .await;
    replaying_a_remember_me_token_ends_its_family(&server).await;
}

/// A remember-me token presented again after its renewal, on `server`, whose sessions idle
/// out after a second and which gives no grace to a token sent twice at once: the renewed
/// session and the successor token end, another family of the user lives on, and the audit
/// trail has the event.
pub async fn replaying_a_remember_me_token_ends_its_family(server: &TestServer) {
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let phone = server.browser(CHROME_ANDROID);
    let login = browser.login_remembered("alice").await;
    let remember = set_cookie(login.headers(), "sessiond_remember").expect("remember-me cookie");
    phone.login_remembered("alice").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewal = browser.get("/api/session").await;
    assert_eq!(renewal.status(), StatusCode::OK);
    let renewed = set_cookie(renewal.headers(), "sessiond_session").expect("a new session");
    let rotated = set_cookie(renewal.headers(), "sessiond_remember").expect("a rotated token");

    // The spent token from elsewhere: one of the two holders of the chain is a thief.
    let replay = server.status_with_cookie("sessiond_remember", &remember);
    assert_eq!(replay.await, StatusCode::UNAUTHORIZED);
    let session = server.status_with_cookie("sessiond_session", &renewed);
    assert_eq!(
        session.await,
        StatusCode::UNAUTHORIZED,
        "the renewed session ended"
    );
    let successor = server.status_with_cookie("sessiond_remember", &rotated);
    assert_eq!(
        successor.await,
        StatusCode::UNAUTHORIZED,
        "the successor is revoked"
    );
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        phone.session_status().await,
        StatusCode::OK,
        "another family of the user renews as before"
    );
    let reuse = AuditFilter {
        kind: Some(AuditKind::RememberMeReuse),
        ..AuditFilter::default()
    };
    let events = server.service.audit_trail(&reuse, 10, 0).await.unwrap();
    let [event] = &events.items[..] else {
        panic!("one remember_me_reuse event: {events:?}")
    };
    let event = (
        event.actor.as_str(),
        event.subject_username.as_deref(),
        event.ip_address.as_deref(),
        event.session_count,
    );
    assert_eq!(event, ("system", Some("alice"), Some("127.0.0.1"), Some(1)));
}

#[tokio::test]
async fn a_remember_me_token_sent_twice_at_once_leaves_its_family_alone() {
    let server = spawn_with(|s| s.sessions.idle_timeout = duration("1s")).await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let login = browser.login_remembered("alice").await;
    let remember = set_cookie(login.headers(), "sessiond_remember").expect("remember-me cookie");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewal = browser.get("/api/session").await;
    assert_eq!(renewal.status(), StatusCode::OK);
    let rotated = set_cookie(renewal.headers(), "sessiond_remember").expect("a rotated token");

    // The same spent token right after, as from a second tab restored with the first.
    let again = server.status_with_cookie("sessiond_remember", &remember);
    assert_eq!(again.await, StatusCode::UNAUTHORIZED, "a spent token");
    assert_eq!(browser.session_status().await, StatusCode::OK);
    let successor = server.status_with_cookie("sessiond_remember", &rotated);
    assert_eq!(successor.await, StatusCode::OK, "the successor renews");
    assert!(!audit_kinds(&server).contains(&"remember_me_reuse".to_owned()));
}

#[tokio::test]
async fn any_logout_revokes_every_remember_me_token_of_the_user() {
    let server = spawn_with(|s| s.sessions.idle_timeout = duration("1s")).await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let laptop = server.browser(FIREFOX_UBUNTU);
    let phone = server.browser(CHROME_ANDROID);
    let bobs = server.browser(SAFARI_IPAD);
    laptop.login_remembered("alice").await;
    phone.login_remembered("alice").await;
    bobs.login_remembered("bob").await;
    assert_eq!(phone.logout().await.status(), StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(laptop.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bobs.session_status().await,
        StatusCode::OK,
        "other users keep theirs"
    );
}

/// Signs `login` in with `password` from a new browser; the status.
async fn sign_in_status(server: &TestServer, login: &str, password: &str) -> StatusCode {
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.login_as(login, password, false).await.status()
}

#[tokio::test]
async fn a_password_signs_in_whatever_its_unicode_form() {
    let server = spawn().await;
    // Composed accents at creation; decomposed ones, as some keyboards and systems send.
    server
        .create_user_with("amelie", false, "Am\u{e9}lie cr\u{e8}me br\u{fb}l\u{e9}e")
        .await;
    let decomposed = "Ame\u{301}lie cre\u{300}me bru\u{302}le\u{301}e";
    let status = sign_in_status(&server, "amelie", decomposed).await;
    assert_eq!(status, StatusCode::CREATED);
    // Fullwidth letters, as an East Asian input method types them, are the ASCII ones.
    server.create_user_with("wide", false, PASSWORD).await;
    let fullwidth: String = PASSWORD
        .chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32(c as u32 - 'a' as u32 + 0xFF41).unwrap(),
            other => other,
        })
        .collect();
    assert_ne!(fullwidth, PASSWORD);
    let status = sign_in_status(&server, "wide", &fullwidth).await;
    assert_eq!(status, StatusCode::CREATED);
    let wrong = sign_in_status(&server, "wide", "ｗｒｏｎｇ ｐａｓｓｗｏｒｄ ｈｅｒｅ").await;
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_hash_made_before_normalisation_signs_in_and_is_rewritten() {
    use argon2::password_hash::PasswordHasher;
    use sessiond::domain::password::{self, Match, Password};
    let server = spawn().await;
    let id = server.create_user("legacy", false).await;
    // Hashed as typed, decomposed, as sessiond did before it normalised passwords.
    let typed = "Ame\u{301}lie cre\u{300}me bru\u{302}le\u{301}e";
    let old = argon2::Argon2::default()
        .hash_password(typed.as_bytes())
        .unwrap()
        .to_string();
    server
        .service
        .directory
        .set_password_hash(id, &old, false)
        .await
        .unwrap();
    let composed = "Am\u{e9}lie cr\u{e8}me br\u{fb}l\u{e9}e";
    let status = sign_in_status(&server, "legacy", typed).await;
    assert_eq!(status, StatusCode::CREATED);
    let stored: String =
        server.query_one("SELECT password_hash FROM users WHERE username = 'legacy'");
    assert_ne!(stored, old, "rewritten at sign-in");
    assert_eq!(
        password::check(&Password::new(composed), &stored),
        Match::Yes
    );
    for form in [composed, typed] {
        let status = sign_in_status(&server, "legacy", form).await;
        assert_eq!(status, StatusCode::CREATED, "{form:?}");
    }
    let unchanged: String =
        server.query_one("SELECT password_hash FROM users WHERE username = 'legacy'");
    assert_eq!(unchanged, stored, "rewritten once");
}

#[tokio::test]
async fn lockout_after_ten_failures_and_release_after_the_duration() {
    let server = spawn_with(|s| s.login.lockout_duration = duration("2s")).await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    for attempt in 1..10 {
        let response = browser.fail_login("alice").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let tenth = browser.fail_login("alice").await;
    assert_error(tenth, StatusCode::LOCKED, "locked").await;
    let right = browser.login_as("alice", PASSWORD, false).await;
    assert_eq!(
        right.status(),
        StatusCode::LOCKED,
        "locked even with the right password"
    );
    let kinds: Vec<String> = audit_kinds(&server);
    assert!(kinds.contains(&"lockout".to_owned()));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        browser.login_as("alice", PASSWORD, false).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    for _ in 0..9 {
        browser.fail_login("alice").await;
    }
    browser.login("alice").await;
    for _ in 0..9 {
        let response = browser.fail_login("alice").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

// On a multi-threaded runtime, as the server runs: verification happens in place there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_are_indistinguishable() {
    let _quiet = quiet_machine().await;
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let mut unknown_times = Vec::new();
    let mut wrong_times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let unknown = browser.fail_login("nobody").await;
        unknown_times.push(started.elapsed());
        let started = Instant::now();
        let wrong = browser.fail_login("alice").await;
        wrong_times.push(started.elapsed());
        assert_eq!(unknown.status(), wrong.status());
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        let unknown: Value = unknown.json().await.unwrap();
        let wrong: Value = wrong.json().await.unwrap();
        assert_eq!(unknown, wrong);
    }
    unknown_times.sort();
    wrong_times.sort();
    // Both pay for one Argon2id verification: the fastest of each within a factor of two.
    // The minimum is what a request costs; load from tests running alongside only adds to it.
    let (unknown, wrong) = (unknown_times[0], wrong_times[0]);
    assert!(
        unknown * 2 > wrong && wrong * 2 > unknown,
        "{unknown:?} vs {wrong:?}"
    );
}

#[tokio::test]
async fn blocked_user_is_refused_and_their_live_session_dies_at_once() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.login_remembered("alice").await;
    assert_eq!(browser.session_status().await, StatusCode::OK);
    server.block("alice").await;
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
    let again = server
        .browser(FIREFOX_UBUNTU)
        .login_as("alice", PASSWORD, false)
        .await;
    assert_error(again, StatusCode::FORBIDDEN, "blocked").await;
    let wrong = server.browser(FIREFOX_UBUNTU).fail_login("alice").await;
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "a wrong password reveals nothing"
    );
    let alice = server.service.find_user("alice").await.unwrap();
    let actor = "test".into();
    server.service.unblock_user(&alice, &actor).await.unwrap();
    server.browser(FIREFOX_UBUNTU).login("alice").await;
}

#[tokio::test]
async fn a_token_planted_before_login_is_not_the_one_after() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let response = server
        .plain()
        .login_request("alice", PASSWORD, false)
        .header("cookie", format!("sessiond_session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let issued = set_cookie(response.headers(), "sessiond_session").unwrap();
    assert_ne!(issued, planted);
    let with = |token| server.status_with_cookie("sessiond_session", token);
    assert_eq!(with(planted).await, StatusCode::UNAUTHORIZED);
    assert_eq!(with(&issued).await, StatusCode::OK);
}

#[tokio::test]
async fn the_store_holds_only_hashes_of_tokens() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let response = browser.login_remembered("alice").await;
    let session = set_cookie(response.headers(), "sessiond_session").unwrap();
    let remember = set_cookie(response.headers(), "sessiond_remember").unwrap();
    let db = server.db();
    for table in ["sessions", "remember_tokens", "users", "audit_events"] {
        let mut stmt = db.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut seen = 0;
        while let Some(row) = rows.next().unwrap() {
            seen += 1;
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i).unwrap();
                let text = match value {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
                    _ => continue,
                };
                assert!(!text.contains(&session), "raw session token in {table}");
                assert!(
                    !text.contains(&remember),
                    "raw remember-me token in {table}"
                );
                assert!(!text.contains(PASSWORD), "raw password in {table}");
            }
        }
        assert!(seen > 0, "{table} has rows to look at");
    }
}

#[tokio::test]
async fn logins_logouts_and_failures_are_audited() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.fail_login("alice").await;
    browser.login("alice").await;
    browser.logout().await;
    let db = server.db();
    let (actor, ip, agent, outcome): (String, String, String, String) = db
        .query_row(
            "SELECT actor, ip_address, user_agent, outcome FROM audit_events WHERE kind = 'login_success'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), ip.as_str(), outcome.as_str()),
        ("user:alice", "127.0.0.1", "success")
    );
    assert_eq!(agent, FIREFOX_UBUNTU);
    let kinds = audit_kinds(&server);
    assert_eq!(
        &kinds[kinds.len() - 3..],
        ["login_failure", "login_success", "logout"]
    );
}

// Multi-threaded, so the password is verified in place rather than on the blocking pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_whose_audit_cannot_be_written_fails_and_leaves_no_session() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.login_remembered("alice").await;
    let count = |sql: &str| -> i64 { server.query_one(sql) };
    assert_eq!(count("SELECT COUNT(*) FROM remember_tokens"), 1);
    // The login's directory write (remember-me token and audit) fails as a whole.
    server
        .db()
        .execute_batch("ALTER TABLE audit_events RENAME TO audit_away")
        .unwrap();
    let failed = server.browser(CHROME_ANDROID);
    let response = failed.login_as("alice", PASSWORD, true).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(
        count("SELECT COUNT(*) FROM sessions"),
        1,
        "the first login's only"
    );
    assert_eq!(count("SELECT COUNT(*) FROM remember_tokens"), 1);
    assert_eq!(failed.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.session_status().await, StatusCode::OK);
}
