//! Forms and CSRF, client addresses behind proxies, error bodies, size limits, health.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_login_form_signs_in_and_logout_form_signs_out() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let page = browser.get("/login?return_to=/api/session").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Remember me"));
    let csrf = csrf_field(&html);

    let wrong = browser
        .client
        .post(browser.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("login", "alice"),
            ("password", "nope nope nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("invalid login or password")
    );

    let signed_in = browser
        .client
        .post(browser.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("login", "alice@example.com"),
            ("password", PASSWORD),
            ("return_to", "/api/session"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/api/session");
    assert_eq!(browser.session_status().await, StatusCode::OK);

    let logout = browser
        .client
        .post(browser.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(logout.headers()["location"], "/login");
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forms_without_a_matching_csrf_token_are_refused() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.get("/login").await;
    let forged = browser
        .client
        .post(browser.url("/login"))
        .form(&[
            ("csrf_token", "forged-token-forged-token-forged"),
            ("login", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);

    let cross_site = browser
        .client
        .post(browser.url("/api/login"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({"login": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let csrf = csrf_field(&browser.get("/login").await.text().await.unwrap());
    let response = browser
        .client
        .post(browser.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("login", "alice"),
            ("password", PASSWORD),
            ("return_to", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/-/user/sessions");
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let trusting =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let distrusting = spawn().await;
    for (server, expected) in [(&trusting, "203.0.113.7"), (&distrusting, "127.0.0.1")] {
        server.create_user("alice", false).await;
        let response = reqwest::Client::new()
            .post(server.url("/api/login"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .json(&serde_json::json!({"login": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["session"]["ip_address"], expected);
    }
}

#[tokio::test]
async fn bad_input_gets_a_json_error_body() {
    let server = spawn().await;
    let client = reqwest::Client::new();
    let malformed = client
        .post(server.url("/api/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(malformed).await, "bad_request");

    let missing_field = client
        .post(server.url("/api/login"))
        .json(&serde_json::json!({"login": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(missing_field).await, "bad_request");

    let too_big = client
        .post(server.url("/api/login"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"login\": \"{}\", \"password\": \"x\"}}",
            "a".repeat(100_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let huge_headers = client
        .get(server.url("/api/session"))
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(
        huge_headers.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    let unknown = client
        .get(server.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown).await, "not_found");

    let wrong_method = client
        .delete(server.url("/api/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(wrong_method).await, "method_not_allowed");

    let unauthenticated = client.get(server.url("/api/session")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(unauthenticated).await, "unauthorized");
}

#[tokio::test]
async fn health_and_readiness() {
    let server = spawn().await;
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_count_logins_checks_and_activity_writes() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser
        .login_as("alice", "wrong password here", false)
        .await;
    browser.login("alice").await;
    for _ in 0..5 {
        browser.session_status().await;
    }
    let response = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for line in [
        "sessiond_logins_total{outcome=\"success\"} 1",
        "sessiond_logins_total{outcome=\"failure\"} 1",
        "sessiond_session_checks_total{result=\"valid\"} 5",
        // Five checks within the write interval: no activity write at all.
        "sessiond_activity_writes_total 0",
        "sessiond_active_sessions 1",
        "sessiond_open_alarms 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}
