//! The pages walked as a person would, in Chromium: the sign-in form's errors, the
//! Administrators only page, buttons that are links, and the console at a phone's width.

use crate::browser::Chromium;
use crate::helpers::*;
use reqwest::StatusCode;

/// What `css`'s first element answers to `property` (e.g. `el.getAttribute('aria-invalid')`),
/// as a script expression on `el`.
async fn read(chromium: &Chromium, css: &str, property: &str) -> serde_json::Value {
    let script = format!("const el = document.querySelector({css:?}); return {property};");
    chromium.execute(&script).await
}

#[tokio::test]
async fn in_chromium_a_wrong_password_is_a_sentence_marks_the_fields_and_focuses_the_password() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("alice", false).await;
    chromium.goto(&server.url("/login")).await;
    assert_eq!(
        read(&chromium, "#login", "document.activeElement === el").await,
        true,
        "the name field first"
    );
    assert_eq!(
        read(&chromium, "#login", "el.getAttribute('aria-invalid')").await,
        serde_json::Value::Null
    );
    chromium
        .type_into(&chromium.find("#login").await, "alice")
        .await;
    chromium
        .type_into(&chromium.find("#password").await, "not the password")
        .await;
    chromium.click(&chromium.find("button.primary").await).await;
    let failed = async || !chromium.find_all("#login-error").await.is_empty();
    chromium.wait_for("the error", failed).await;
    let error = chromium.text(&chromium.find("#login-error").await).await;
    assert_eq!(error, "Invalid login or password.");
    for field in ["#login", "#password"] {
        assert_eq!(
            read(&chromium, field, "el.getAttribute('aria-invalid')").await,
            "true",
            "{field}"
        );
        assert_eq!(
            read(&chromium, field, "el.getAttribute('aria-describedby')").await,
            "login-error"
        );
    }
    assert_eq!(
        read(&chromium, "#password", "document.activeElement === el").await,
        true,
        "the password field takes the focus"
    );
    assert_eq!(read(&chromium, "#login", "el.value").await, "alice");
}

#[tokio::test]
async fn administrators_only_keeps_the_header_with_log_out() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let response = alice.get("/admin/users").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(html.contains("Administrators only"));
    assert!(
        html.contains("href=\"/-/user/sessions\""),
        "the header's links"
    );
    assert!(html.contains("action=\"/logout\""), "{html}");
    // Its Log out works like any other page's.
    let logout = alice
        .post_form("/logout", &[("csrf_token", csrf_field(&html).as_str())])
        .await;
    assert_is_redirect_to(&logout, "/login");
    assert_eq!(alice.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn in_chromium_links_shown_as_buttons_look_like_buttons() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("root", true).await;
    chromium
        .goto(&server.url("/admin/sessions?user=root"))
        .await;
    sign_in_with_chromium(&chromium, "root", &server.url("/admin/sessions?user=root")).await;
    let style = "(() => { const s = getComputedStyle(el); const r = el.getBoundingClientRect(); \
                 return [s.textDecorationLine, s.display, s.fontWeight, s.borderTopWidth, Math.round(r.height)]; })()";
    let link = read(&chromium, ".filter-actions a.button", style).await;
    let button = read(&chromium, ".filter-actions button.button", style).await;
    assert_eq!(link[0], "none", "no underline: {link}");
    assert_eq!(link, button, "Clear looks like Filter");
    let log_out = read(&chromium, ".who button", style).await;
    assert_eq!(log_out[0], "none", "{log_out}");
    assert_eq!(
        log_out[3], button[3],
        "Log out has a button's border: {log_out}"
    );
}

/// Whether the first element `css` names is shown (a closed `<details>` hides its body).
async fn rendered(chromium: &Chromium, css: &str) -> bool {
    read(chromium, css, "el.checkVisibility()").await == true
}

/// Opens the first `<summary>` inside `within` from the keyboard: focused, then Enter.
async fn open_details_by_keyboard(chromium: &Chromium, within: &str) {
    let summary = chromium.find(&format!("{within} summary")).await;
    chromium.type_into(&summary, "\u{E007}").await;
    let open = async || rendered(chromium, &format!("{within} .raw")).await;
    chromium.wait_for("the details to open", open).await;
}

