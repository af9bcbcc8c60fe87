//! The security headers of every answer, `Cache-Control: no-store` on the JSON API, and pages
//! that work under the content security policy: no inline script, handler or style.

use crate::helpers::*;
use reqwest::{Response, StatusCode};

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_secured(response: &Response) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(header(response, name), Some(value), "{}", response.url());
    }
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let plain = server.plain();
    let answers = [
        browser.get("/-/user/sessions").await,
        browser.get("/api/session").await,
        browser.get("/api/user/sessions").await,
        browser.get("/static/app.js").await,
        browser.get("/").await,
        plain.get("/login").await,
        plain.get("/api/session").await,
        plain.get("/no-such-page").await,
        plain.get("/healthz").await,
        plain.delete("/api/login").await,
    ];
    for response in &answers {
        assert_secured(response);
        assert_eq!(header(response, "strict-transport-security"), None);
    }
}

#[tokio::test]
async fn an_https_public_url_adds_strict_transport_security() {
    let server = spawn_with(|s| s.server.public_url = "https://sso.example.com".into()).await;
    for path in ["/login", "/api/session", "/static/app.css"] {
        let response = server.plain().get(path).await;
        assert_eq!(
            header(&response, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
        assert_secured(&response);
    }
}

#[tokio::test]
async fn no_api_answer_is_stored_by_caches() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let plain = server.plain();
    let answers = [
        browser.login_as("alice", PASSWORD, false).await,
        browser.get("/api/session").await,
        browser.get("/api/user/sessions").await,
        browser.fail_login("alice").await,
        plain.get("/api/session").await,
        plain.get("/api/openapi.json").await,
        plain.get("/api/nothing-here").await,
        plain.delete("/api/login").await,
        plain.get("/api/admin/users").await,
    ];
    for response in &answers {
        assert_eq!(
            header(response, "cache-control"),
            Some("no-store"),
            "{} {}",
            response.url(),
            response.status()
        );
    }
    let stylesheet = plain.get("/static/app.css").await;
    assert_eq!(
        header(&stylesheet, "cache-control"),
        Some("public, max-age=3600")
    );
}

/// The start tags of an HTML page, without their `<` and `>`.
fn tags(html: &str) -> impl Iterator<Item = &str> {
    html.split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap())
}

/// What in `html` the content security policy would block: inline scripts, event handler
/// attributes and inline styles.
fn blocked_by_the_policy(html: &str) -> Vec<String> {
    let mut blocked = Vec::new();
    for tag in tags(html) {
        let lower = tag.to_ascii_lowercase();
        if lower.starts_with("script") && !lower.contains(" src=") || lower.starts_with("style") {
            blocked.push(tag.to_owned());
        }
        let attribute = |word: &str| {
            word.split_once('=')
                .is_some_and(|(name, _)| name.starts_with("on") || name == "style")
        };
        if lower.split_ascii_whitespace().skip(1).any(attribute) {
            blocked.push(tag.to_owned());
        }
    }
    blocked
}

#[tokio::test]
async fn no_page_holds_what_the_policy_blocks() {
    assert_eq!(
        blocked_by_the_policy("<p onclick=\"x()\"><script>1</script><b style=\"\">"),
        ["p onclick=\"x()\"", "script", "b style=\"\""]
    );
    let server = spawn().await;
    server.create_user("alice", false).await;
    let admin = admin_browser(&server).await;
    server.signed_in(CHROME_ANDROID, "alice").await;
    let signed_out = server.plain();
    let mut pages = vec![
        signed_out.get("/login").await,
        signed_out.get("/no-such-page").await,
    ];
    for path in [
        "/-/user/sessions",
        "/admin/sessions",
        "/admin/users",
        "/admin/audit",
        "/admin/alarms",
    ] {
        pages.push(admin.get(path).await);
    }
    for page in pages {
        let url = page.url().clone();
        assert_ne!(page.status(), StatusCode::INTERNAL_SERVER_ERROR, "{url}");
        let html = page.text().await.unwrap();
        assert!(html.contains("<script src=\"/static/app.js?v="), "{url}");
        assert_eq!(blocked_by_the_policy(&html), Vec::<String>::new(), "{url}");
    }
}

/// The address of the asset `name` (`app.css`, `app.js`) in a page's `href` or `src`.
fn asset_link(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("/static/{name}?v="))
        .expect("a versioned link");
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn pages_link_assets_by_version_which_caches_keep_for_a_year() {
    let server = spawn().await;
    let plain = server.plain();
    let html = plain.get("/login").await.text().await.unwrap();
    for name in ["app.css", "app.js"] {
        let versioned = plain.get(&asset_link(&html, name)).await;
        assert_eq!(versioned.status(), StatusCode::OK);
        assert_eq!(
            header(&versioned, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let body = versioned.text().await.unwrap();
        for other_version in [format!("/static/{name}"), format!("/static/{name}?v=1")] {
            let response = plain.get(&other_version).await;
            assert_eq!(
                header(&response, "cache-control"),
                Some("public, max-age=3600"),
                "{other_version}"
            );
            assert_eq!(response.text().await.unwrap(), body);
        }
    }
}
