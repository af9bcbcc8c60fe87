//! The example proxy configurations (`examples/nginx/`, `examples/caddy/`) run by the real
//! nginx and Caddy in front of a real sessiond: identity headers and client addresses reach
//! the application and the sessions, sign-in keeps the whole URL, a frozen node fails fast.

use crate::helpers::*;
use crate::proxy_servers::{Proxy, caddy, nginx, spawn_app};
use crate::services::free_port;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// Starts a proxy from its example with two sessiond nodes and the application.
type Start = fn(&str, &str, &str) -> Option<Proxy>;

/// Where the test's client connects from: a loopback address that is not the proxy's.
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// What the client claims to be in its own `X-Forwarded-For`; nobody trusts it.
const SPOOFED: &str = "203.0.113.7";

/// sessiond trusting only the proxy's address (127.0.0.1), raising an IP-spread alarm as soon
/// as a user's sessions span two addresses.
async fn sessiond() -> TestServer {
    spawn_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.alarms.ip_spread_threshold = 2;
    })
    .await
}

/// A client on [`CLIENT`] that does not follow redirects.
fn client() -> Client {
    Client::builder()
        .local_address(CLIENT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(FIREFOX_UBUNTU)
        .build()
        .unwrap()
}

/// Signs `login` in through the proxy; the session's token and public id.
async fn login_through(proxy: &Proxy, login: &str) -> (String, String) {
    let response = client()
        .post(proxy.url("/api/login"))
        .header("x-forwarded-for", SPOOFED)
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    (
        field("token"),
        body["session"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn signed_in_requests_reach_the_app_from_the_clients_address(start: Start) {
    let server = sessiond().await;
    let node = server.base.replace("http://", "");
    let app = spawn_app().await;
    let Some(proxy) = start(&node, &node, &app) else {
        return;
    };
    let alice = server.create_user("alice", false).await;
    let (token, session_id) = login_through(&proxy, "alice").await;
    login_through(&proxy, "alice").await;

    for spoofed in [Some(SPOOFED), None] {
        let mut request = client()
            .get(proxy.url("/app/x?a=1&b=2"))
            .bearer_auth(&token);
        if let Some(spoofed) = spoofed {
            request = request.header("x-forwarded-for", spoofed);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let seen: Value = response.json().await.unwrap();
        assert_eq!(seen["uri"], "/app/x?a=1&b=2");
        assert_eq!(seen["user"], "alice");
        assert_eq!(seen["user_id"], alice.to_string().as_str());
        assert_eq!(seen["session_id"], session_id.as_str());
        let forwarded_for = seen["forwarded_for"].as_str().unwrap();
        assert_eq!(
            forwarded_for.rsplit(',').next().map(str::trim),
            Some("127.0.0.2"),
            "the proxy appends the client's address: {forwarded_for}"
        );
    }

    // The login and the checks behind the proxy all resolve the client's address: the one
    // hop the proxy (the only trusted one) vouches for, not the proxy's nor the spoofed one.
    let sessions = server
        .service
        .sessions
        .list_by_user(alice, server.service.now())
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    for session in &sessions {
        assert_eq!(session.ip_address, CLIENT.to_string());
    }
    let alarms = server.service.list_alarms(false, 10, 0).await.unwrap();
    assert_eq!(alarms.total, 0, "no IP-spread alarm");
}

async fn signed_out_browsers_sign_in_and_come_back_to_the_whole_url(start: Start) {
    let server = sessiond().await;
    let node = server.base.replace("http://", "");
    let app = spawn_app().await;
    let Some(proxy) = start(&node, &node, &app) else {
        return;
    };
    let page = |path: &str| {
        client()
            .get(proxy.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
    };
    let refused = page("/app/x?a=1&b=2").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FOUND);
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/login?return_to=/app/x%3Fa%3D1%26b%3D2");
    let sign_in = page(&location).await.unwrap();
    assert_eq!(sign_in.status(), StatusCode::OK);
    let html = sign_in.text().await.unwrap();
    let marker = r#"name="return_to" value=""#;
    let start = html.find(marker).expect("a return_to field") + marker.len();
    let field = &html[start..start + html[start..].find('"').unwrap()];
    assert_eq!(
        field.replace("&#38;", "&"),
        "/app/x?a=1&b=2",
        "the sign-in form comes back to both parameters"
    );

    // A client that is no browser gets the 401 itself.
    let api = client().get(proxy.url("/app/x")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

async fn a_frozen_sessiond_fails_closed_within_seconds(start: Start) {
    // One node accepts connections and never answers; the other refuses them.
    let frozen = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let frozen_node = frozen.local_addr().unwrap().to_string();
    let refusing_node = format!("127.0.0.1:{}", free_port());
    let app = spawn_app().await;
    let Some(proxy) = start(&frozen_node, &refusing_node, &app) else {
        return;
    };
    for _ in 0..2 {
        let started = Instant::now();
        let response = client()
            .get(proxy.url("/app/x"))
            .bearer_auth("anything")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_server_error(), "{}", response.status());
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "answered after {:?}, not within the example's timeouts",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn nginx_passes_the_identity_and_the_clients_address() {
    signed_in_requests_reach_the_app_from_the_clients_address(nginx).await;
}

#[tokio::test]
async fn caddy_passes_the_identity_and_the_clients_address() {
    signed_in_requests_reach_the_app_from_the_clients_address(caddy).await;
}

#[tokio::test]
async fn nginx_sends_browsers_to_sign_in_with_the_whole_url() {
    signed_out_browsers_sign_in_and_come_back_to_the_whole_url(nginx).await;
}

#[tokio::test]
async fn caddy_sends_browsers_to_sign_in_with_the_whole_url() {
    signed_out_browsers_sign_in_and_come_back_to_the_whole_url(caddy).await;
}

#[tokio::test]
async fn nginx_fails_closed_quickly_when_sessiond_freezes() {
    a_frozen_sessiond_fails_closed_within_seconds(nginx).await;
}

#[tokio::test]
async fn caddy_fails_closed_quickly_when_sessiond_freezes() {
    a_frozen_sessiond_fails_closed_within_seconds(caddy).await;
}