/// The `aria-label`s of the buttons `css` names.
async fn labels(chromium: &Chromium, css: &str) -> Vec<String> {
    let script = format!(
        "return [...document.querySelectorAll({css:?})].map(b => b.getAttribute('aria-label'));"
    );
    let found = chromium.execute(&script).await;
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn in_chromium_details_open_from_the_keyboard_and_labels_tell_sessions_apart() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    server.create_user("root", true).await;
    server.create_user("alice", false).await;
    // Two more sessions of alice's from one address: their rows differ by device alone.
    for agent in [FIREFOX_UBUNTU, CHROME_ANDROID] {
        let response = server.browser(agent).login_from("alice", "10.0.0.2").await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    // alice's own page.
    chromium.goto(&server.url("/-/user/sessions")).await;
    sign_in_with_chromium(&chromium, "alice", &server.url("/-/user/sessions")).await;
    let revokes = labels(&chromium, ".session form button").await;
    assert_eq!(revokes.len(), 2, "{revokes:?}");
    assert_ne!(revokes[0], revokes[1]);
    for label in &revokes {
        assert!(
            label.starts_with("Revoke the session on ")
                && label.contains(" from 10.0.0.2, signed in ")
                && label.contains(", last active now"),
            "{label}"
        );
    }
    assert!(revokes.iter().any(|l| l.contains("Firefox on Ubuntu")));
    assert!(revokes.iter().any(|l| l.contains("Chrome on Android")));
    let other = "li.session:not(.is-current) .raw";
    assert!(!rendered(&chromium, other).await, "closed at first");
    open_details_by_keyboard(&chromium, "li.session:not(.is-current)").await;
    let raw = chromium
        .text(&chromium.find("li.session:not(.is-current) .raw").await)
        .await;
    assert!(
        [FIREFOX_UBUNTU, CHROME_ANDROID].contains(&raw.as_str()),
        "{raw}"
    );

    // The administrator's page: alice's three sessions.
    chromium.click(&chromium.find(".who button").await).await;
    let signed_out = async || chromium.current_url().await.ends_with("/login");
    chromium.wait_for("the sign-in page", signed_out).await;
    let alices = server.url("/admin/sessions?user=alice");
    chromium.goto(&alices).await;
    sign_in_with_chromium(&chromium, "root", &alices).await;
    let terminates = labels(&chromium, "td.actions button").await;
    assert_eq!(
        terminates.len(),
        2,
        "the third is signed out: {terminates:?}"
    );
    assert_ne!(terminates[0], terminates[1]);
    for label in &terminates {
        assert!(
            label.starts_with("Terminate the session of alice on "),
            "{label}"
        );
    }
    let row = "tbody tr:first-child";
    assert!(!rendered(&chromium, &format!("{row} .raw")).await);
    open_details_by_keyboard(&chromium, row).await;
    let details = chromium
        .text(&chromium.find(&format!("{row} .session-more dl")).await)
        .await;
    for shown in [
        "Signed in",
        "Last active",
        "Expires",
        "10.0.0.2",
        "User-Agent",
    ] {
        assert!(details.contains(shown), "{shown}: {details}");
    }
}

/// Every element of the page within a 390 px viewport, and every badge whole inside its
/// cell; the problems found, or none.
const FITS_A_PHONE: &str = r#"
const width = document.documentElement.clientWidth;
const problems = [];
if (document.documentElement.scrollWidth > width) {
  problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide');
}
for (const el of document.querySelectorAll('header *, main *')) {
  if (el.closest('.visually-hidden, .menu-toggle')) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.left < -0.5 || r.right > width + 0.5) {
    problems.push(el.tagName + '.' + el.className + ' spans ' + r.left + ' to ' + r.right);
  }
}
for (const badge of document.querySelectorAll('.badge')) {
  const r = badge.getBoundingClientRect();
  const cell = badge.closest('td, li, p').getBoundingClientRect();
  if (badge.scrollWidth > badge.clientWidth + 1 || badge.scrollHeight > badge.clientHeight + 1) {
    problems.push('badge ' + badge.textContent + ' is clipped');
  }
  if (r.left < cell.left - 0.5 || r.right > cell.right + 0.5) {
    problems.push('badge ' + badge.textContent + ' leaves its cell');
  }
}
return problems;
"#;

#[tokio::test]
async fn in_chromium_the_pages_fit_a_phone_with_badges_whole() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    server.create_user("root", true).await;
    server.create_user("alice", false).await;
    server.create_user("ops-bot-with-a-long-name", true).await;
    let remembered = server.browser(CHROME_ANDROID);
    let login = remembered
        .login_request("alice", PASSWORD, true)
        .header("x-forwarded-for", "2001:db8:85a3::8a2e:370:7334")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::CREATED);
    server
        .browser(SAFARI_IPAD)
        .login_from("alice", "198.51.100.23")
        .await;
    // The administrator's phone, so that their own page has another session to show.
    server
        .browser(CHROME_ANDROID)
        .login_from("root", "203.0.113.40")
        .await;

    chromium.set_window_size(390, 844).await;
    chromium.goto(&server.url("/admin/sessions")).await;
    sign_in_with_chromium(&chromium, "root", &server.url("/admin/sessions")).await;
    let screenshots = crate::browser::screenshots_dir();
    for (path, shot) in [
        ("/admin/sessions", "admin-sessions-phone.png"),
        ("/admin/users", "admin-users-phone.png"),
        ("/-/user/sessions", "user-sessions-phone.png"),
    ] {
        chromium.goto(&server.url(path)).await;
        let width = chromium
            .execute("return document.documentElement.clientWidth;")
            .await;
        assert!(width.as_u64().unwrap() <= 390, "{width}");
        let problems = chromium.execute(FITS_A_PHONE).await;
        assert_eq!(problems, serde_json::json!([]), "{path}");
        chromium.screenshot(&screenshots.join(shot)).await;
    }
}

/// *Active sessions* shows where a session was signed in from, and where it was last used
/// from when that is elsewhere.
#[tokio::test]
async fn active_sessions_show_the_first_address_and_the_last() {
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    server.create_user("alice", false).await;
    let laptop = server.browser(FIREFOX_UBUNTU);
    laptop.login_from("alice", "10.1.2.3").await;
    let moved = |path: &str| {
        laptop
            .client
            .get(laptop.url(path))
            .header("x-forwarded-for", "192.0.2.77")
    };
    assert_eq!(
        moved("/api/session").send().await.unwrap().status(),
        StatusCode::OK
    );
    let html = moved("/-/user/sessions")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("10.1.2.3, last used from 192.0.2.77"),
        "{html}"
    );
    assert!(
        html.contains("10.1.2.3; last used from 192.0.2.77"),
        "in the details"
    );
}
