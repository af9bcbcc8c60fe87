//! Forms and CSRF, client addresses behind proxies, error bodies, size limits, health.

use crate::helpers::*;
use reqwest::Response;
use reqwest::StatusCode;
use serde_json::Value;

/// Posts the login form with this CSRF token, and `return_to` when given.
async fn post_login_form(
    browser: &Browser,
    csrf: &str,
    login: &str,
    password: &str,
    return_to: Option<&str>,
) -> Response {
    let mut form = vec![
        ("csrf_token", csrf),
        ("login", login),
        ("password", password),
    ];
    form.extend(return_to.map(|to| ("return_to", to)));
    browser.post_form("/login", &form).await
}

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

    let wrong = post_login_form(&browser, &csrf, "alice", "nope nope nope", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Invalid login or password.")
    );

    let to = Some("/api/session");
    let signed_in = post_login_form(&browser, &csrf, "alice@example.com", PASSWORD, to).await;
    assert_is_redirect_to(&signed_in, "/api/session");
    assert_eq!(browser.session_status().await, StatusCode::OK);

    // Signed in, forms carry the session's token: the sign-in form's is refused.
    let stale = browser
        .post_form("/logout", &[("csrf_token", csrf.as_str())])
        .await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    let page = browser.get("/-/user/sessions").await.text().await.unwrap();
    let csrf = csrf_field(&page);
    let logout = browser
        .post_form("/logout", &[("csrf_token", csrf.as_str())])
        .await;
    assert_is_redirect_to(&logout, "/login");
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forms_without_a_matching_csrf_token_are_refused() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.get("/login").await;
    let forged = "forged-token-forged-token-forged";
    let forged = post_login_form(&browser, forged, "alice", PASSWORD, None).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);

    let cross_site = browser
        .login_request("alice", PASSWORD, false)
        .header("origin", "https://evil.example")
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
    let to = Some("//evil.example/");
    let response = post_login_form(&browser, &csrf, "alice", PASSWORD, to).await;
    assert_is_redirect_to(&response, "/-/user/sessions");
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let trusting =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let distrusting = spawn().await;
    for (server, expected) in [(&trusting, "203.0.113.7"), (&distrusting, "127.0.0.1")] {
        server.create_user("alice", false).await;
        let response = server
            .plain()
            .login_from("alice", "198.51.100.1, 203.0.113.7")
            .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["session"]["ip_address"], expected);
    }
}

#[tokio::test]
async fn bad_input_gets_a_json_error_body() {
    let server = spawn().await;
    let plain = server.plain();
    let client = &plain.client;
    let malformed = client
        .post(server.url("/api/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "bad_request").await;

    let missing_field = client
        .post(server.url("/api/login"))
        .json(&serde_json::json!({"login": "alice"}))
        .send()
        .await
        .unwrap();
    assert_error(
        missing_field,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_request",
    )
    .await;

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

    let unknown = plain.get("/api/nothing-here").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = plain.delete("/api/login").await;
    assert_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let unauthenticated = plain.get("/api/session").await;
    assert_error(unauthenticated, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn health_and_readiness() {
    let server = spawn().await;
    let plain = server.plain();
    assert_eq!(plain.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(plain.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_logins_checks_and_activity_writes() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    browser.fail_login("alice").await;
    browser.login("alice").await;
    for _ in 0..5 {
        browser.session_status().await;
    }
    let response = server.admin_token("prometheus").await.get("/metrics").await;
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

#[tokio::test]
async fn metrics_on_the_main_listener_are_for_administrators_only() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let anonymous = server.plain().get("/metrics").await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let user = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    assert_error(
        user.get("/metrics").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let session_token = server.plain().login_token("alice").await;
    let by_user_token = server.bearer(&session_token).get("/metrics").await;
    assert_error(by_user_token, StatusCode::FORBIDDEN, "forbidden").await;

    let by_token = server.admin_token("prometheus").await.get("/metrics").await;
    assert_eq!(by_token.status(), StatusCode::OK);
    assert!(
        by_token
            .text()
            .await
            .unwrap()
            .contains("sessiond_logins_total")
    );
    let admin = admin_browser(&server).await;
    assert_eq!(admin.get("/metrics").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_listen_serves_metrics_there_alone_and_without_credentials() {
    let server = spawn_with(|s| s.server.metrics_listen = Some("127.0.0.1:0".into())).await;
    let metrics = server.metrics_base.clone().expect("a metrics address");
    let client = reqwest::Client::new();
    let scraped = client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("sessiond_active_sessions")
    );
    for path in ["/api/session", "/login", "/healthz"] {
        let elsewhere = client.get(format!("{metrics}{path}")).send().await.unwrap();
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The main listener no longer has it, not even for an administrator.
    let by_token = server.admin_token("prometheus").await.get("/metrics").await;
    assert_eq!(by_token.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_token_of_one_session_is_refused_on_another() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    alice.login("alice").await;
    let bob = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    let page =
        async |b: &Browser| csrf_field(&b.get("/-/user/sessions").await.text().await.unwrap());
    let alices = page(&alice).await;
    let bobs = page(&bob).await;
    assert_ne!(alices, bobs);
    let form = [("csrf_token", alices.as_str())];
    let foreign = bob.post_form("/logout", &form).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(bob.session_status().await, StatusCode::OK);
    // Alice's own token works for her, and only in the session it was made for.
    let revoked = alice
        .post_form("/-/user/sessions/revoke-others", &form)
        .await;
    assert_is_redirect_to(&revoked, "/-/user/sessions");
    let again = alice.login_token("alice").await;
    let other_session = server
        .plain()
        .client
        .post(server.url("/logout"))
        .bearer_auth(again)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(other_session.status(), StatusCode::FORBIDDEN);
    // The key is the directory's, shared by every node.
    assert_eq!(
        server.query_one::<i64>("SELECT COUNT(*) FROM server_keys"),
        1
    );
}

#[tokio::test]
async fn a_planted_cookie_and_token_pair_is_refused() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let response = server
        .plain()
        .client
        .post(server.url("/login"))
        .header("cookie", format!("sessiond_csrf={planted}"))
        .form(&[
            ("csrf_token", planted),
            ("login", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(set_cookie(response.headers(), "sessiond_session"), None);
}

#[tokio::test]
async fn the_origin_must_match_the_public_urls_scheme_host_and_port() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let browser = server.browser(FIREFOX_UBUNTU);
    let other_port = if port == "1" { "2" } else { "1" };
    for origin in [
        format!("http://127.0.0.1:{other_port}"),
        format!("https://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        "null".to_owned(),
    ] {
        let response = browser
            .login_request("alice", PASSWORD, false)
            .header("origin", &origin)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let own = browser
        .login_request("alice", PASSWORD, false)
        .header(
            "origin",
            server.base.to_uppercase().replace("HTTP://", "http://"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
}
