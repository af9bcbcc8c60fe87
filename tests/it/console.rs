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
