//! Active sessions for users: the self-service API and the page's forms, over the real server.

use crate::browser::Chromium;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// One user signed in on a laptop (Firefox on Ubuntu), a phone (Chrome on Android) and a
/// tablet (Safari on an iPad), in that order.
struct Devices {
    laptop: Browser,
    phone: Browser,
    tablet: Browser,
    /// Session ids, laptop, phone, tablet.
    ids: [String; 3],
    /// Remember-me cookies, when signed in with "Remember me".
    remember: [Option<String>; 3],
}

impl Devices {
    async fn sign_in(server: &TestServer, username: &str, remember_me: bool) -> Devices {
        let [laptop, phone, tablet] =
            [FIREFOX_UBUNTU, CHROME_ANDROID, SAFARI_IPAD].map(|agent| server.browser(agent));
        let mut ids = Vec::new();
        let mut remember = Vec::new();
        for browser in [&laptop, &phone, &tablet] {
            let response = browser.login_as(username, PASSWORD, remember_me).await;
            assert_eq!(response.status(), StatusCode::CREATED);
            remember.push(set_cookie(response.headers(), "sessiond_remember"));
            let body: Value = response.json().await.unwrap();
            ids.push(body["session"]["id"].as_str().unwrap().to_owned());
            // Distinct activity times, so "most recently active first" has one answer.
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        Devices {
            laptop,
            phone,
            tablet,
            ids: ids.try_into().unwrap(),
            remember: remember.try_into().unwrap(),
        }
    }

    fn all(&self) -> [&Browser; 3] {
        [&self.laptop, &self.phone, &self.tablet]
    }

    async fn statuses(&self) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        for browser in self.all() {
            statuses.push(browser.session_status().await);
        }
        statuses
    }
}

/// Two users, alice and bob, each signed in on all three devices.
async fn alice_and_bob(server: &TestServer, remember_me: bool) -> (Devices, Devices) {
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = Devices::sign_in(server, "alice", remember_me).await;
    (alice, Devices::sign_in(server, "bob", remember_me).await)
}

/// `GET /api/user/sessions` as this browser, asserting it answers 200.
async fn sessions(browser: &Browser) -> Vec<Value> {
    let response = browser.get("/api/user/sessions").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["sessions"].as_array().unwrap().clone()
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|s| s["id"].as_str().unwrap()).collect()
}

/// A server that writes activity on every request, so list order follows the requests.
async fn spawn_tracking_activity() -> TestServer {
    spawn_with(|s| s.sessions.activity_write_interval = Some(duration("0s"))).await
}

