//! The admin console's pages over HTTP and in Chromium: access, filters, paging, actions.

use crate::browser::Chromium;
use crate::helpers::*;
use reqwest::StatusCode;

async fn page(browser: &Browser, path: &str) -> (StatusCode, String) {
    let response = browser.get(path).await;
    (response.status(), response.text().await.unwrap())
}

/// Posts a page form with the browser's CSRF token; returns the redirect target.
async fn submit(browser: &Browser, action: &str, csrf: &str) -> String {
    let response = browser.post_form(action, &[("csrf_token", csrf)]).await;
    redirect_target(&response)
}

#[tokio::test]
async fn only_administrators_see_the_console() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let stranger = server.browser(FIREFOX_UBUNTU);
    let user = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    for path in [
        "/admin/sessions",
        "/admin/users",
        "/admin/audit",
        "/admin/alarms",
    ] {
        let response = stranger.get(path).await;
        assert_is_redirect_to(&response, &format!("/login?return_to={path}"));
        let (status, html) = page(&user, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("Administrators only"));
    }
    let (_, own) = page(&user, "/-/user/sessions").await;
    assert!(
        !own.contains("href=\"/admin/sessions\""),
        "no admin links for users"
    );
    let admin = admin_browser(&server).await;
    let (status, html) = page(&admin, "/-/user/sessions").await;
    assert_eq!(status, StatusCode::OK);
    for link in [
        "/admin/sessions",
        "/admin/users",
        "/admin/audit",
        "/admin/alarms",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
}

#[tokio::test]
async fn sessions_page_filters_pages_and_terminates() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    let bob = server.create_user("bob", false).await;
    seed_sessions(&server, bob, "bob", 60, "203.0.113.9").await;
    let victim = server.browser(CHROME_ANDROID);
    let id = victim.login_session_id("alice").await;

    let (status, html) = page(&admin, "/admin/sessions").await;
    assert_eq!(status, StatusCode::OK);
    for header in [
        "User",
        "IP Address",
        "User Agent",
        "Created",
        "Last Active",
        "Expires",
    ] {
        assert!(html.contains(&format!(">{header}</th>")), "{header}");
    }
    assert!(html.contains("Showing 1–50 of 62"));
    assert!(html.contains("offset=50"), "a Next link");
    let (_, second) = page(&admin, "/admin/sessions?offset=50").await;
    assert!(second.contains("Showing 51–62 of 62"));

    let (_, filtered) = page(&admin, "/admin/sessions?user=alice").await;
    assert!(filtered.contains(&format!("session-{id}")));
    assert!(filtered.contains("Chrome on Android"));
    assert!(
        filtered.contains(&format!("title=\"{CHROME_ANDROID}\"")),
        "raw agent on hover"
    );
    assert!(!filtered.contains("203.0.113.9"));
    let (_, by_email) = page(&admin, "/admin/sessions?user=alice%40example.com&ip=").await;
    assert!(by_email.contains(&format!("session-{id}")));
    let (_, by_ip) = page(&admin, "/admin/sessions?ip=203.0.113.9").await;
    assert!(by_ip.contains("Showing 1–50 of 60"));
    let (_, unknown) = page(&admin, "/admin/sessions?user=nobody").await;
    assert!(unknown.contains("No user matches “nobody”."), "{unknown}");
    assert!(
        !unknown.contains("No active sessions"),
        "one message for an empty result, not two"
    );
    let (_, unmatched) = page(&admin, "/admin/sessions?ip=198.51.100.1").await;
    assert!(unmatched.contains("No active sessions match this filter."));

    let csrf = csrf_field(&html);
    let terminate = format!("/admin/sessions/{id}/terminate");
    let forged = admin
        .post_form(
            &terminate,
            &[("csrf_token", "forged-forged-forged-forged-forged")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(victim.session_status().await, StatusCode::OK);

    let response = admin
        .post_form(
            &terminate,
            &[
                ("csrf_token", csrf.as_str()),
                ("return_to", "/admin/sessions?user=alice&ip=&offset=0"),
            ],
        )
        .await;
    let back = redirect_target(&response);
    assert!(back.starts_with("/admin/sessions?user=alice"), "{back}");
    assert_eq!(victim.session_status().await, StatusCode::UNAUTHORIZED);
    let (_, after) = page(&admin, &back).await;
    assert!(after.contains("Terminated 1 session of alice."));
    assert!(!after.contains(&format!("session-{id}")));
    let (_, reloaded) = page(&admin, &back).await;
    assert!(
        !reloaded.contains("Terminated 1 session"),
        "a banner shows once"
    );
    let gone = submit(&admin, &terminate, &csrf).await;
    let (_, refused) = page(&admin, &gone).await;
    assert!(refused.contains("That no longer exists"));
}

#[tokio::test]
async fn the_console_marks_the_administrators_own_session_and_account() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    server.signed_in(CHROME_ANDROID, "alice").await;
    let (_, html) = page(&admin, "/admin/sessions?user=root").await;
    assert_eq!(html.matches(">This is you<").count(), 1, "{html}");
    assert!(html.contains("Your current session: use Log out to end it."));
    assert!(
        !html.contains("/terminate\""),
        "no Terminate on the own session"
    );
    // Refused as the API refuses it, should the form be posted anyway.
    let (_, whoami) = admin.get_json("/api/session").await;
    let own = whoami["session"]["id"].as_str().unwrap();
    let back = submit(
        &admin,
        &format!("/admin/sessions/{own}/terminate"),
        &csrf_field(&html),
    )
    .await;
    let (_, refused) = page(&admin, &back).await;
    assert!(refused.contains("That is your own current session: use Log out to end it."));
    assert_eq!(admin.session_status().await, StatusCode::OK);
    let (_, html) = page(&admin, "/admin/sessions?user=alice").await;
    assert!(!html.contains("This is you"));
    let (_, html) = page(&admin, "/admin/users").await;
    assert_eq!(html.matches(">This is you<").count(), 1);
    let mine = html.find("@root").unwrap();
    let marked = html.find(">This is you<").unwrap();
    assert!(marked > mine && marked < html[mine..].find("</td>").unwrap() + mine);
    // Its Reset password and Logout All Devices dialogs warn; nobody else's do.
    assert_eq!(
        html.matches("This is your own account: this browser is signed out too.")
            .count(),
        2
    );
}