/// How many of a user's remember-me tokens are stored.
fn remember_tokens(server: &TestServer, user_id: i64) -> i64 {
    server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM remember_tokens WHERE user_id = ?1",
            [user_id],
            |row| row.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn each_user_lists_only_their_own_sessions_with_devices_and_the_current_one() {
    let server = spawn_tracking_activity().await;
    let (alice, bob) = alice_and_bob(&server, false).await;

    for (devices, username) in [(&alice, "alice"), (&bob, "bob")] {
        let mut expected_order = Vec::new();
        for (index, browser) in devices.all().into_iter().enumerate() {
            let list = sessions(browser).await;
            let mut listed = ids(&list);
            listed.sort();
            let mut own: Vec<&str> = devices.ids.iter().map(String::as_str).collect();
            own.sort();
            assert_eq!(listed, own, "{username} sees exactly their three sessions");
            for session in &list {
                assert_eq!(session["username"], username);
                let is_caller = session["id"] == devices.ids[index].as_str();
                assert_eq!(session["current"], is_caller, "{session}");
            }
            // The caller was just active, so it comes first; the others follow by activity.
            expected_order.insert(0, devices.ids[index].as_str());
            assert_eq!(&ids(&list)[..expected_order.len()], expected_order);
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }

    let list = sessions(&alice.laptop).await;
    let parsed = |id: &str| {
        let session = list.iter().find(|s| s["id"] == id).unwrap();
        [&session["browser"], &session["os"], &session["device_type"]]
            .map(|v| v.as_str().unwrap().to_owned())
    };
    assert_eq!(parsed(&alice.ids[0]), ["Firefox", "Ubuntu", "desktop"]);
    assert_eq!(parsed(&alice.ids[1]), ["Chrome", "Android", "smartphone"]);
    assert_eq!(parsed(&alice.ids[2]), ["Safari", "iOS", "tablet"]);
    for session in &list {
        assert_eq!(session["ip_address"], "127.0.0.1");
        assert_eq!(session["remember_me"], false);
        for field in ["created_at", "last_active_at", "expires_at"] {
            assert!(session[field].as_str().unwrap().ends_with('Z'), "{field}");
        }
    }
}

#[tokio::test]
async fn revoking_a_session_signs_that_client_out_at_once() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let alice = Devices::sign_in(&server, "alice", false).await;
    let phone = &alice.ids[1];

    let response = alice
        .laptop
        .delete(&format!("/api/user/sessions/{phone}"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        alice.statuses().await,
        [StatusCode::OK, StatusCode::UNAUTHORIZED, StatusCode::OK]
    );
    let left = sessions(&alice.laptop).await;
    assert_eq!(ids(&left).len(), 2);
    assert!(!ids(&left).contains(&phone.as_str()));

    let (actor, count): (String, i64) = server
        .db()
        .query_row(
            "SELECT actor, session_count FROM audit_events \
             WHERE kind = 'session_revoked' AND session_id = ?1",
            [phone],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((actor.as_str(), count), ("user:alice", 1));
}

#[tokio::test]
async fn the_current_session_cannot_be_revoked_from_the_list() {
    let server = spawn().await;
    let alice_id = server.create_user("alice", false).await;
    let alice = Devices::sign_in(&server, "alice", true).await;
    let own = &alice.ids[0];

    let response = alice
        .laptop
        .delete(&format!("/api/user/sessions/{own}"))
        .await;
    let message = assert_error(response, StatusCode::CONFLICT, "current_session").await;
    assert!(message.contains("log out"));

    assert_eq!(alice.statuses().await, [StatusCode::OK; 3]);
    assert_eq!(sessions(&alice.laptop).await.len(), 3);
    assert_eq!(
        remember_tokens(&server, alice_id),
        3,
        "remember-me logins kept"
    );
}

#[tokio::test]
async fn another_users_session_is_not_found_like_an_unknown_one_and_stays() {
    let server = spawn().await;
    let alice_id = server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = Devices::sign_in(&server, "alice", true).await;
    let bob = server.signed_in(FIREFOX_UBUNTU, "bob").await;

    let theirs = bob
        .delete(&format!("/api/user/sessions/{}", alice.ids[1]))
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let theirs: Value = theirs.json().await.unwrap();
    let unknown = bob.delete("/api/user/sessions/no-such-session-id").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(theirs, unknown, "the answer does not tell that it exists");
    assert_eq!(theirs["error"]["code"], "not_found");

    assert_eq!(alice.statuses().await, [StatusCode::OK; 3]);
    assert_eq!(sessions(&alice.laptop).await.len(), 3);
    assert_eq!(remember_tokens(&server, alice_id), 3);
    assert_eq!(
        sessions(&bob).await.len(),
        1,
        "bob never sees alice's sessions"
    );
}

#[tokio::test]
async fn revoke_all_others_leaves_exactly_the_current_one() {
    let server = spawn().await;
    let (alice, bob) = alice_and_bob(&server, false).await;

    let response = alice.phone.delete("/api/user/sessions").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"revoked": 2}));

    let left = sessions(&alice.phone).await;
    assert_eq!(ids(&left), [alice.ids[1].as_str()]);
    assert_eq!(left[0]["current"], true);
    assert_eq!(
        alice.statuses().await,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::OK,
            StatusCode::UNAUTHORIZED
        ]
    );
    assert_eq!(bob.statuses().await, [StatusCode::OK; 3], "bob keeps his");

    let again: Value = alice
        .phone
        .delete("/api/user/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["revoked"], 0);
}

/// A client that carries nothing but this remember-me cookie.
async fn remember_me_status(server: &TestServer, cookie: &str) -> StatusCode {
    server.status_with_cookie("sessiond_remember", cookie).await
}