#[tokio::test]
async fn users_page_row_actions() {
    let server = spawn_with(|s| s.login.lockout_threshold = 1).await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    let devices: Vec<_> = (0..3).map(|_| server.browser(FIREFOX_UBUNTU)).collect();
    for device in &devices {
        device.login("alice").await;
    }
    let (status, html) = page(&admin, "/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Logout All Devices"));
    assert!(html.contains("href=\"/admin/sessions?user=alice\">3</a>"));
    let csrf = csrf_field(&html);

    let back = submit(&admin, &format!("/admin/users/{alice}/logout-all"), &csrf).await;
    for device in &devices {
        assert_eq!(device.session_status().await, StatusCode::UNAUTHORIZED);
    }
    let (_, after) = page(&admin, &back).await;
    assert!(
        after.contains("Signed alice out of all devices: terminated 3 sessions."),
        "{back}"
    );

    submit(&admin, &format!("/admin/users/{alice}/block"), &csrf).await;
    let (_, blocked) = page(&admin, "/admin/users").await;
    assert!(blocked.contains("state-blocked"));
    assert_eq!(
        devices[0].login_as("alice", PASSWORD, false).await.status(),
        StatusCode::FORBIDDEN
    );
    submit(&admin, &format!("/admin/users/{alice}/unblock"), &csrf).await;

    devices[0].fail_login("alice").await;
    let (_, locked) = page(&admin, "/admin/users").await;
    assert!(locked.contains("locked until"));
    let back = submit(&admin, &format!("/admin/users/{alice}/unlock"), &csrf).await;
    let (_, unlocked) = page(&admin, &back).await;
    assert!(unlocked.contains("Unlocked alice. They can sign in again."));
    devices[0].login("alice").await;
    let missing = submit(&admin, "/admin/users/9999/block", &csrf).await;
    let (_, refused) = page(&admin, &missing).await;
    assert!(refused.contains("That no longer exists"));
}