#[tokio::test]
async fn remember_me_logins_of_the_user_stop_working_after_any_revocation() {
    let server = spawn().await;
    let (alice, bob) = alice_and_bob(&server, true).await;
    let [laptop, phone, tablet] = alice.remember.clone().map(Option::unwrap);
    // Before any revocation a remember-me cookie alone signs in (opening one more session).
    assert_eq!(remember_me_status(&server, &tablet).await, StatusCode::OK);

    let one = alice
        .laptop
        .delete(&format!("/api/user/sessions/{}", alice.ids[2]))
        .await;
    assert_eq!(one.status(), StatusCode::NO_CONTENT);
    for cookie in [&laptop, &phone] {
        assert_eq!(
            remember_me_status(&server, cookie).await,
            StatusCode::UNAUTHORIZED
        );
    }

    let all = bob.laptop.delete("/api/user/sessions").await;
    assert_eq!(all.status(), StatusCode::OK);
    for cookie in bob.remember.iter().flatten() {
        assert_eq!(
            remember_me_status(&server, cookie).await,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_user_api_needs_a_session() {
    let server = spawn().await;
    let plain = server.plain();
    for response in [
        plain.get("/api/user/sessions").await,
        plain.delete("/api/user/sessions").await,
        plain.delete("/api/user/sessions/some-id").await,
    ] {
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

/// The Active sessions page as this browser sees it, asserting it answers 200.
async fn page(browser: &Browser, path: &str) -> String {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_page_shows_each_device_and_marks_the_current_session() {
    let server = spawn().await;
    let (alice, bob) = alice_and_bob(&server, true).await;

    let html = page(&alice.tablet, "/-/user/sessions").await;
    for device in ["Firefox on Ubuntu", "Chrome on Android", "Safari on iOS"] {
        assert!(html.contains(device), "{device}");
    }
    for icon in [
        "aria-label=\"Computer\"",
        "aria-label=\"Phone\"",
        "aria-label=\"Tablet\"",
    ] {
        assert!(html.contains(icon), "{icon}");
    }
    assert_eq!(html.matches("This is your current session").count(), 1);
    let current = html.find("This is your current session").unwrap();
    let tablet_row = html.find("Safari on iOS").unwrap();
    let next_row = html[tablet_row..]
        .find("<li")
        .map_or(html.len(), |i| tablet_row + i);
    assert!(
        (tablet_row..next_row).contains(&current),
        "marker on the tablet's row"
    );
    for other in &alice.ids[..2] {
        assert!(html.contains(&format!("action=\"/-/user/sessions/{other}/revoke\"")));
    }
    assert!(!html.contains(&format!("/-/user/sessions/{}/revoke", alice.ids[2])));
    assert!(!html.contains(&bob.ids[0]), "no trace of bob's sessions");
    assert!(html.contains("Revoke all other sessions"));
    assert!(html.contains("data-confirm="));
    assert!(html.contains("also ends every “Remember me” sign-in"));
    assert!(html.contains("<time datetime=\""));
    assert!(html.contains("Last accessed"));
    assert!(html.contains("Signed in on"));
    assert!(html.contains("alice Example"), "the header names the user");
    assert!(html.contains("action=\"/logout\""));
}

#[tokio::test]
async fn signed_out_the_page_redirects_to_login_and_back() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let response = browser.get("/-/user/sessions?revoked=1").await;
    assert_is_redirect_to(&response, "/login?return_to=/-/user/sessions%3Frevoked%3D1");
    let form = page(&browser, "/login?return_to=/-/user/sessions%3Frevoked%3D1").await;
    assert!(form.contains("value=\"/-/user/sessions?revoked=1\""));

    // After a revocation the old cookie is no session either.
    browser.login("alice").await;
    let other = server.signed_in(CHROME_ANDROID, "alice").await;
    other.delete("/api/user/sessions").await;
    let response = browser.get("/-/user/sessions").await;
    assert_is_redirect_to(&response, "/login?return_to=/-/user/sessions");
}

#[tokio::test]
async fn the_revoke_form_needs_the_csrf_token_and_then_revokes() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = Devices::sign_in(&server, "alice", false).await;
    let bobs = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    let csrf = csrf_field(&page(&alice.laptop, "/-/user/sessions").await);
    let revoke_phone = format!("/-/user/sessions/{}/revoke", alice.ids[1]);

    for form in [
        vec![],
        vec![("csrf_token", "forged-token-forged-token-forged")],
    ] {
        let refused = alice.laptop.post_form(&revoke_phone, &form).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(alice.statuses().await, [StatusCode::OK; 3]);

    let done = alice
        .laptop
        .post_form(&revoke_phone, &[("csrf_token", &csrf)])
        .await;
    assert_is_redirect_to(&done, "/-/user/sessions");
    assert_eq!(
        alice.statuses().await,
        [StatusCode::OK, StatusCode::UNAUTHORIZED, StatusCode::OK]
    );
    let html = page(&alice.laptop, "/-/user/sessions").await;
    assert!(html.contains("Session revoked. That device is signed out."));
    assert!(!html.contains("Chrome on Android"));

    // Through the form too, the current session and other users' sessions stay.
    let own = format!("/-/user/sessions/{}/revoke", alice.ids[0]);
    let response = alice.laptop.post_form(&own, &[("csrf_token", &csrf)]).await;
    assert_is_redirect_to(&response, "/-/user/sessions");
    let html = page(&alice.laptop, "/-/user/sessions").await;
    assert!(html.contains("To end it, log out."));
    let bobs_csrf = csrf_field(&page(&bobs, "/-/user/sessions").await);
    let theirs = format!("/-/user/sessions/{}/revoke", alice.ids[2]);
    let response = bobs.post_form(&theirs, &[("csrf_token", &bobs_csrf)]).await;
    assert_is_redirect_to(&response, "/-/user/sessions");
    let html = page(&bobs, "/-/user/sessions").await;
    assert!(html.contains("That session is not among yours any more"));
    assert_eq!(
        alice.statuses().await,
        [StatusCode::OK, StatusCode::UNAUTHORIZED, StatusCode::OK]
    );
    let html = page(&alice.laptop, "/-/user/sessions?error=current_session").await;
    assert!(
        !html.contains("To end it, log out."),
        "the query shows no banner"
    );
}

#[tokio::test]
async fn the_revoke_others_form_leaves_only_this_device() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let alice = Devices::sign_in(&server, "alice", false).await;
    let csrf = csrf_field(&page(&alice.tablet, "/-/user/sessions").await);

    let refused = alice
        .tablet
        .post_form("/-/user/sessions/revoke-others", &[])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(alice.statuses().await, [StatusCode::OK; 3]);

    let done = alice
        .tablet
        .post_form("/-/user/sessions/revoke-others", &[("csrf_token", &csrf)])
        .await;
    assert_is_redirect_to(&done, "/-/user/sessions");
    assert_eq!(
        alice.statuses().await,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::OK
        ]
    );
    let html = page(&alice.tablet, "/-/user/sessions").await;
    assert!(html.contains("2 sessions revoked."));
    assert!(html.contains("No other devices are signed in to your account."));
    assert!(!html.contains("Revoke all other sessions"));
    assert!(!html.contains("/revoke\""), "no Revoke button left");
}

#[tokio::test]
async fn signed_out_forms_go_to_login_and_change_nothing() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let alice = Devices::sign_in(&server, "alice", false).await;
    let stranger = server.browser(FIREFOX_UBUNTU);
    let csrf = csrf_field(&page(&stranger, "/login").await);
    let response = stranger
        .post_form(
            &format!("/-/user/sessions/{}/revoke", alice.ids[0]),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_is_redirect_to(&response, "/login");
    assert_eq!(alice.statuses().await, [StatusCode::OK; 3]);
}

#[tokio::test]
async fn in_chromium_the_user_signs_in_and_revokes_another_session() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let elsewhere = Devices::sign_in(&server, "alice", false).await;
    server.browser(FIREFOX_UBUNTU).login("bob").await;

    chromium.goto(&server.url("/-/user/sessions")).await;
    assert!(
        chromium
            .current_url()
            .await
            .ends_with("/login?return_to=/-/user/sessions")
    );
    sign_in_with_chromium(&chromium, "alice", &server.url("/-/user/sessions")).await;

    assert_eq!(chromium.find_all(".session").await.len(), 4, "alice's only");
    let current = chromium.find_all(".session.is-current").await;
    assert_eq!(current.len(), 1);
    let marker = chromium.text(&current[0]).await;
    assert!(marker.contains("This is your current session"), "{marker}");

    // Cancel in the confirmation keeps the session; OK revokes it.
    let phone = chromium
        .find_with_text(".session", "Chrome on Android")
        .await;
    let revoke = chromium.find_in(&phone, "button").await;
    chromium.click(&revoke).await;
    assert!(chromium.dialog_text().await.contains("Chrome on Android"));
    chromium.dismiss_dialog().await;
    assert_eq!(chromium.find_all(".session").await.len(), 4);
    assert_eq!(elsewhere.phone.session_status().await, StatusCode::OK);
    chromium.click(&revoke).await;
    confirm_and_read_banner(&chromium, "Chrome on Android").await;
    // The dialogs come from the page's script file under a policy that blocks inline script.
    assert!(!inline_script_runs(&chromium).await, "an inline script ran");

    let rows = chromium.find_all(".session").await;
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert!(!chromium.text(row).await.contains("Chrome on Android"));
    }
    assert_eq!(
        elsewhere.phone.session_status().await,
        StatusCode::UNAUTHORIZED
    );
    let screenshots = crate::browser::screenshots_dir();
    chromium
        .screenshot(&screenshots.join("user-sessions.png"))
        .await;

    // On a phone the page fits the width: nothing to scroll sideways.
    chromium.set_window_size(390, 844).await;
    let root = "document.documentElement";
    let overflows = chromium
        .execute(&format!("return {root}.scrollWidth > {root}.clientWidth;"))
        .await;
    assert_eq!(overflows, false, "the page is wider than a phone");
    chromium
        .screenshot(&screenshots.join("user-sessions-phone.png"))
        .await;
}