#[tokio::test]
async fn audit_and_alarm_pages() {
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"] {
        let response = server.plain().login_from("alice", ip).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    server.browser(FIREFOX_UBUNTU).fail_login("alice").await;

    let (status, audit) = page(&admin, "/admin/audit?user=alice&kind=login_failure").await;
    assert_eq!(status, StatusCode::OK);
    assert!(audit.contains("<span class=\"event event-failure\">login failure</span>"));
    assert!(audit.contains("wrong password"));
    assert!(!audit.contains(">login success</span>"), "filtered by kind");
    let (_, all) = page(&admin, "/admin/audit?user=alice").await;
    assert!(all.contains(">login success</span>") && all.contains(">alarm raised</span>"));
    let (_, bad) = page(&admin, "/admin/audit?kind=nonsense").await;
    assert!(bad.contains("unknown event kind"));

    let (status, alarms) = page(&admin, "/admin/alarms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(alarms.contains("sessions from 4 addresses"));
    assert!(!alarms.contains("no active sessions left"));
    // Every page's header counts the open alarm, the user's own page too.
    let count = r#">Alarms <span class="nav-count" title="1 open">1</span></a>"#;
    assert!(alarms.contains(count), "{alarms}");
    assert!(page(&admin, "/-/user/sessions").await.1.contains(count));
    for ip in ["192.0.2.1", "192.0.2.4"] {
        assert!(alarms.contains(ip));
    }
    let (_, api) = admin.get_json("/api/admin/alarms").await;
    let id = api["alarms"][0]["id"].as_i64().unwrap();
    let back = submit(
        &admin,
        &format!("/admin/alarms/{id}/acknowledge"),
        &csrf_field(&alarms),
    )
    .await;
    let (_, after) = page(&admin, &back).await;
    assert!(after.contains("Acknowledged the alarm about alice."));
    assert!(after.contains("No open alarms"));
    assert!(!after.contains("nav-count"), "no count once none is open");
    let (_, reloaded) = page(&admin, &back).await;
    assert!(
        !reloaded.contains("Acknowledged the alarm"),
        "a banner shows once"
    );
    let (_, history) = page(&admin, "/admin/alarms?state=all").await;
    // Acknowledged alarms look different and say who acknowledged them, and when.
    assert!(
        history.contains(r#"class="alarm alarm-acknowledged""#),
        "{history}"
    );
    let acknowledged = &history[history.find("alarm-ack\"").expect("who acknowledged")..];
    assert!(acknowledged.contains("</span> by user:root <time datetime=\"20"));
    assert!(
        !history.contains("/acknowledge\""),
        "no button on an acknowledged alarm"
    );
    server.cli_ok(&["sessions", "revoke", "--user", "alice"]);
    let (_, over) = page(&admin, "/admin/alarms?state=all").await;
    assert!(
        over.contains("alice has no active sessions left."),
        "{over}"
    );
}

/// The Users page with `cookies` as the only Cookie header; asserts it clears the flash.
async fn users_page_with(server: &TestServer, cookies: &str) -> String {
    let response = server
        .plain()
        .client
        .get(server.url("/admin/users"))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{cookies}");
    let cleared = set_cookie(response.headers(), "sessiond_flash");
    assert_eq!(
        cleared.as_deref(),
        Some(""),
        "the flash is cleared: {cookies}"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn banners_come_only_from_a_genuine_flash_of_the_same_session() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    server.browser(FIREFOX_UBUNTU).login("alice").await;

    let (_, fake) = page(&admin, "/admin/users?done=logout_all&who=ceo&count=999").await;
    assert!(
        !fake.contains("Signed ceo") && !fake.contains("alert-ok"),
        "{fake}"
    );
    let (_, fake) = page(&admin, "/admin/users?error=owner_protected").await;
    assert!(!fake.contains("alert-error"));

    let csrf = csrf_field(&fake);
    let logout_all = format!("/admin/users/{alice}/logout-all");
    let response = admin
        .post_form(&logout_all, &[("csrf_token", csrf.as_str())])
        .await;
    assert_is_redirect_to(&response, "/admin/users");
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("sessiond_flash="))
        .expect("a flash cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
        assert!(header.contains(attribute), "{header}");
    }
    let flash = set_cookie(response.headers(), "sessiond_flash").unwrap();

    // Copied into another session of the same administrator, or altered, it shows nothing.
    let other = server.plain().login_token("root").await;
    let (payload, tag) = flash.split_once('.').unwrap();
    // The payload with its count changed, under the original MAC.
    let mut forged_payload = payload.as_bytes().to_vec();
    forged_payload[5] = if forged_payload[5] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let forged_payload = String::from_utf8(forged_payload).unwrap();
    for cookie in [
        flash.clone(),
        format!("{forged_payload}.{tag}"),
        format!("{payload}.{}", &tag[1..]),
        format!("{payload}{tag}"),
        "%%%.***".to_owned(),
        String::new(),
    ] {
        let cookies = format!("sessiond_session={other}; sessiond_flash={cookie}");
        let html = users_page_with(&server, &cookies).await;
        assert!(!html.contains("alert-ok"), "{cookie}");
    }

    // In its own session it shows once.
    let (_, first) = page(&admin, "/admin/users").await;
    assert!(first.contains("Signed alice out of all devices: terminated 1 session."));
    let (_, reloaded) = page(&admin, "/admin/users").await;
    assert!(
        !reloaded.contains("Signed alice out"),
        "a banner shows once"
    );
}

#[tokio::test]
async fn in_chromium_an_admin_filters_terminates_and_logs_a_user_out() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    server.create_user("root", true).await;
    let alice = server.create_user("alice", false).await;
    let bob = server.create_user("bob", false).await;
    seed_sessions(&server, bob, "bob", 3, "203.0.113.9").await;
    let mut alices = Vec::new();
    for (agent, ip) in [
        (FIREFOX_UBUNTU, "192.0.2.10"),
        (CHROME_ANDROID, "192.0.2.11"),
        (SAFARI_IPAD, "192.0.2.12"),
        (FIREFOX_UBUNTU, "192.0.2.13"),
    ] {
        let device = server.browser(agent);
        let response = device.login_from("alice", ip).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        alices.push(device);
    }
    server.browser(FIREFOX_UBUNTU).fail_login("bob").await;

    let sessions_page = server.url("/admin/sessions");
    chromium.goto(&sessions_page).await;
    sign_in_with_chromium(&chromium, "root", &sessions_page).await;
    assert_eq!(
        chromium.find_all("tbody tr").await.len(),
        8,
        "4 of alice, 3 of bob, root's own"
    );
    let screenshots = crate::browser::screenshots_dir();
    chromium
        .screenshot(&screenshots.join("admin-sessions.png"))
        .await;

    // Filter by user, then terminate one of alice's sessions through the confirmation.
    chromium
        .type_into(&chromium.find("#filter-user").await, "alice")
        .await;
    chromium
        .click(&chromium.find_with_text("button", "Filter").await)
        .await;
    chromium
        .wait_for("the filtered list", async || {
            chromium.current_url().await.contains("user=alice")
        })
        .await;
    assert_eq!(chromium.find_all("tbody tr").await.len(), 4);
    let phone = chromium
        .find_with_text("tbody tr", "Chrome on Android")
        .await;
    chromium
        .click(&chromium.find_in(&phone, "button").await)
        .await;
    let banner = confirm_and_read_banner(
        &chromium,
        "Terminate this session of alice (Chrome on Android, 192.0.2.11, last active",
    )
    .await;
    assert!(!inline_script_runs(&chromium).await, "an inline script ran");
    assert!(banner.contains("Terminated 1 session of alice."));
    assert_eq!(
        chromium.find_all("tbody tr").await.len(),
        3,
        "the row is gone"
    );
    assert_eq!(alices[1].session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(alices[0].session_status().await, StatusCode::OK);

    // Logout All Devices from the Users page, in the row's actions menu.
    chromium.goto(&server.url("/admin/users")).await;
    let row = chromium.find(&format!("#user-{alice}")).await;
    chromium
        .click(&chromium.find_in(&row, "details.row-menu summary").await)
        .await;
    chromium
        .click(
            &chromium
                .find_in(&row, "form[action$='/logout-all'] button")
                .await,
        )
        .await;
    let banner = confirm_and_read_banner(&chromium, "Sign alice out of all devices?").await;
    assert!(banner.contains("terminated 3 sessions"));
    for device in &alices {
        assert_eq!(device.session_status().await, StatusCode::UNAUTHORIZED);
    }
    chromium.goto(&server.url("/admin/users")).await;
    chromium
        .screenshot(&screenshots.join("admin-users.png"))
        .await;
    chromium.goto(&server.url("/admin/audit")).await;
    assert!(!chromium.find_all("tbody tr").await.is_empty());
    chromium
        .screenshot(&screenshots.join("admin-audit.png"))
        .await;
    chromium.goto(&server.url("/admin/alarms")).await;
    assert!(
        chromium
            .text(&chromium.find(".alarm").await)
            .await
            .contains("alice")
    );
    chromium
        .screenshot(&screenshots.join("admin-alarms.png"))
        .await;

    // At a phone's width the header is one row with a Menu button that opens the links.
    let shown = async |css: &str| {
        let script =
            format!("return getComputedStyle(document.querySelector('{css}')).display !== 'none';");
        chromium.execute(&script).await == serde_json::json!(true)
    };
    assert!(!shown(".menu-button").await, "no menu button on a desktop");
    chromium.set_window_size(390, 844).await;
    chromium.goto(&server.url("/admin/users")).await;
    assert!(shown(".menu-button").await);
    assert!(!shown("#main-nav").await, "the links wait behind the menu");
    let header = "return document.querySelector('.topbar').getBoundingClientRect().height;";
    let folded = chromium.execute(header).await.as_f64().unwrap();
    assert!(folded < 80.0, "one row, not three: {folded} px");
    chromium.click(&chromium.find(".menu-button").await).await;
    assert!(shown("#main-nav").await, "the menu opens");
    chromium
        .click(&chromium.find_with_text("#main-nav a", "Alarms").await)
        .await;
    let landed = async || chromium.current_url().await.ends_with("/admin/alarms");
    chromium.wait_for("the Alarms page", landed).await;
    chromium
        .screenshot(&screenshots.join("admin-alarms-phone.png"))
        .await;
}

/// The Sessions page's filters: a username's start in any case, with usernames suggested; an
/// address, its start or a network, a malformed one said in a sentence; and a session used
/// from another address shows that under the first.
#[tokio::test]
async fn sessions_page_filters_by_user_prefix_and_network_and_shows_both_addresses() {
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let admin = admin_browser(&server).await;
    for user in ["alice", "alina", "bob"] {
        server.create_user(user, false).await;
    }
    let alice = server.browser(FIREFOX_UBUNTU);
    alice.login_from("alice", "10.1.2.3").await;
    let seen = alice
        .client
        .get(alice.url("/api/session"))
        .header("x-forwarded-for", "192.0.2.77")
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), StatusCode::OK);
    server
        .browser(CHROME_ANDROID)
        .login_from("alina", "10.2.0.1")
        .await;
    server
        .browser(SAFARI_IPAD)
        .login_from("bob", "198.51.100.4")
        .await;

    let (_, html) = page(&admin, "/admin/sessions?user=ALI").await;
    assert!(html.contains("Showing 1–2 of 2"), "{html}");
    assert!(html.contains(">alice<") && html.contains(">alina<") && !html.contains(">bob<"));
    let datalist = &html[html.find("<datalist id=\"usernames\">").unwrap()..];
    let datalist = &datalist[..datalist.find("</datalist>").unwrap()];
    assert_eq!(
        datalist.matches("<option").count(),
        2,
        "the usernames the filter names: {datalist}"
    );
    let (_, all) = page(&admin, "/admin/sessions").await;
    for user in ["alice", "alina", "bob", "root"] {
        assert!(
            all.contains(&format!("<option value=\"{user}\">")),
            "{user}"
        );
    }

    let (_, by_network) = page(&admin, "/admin/sessions?ip=10.0.0.0%2F8").await;
    assert!(by_network.contains("Showing 1–2 of 2"), "{by_network}");
    let (_, by_start) = page(&admin, "/admin/sessions?ip=192.0.2.").await;
    assert!(by_start.contains("Showing 1–1 of 1"));
    // The first address, with the one used since under it.
    let cell = &by_start[by_start.find("data-label=\"IP Address\"").unwrap()..];
    let cell = &cell[..cell.find("</td>").unwrap()];
    let (first, last) = (
        cell.find(">10.1.2.3<").unwrap(),
        cell.find(">192.0.2.77<").unwrap(),
    );
    assert!(first < last && cell.contains("last: "), "{cell}");
    let (_, bob) = page(&admin, "/admin/sessions?user=bob").await;
    assert!(!bob.contains("last: "), "one address, one line");

    let (status, bad) = page(&admin, "/admin/sessions?ip=10.0.0.0%2F33").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bad.contains("The IP address filter must be an address (203.0.113.7), the start of one (10.1.) or a network"),
        "{bad}"
    );
    assert!(!bad.contains("No active sessions"), "one message, not two");
}
