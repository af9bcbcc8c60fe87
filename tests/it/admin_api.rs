//! The admin REST API: access control, paging, filters, termination, tokens, alarms.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn every_admin_endpoint_wants_an_administrator() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let anonymous = server.browser(FIREFOX_UBUNTU);
    let user = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let admin = admin_browser(&server).await;
    let endpoints = [
        ("GET", "/api/admin/sessions"),
        ("DELETE", "/api/admin/sessions?userId=1"),
        ("DELETE", "/api/admin/sessions/some-id"),
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users/1/block"),
        ("POST", "/api/admin/users/1/unblock"),
        ("POST", "/api/admin/users/1/unlock"),
        ("GET", "/api/admin/audit"),
        ("GET", "/api/admin/alarms"),
        ("POST", "/api/admin/alarms/1/acknowledge"),
    ];
    for (method, path) in endpoints {
        let method: reqwest::Method = method.parse().unwrap();
        let send = |b: &Browser| b.client.request(method.clone(), b.url(path)).send();
        let none = send(&anonymous).await.unwrap();
        assert_error(none, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let forbidden = send(&user).await.unwrap();
        assert_error(forbidden, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Reads succeed for the admin; nothing above changed anything for alice.
    for path in [
        "/api/admin/sessions",
        "/api/admin/users",
        "/api/admin/audit",
        "/api/admin/alarms",
    ] {
        assert_eq!(admin.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(user.session_status().await, StatusCode::OK);
}

#[tokio::test]
async fn sessions_page_through_120_and_filter() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    let bob = server.create_user("bob", false).await;
    seed_sessions(&server, alice, "alice", 100, "198.51.100.1").await;
    seed_sessions(&server, bob, "bob", 20, "203.0.113.9").await;

    let (status, first) = admin.get_json("/api/admin/sessions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["total"], 121, "120 seeded and the admin's own");
    assert_eq!(first["limit"], 50);
    assert_eq!(first["offset"], 0);
    assert_eq!(first["sessions"].as_array().unwrap().len(), 50);

    let mut seen = std::collections::HashSet::new();
    for offset in [0, 50, 100] {
        let (_, page) = admin
            .get_json(&format!("/api/admin/sessions?limit=50&offset={offset}"))
            .await;
        for session in page["sessions"].as_array().unwrap() {
            assert!(
                seen.insert(session["id"].as_str().unwrap().to_owned()),
                "no repeats across pages"
            );
        }
    }
    assert_eq!(seen.len(), 121);
    let (_, past_end) = admin.get_json("/api/admin/sessions?offset=500").await;
    assert_eq!(past_end["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(past_end["total"], 121);
    let (_, max) = admin.get_json("/api/admin/sessions?limit=500").await;
    assert_eq!(max["sessions"].as_array().unwrap().len(), 121);

    let (_, by_user) = admin
        .get_json(&format!("/api/admin/sessions?userId={bob}&limit=500"))
        .await;
    assert_eq!(by_user["total"], 20);
    assert!(
        by_user["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["username"] == "bob")
    );
    let (_, by_ip) = admin.get_json("/api/admin/sessions?ip=198.51.100.1").await;
    assert_eq!(by_ip["total"], 100);
    let (_, both) = admin
        .get_json(&format!("/api/admin/sessions?userId={bob}&ip=198.51.100.1"))
        .await;
    assert_eq!(both["total"], 0);

    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "offset=-1",
        "userId=alice",
    ] {
        let response = admin.get(&format!("/api/admin/sessions?{bad}")).await;
        assert_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
    }
}

#[tokio::test]
async fn expired_sessions_are_not_listed() {
    let server = spawn_with(|s| {
        s.sessions.idle_timeout = duration("1s");
        s.sessions.activity_write_interval = Some(duration("0s"));
    })
    .await;
    server.create_user("alice", false).await;
    let admin = admin_browser(&server).await;
    server.browser(CHROME_ANDROID).login("alice").await;
    let (_, before) = admin.get_json("/api/admin/sessions").await;
    assert_eq!(before["total"], 2);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    admin.get("/api/session").await; // keeps the admin's own session fresh
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (_, after) = admin.get_json("/api/admin/sessions").await;
    assert_eq!(
        after["total"], 1,
        "alice's idle session is still stored but not shown"
    );
    assert_eq!(after["sessions"][0]["username"], "root");
}

#[tokio::test]
async fn terminating_one_session_kills_it_everywhere_and_is_audited() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    let victim = server.browser(CHROME_ANDROID);
    let other = server.browser(SAFARI_IPAD);
    let login = victim.login_remembered("alice").await;
    let id = login.json::<Value>().await.unwrap()["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    other.login("alice").await;

    let response = admin.delete(&format!("/api/admin/sessions/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        victim.session_status().await,
        StatusCode::UNAUTHORIZED,
        "remember-me died too"
    );
    let page = victim.get("/admin/sessions").await;
    assert!(redirect_target(&page).starts_with("/login"));
    assert_eq!(other.session_status().await, StatusCode::OK);

    let again = admin.delete(&format!("/api/admin/sessions/{id}")).await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;

    let (_, audit) = admin
        .get_json(&format!(
            "/api/admin/audit?userId={alice}&kind=session_revoked"
        ))
        .await;
    let event = &audit["events"][0];
    assert_eq!(event["actor"], "user:root");
    assert_eq!(event["subject_username"], "alice");
    assert_eq!(event["session_id"], id.as_str());
    // "From where": the administrator's own address and browser; the ended session's own
    // device and address in the reason.
    assert_eq!(event["ip_address"], "127.0.0.1");
    assert_eq!(event["user_agent"], FIREFOX_UBUNTU);
    let reason = event["reason"].as_str().unwrap();
    assert!(
        reason.ends_with("; the session: Chrome on Android at 127.0.0.1"),
        "{reason}"
    );
}

#[tokio::test]
async fn logout_all_devices_ends_all_five() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(server.signed_in(FIREFOX_UBUNTU, "alice").await);
    }
    let bobs = server.signed_in(SAFARI_IPAD, "bob").await;
    let response = admin
        .delete(&format!("/api/admin/sessions?userId={alice}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["revoked"], 5);
    for device in &devices {
        assert_eq!(device.session_status().await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(bobs.session_status().await, StatusCode::OK);

    let missing = admin.delete("/api/admin/sessions").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown = admin.delete("/api/admin/sessions?userId=9999").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_admin_cannot_terminate_their_own_current_session() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let (_, whoami) = admin.get_json("/api/session").await;
    let own = whoami["session"]["id"].as_str().unwrap();
    let response = admin.delete(&format!("/api/admin/sessions/{own}")).await;
    let message = assert_error(response, StatusCode::CONFLICT, "current_session").await;
    assert!(message.contains("log out"), "{message}");
    assert_eq!(
        admin.session_status().await,
        StatusCode::OK,
        "still signed in"
    );
    // Another session of the same administrator ends as any other.
    let laptop = server.signed_in(CHROME_ANDROID, "root").await;
    let (_, other) = laptop.get_json("/api/session").await;
    let other = other["session"]["id"].as_str().unwrap();
    let response = admin.delete(&format!("/api/admin/sessions/{other}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(laptop.session_status().await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_owner_can_be_terminated_and_log_in_again() {
    let server = spawn().await;
    let password = server.service.ensure_owner().await.unwrap().unwrap();
    let owner = server.browser(FIREFOX_UBUNTU);
    let login: Value = owner
        .login_as("admin", password.expose(), false)
        .await
        .json()
        .await
        .unwrap();
    let id = login["session"]["id"].as_str().unwrap();
    let other_admin = admin_browser(&server).await;
    let response = other_admin
        .delete(&format!("/api/admin/sessions/{id}"))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(owner.session_status().await, StatusCode::UNAUTHORIZED);
    let again = owner.login_as("admin", password.expose(), false).await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn users_listing_and_row_actions() {
    let server = spawn_with(|s| s.login.lockout_threshold = 2).await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let device = server.browser(CHROME_ANDROID);
    device.login("alice").await;
    let newest = device.login("alice").await;
    let (_, page) = admin.get_json("/api/admin/users").await;
    assert_eq!(page["total"], 3);
    let rows = page["users"].as_array().unwrap();
    let row_of = |name: &str| rows.iter().find(|u| u["username"] == name).unwrap().clone();
    let row = row_of("alice");
    assert_eq!(row["active_sessions"], 2);
    assert_eq!(row["last_active_at"], newest["session"]["last_active_at"]);
    assert_eq!(row["state"], "active");
    assert_eq!(row_of("bob")["active_sessions"], 0);
    assert!(row_of("bob")["last_active_at"].is_null());
    // A later page counts its own rows.
    let (_, page) = admin.get_json("/api/admin/users?limit=1&offset=1").await;
    assert_eq!(page["users"][0]["username"], "alice");
    assert_eq!(page["users"][0]["active_sessions"], 2);

    let blocked = admin.post(&format!("/api/admin/users/{alice}/block")).await;
    assert_eq!(blocked.status(), StatusCode::OK);
    assert_eq!(blocked.json::<Value>().await.unwrap()["revoked"], 2);
    assert_eq!(device.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        admin
            .post(&format!("/api/admin/users/{alice}/unblock"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let stranger = server.browser(FIREFOX_UBUNTU);
    stranger.fail_login("alice").await;
    assert_eq!(
        stranger.fail_login("alice").await.status(),
        StatusCode::LOCKED
    );
    let (_, page) = admin.get_json("/api/admin/users").await;
    let row = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice")
        .unwrap()
        .clone();
    assert!(row["locked_until"].is_string());
    assert_eq!(
        admin
            .post(&format!("/api/admin/users/{alice}/unlock"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    stranger.login("alice").await;

    assert_eq!(
        admin.post("/api/admin/users/9999/block").await.status(),
        StatusCode::NOT_FOUND
    );
    let bad = admin.post("/api/admin/users/alice/block").await;
    assert_error(bad, StatusCode::BAD_REQUEST, "bad_request").await;
}

#[tokio::test]
async fn audit_listing_filters_and_pages() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    let device = server.browser(FIREFOX_UBUNTU);
    for _ in 0..3 {
        device.fail_login("alice").await;
    }
    let (_, failures) = admin
        .get_json(&format!(
            "/api/admin/audit?userId={alice}&kind=login_failure&limit=2"
        ))
        .await;
    assert_eq!(failures["total"], 3);
    assert_eq!(failures["events"].as_array().unwrap().len(), 2);
    assert_eq!(failures["events"][0]["outcome"], "failure");
    assert!(
        failures["events"][0]["id"].as_i64() > failures["events"][1]["id"].as_i64(),
        "newest first"
    );
    let bad = admin.get("/api/admin/audit?kind=nonsense").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // A name that matches no account is recorded as tried, escaped and cut short.
    let long = format!("mallory\"\n{}", "x".repeat(100));
    for tried in ["nobody", long.as_str()] {
        device.login_as(tried, "wrong password!", false).await;
    }
    let (_, unknown) = admin
        .get_json("/api/admin/audit?kind=login_failure&limit=2")
        .await;
    let reasons: Vec<&str> = unknown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["reason"].as_str().unwrap())
        .collect();
    let cut: String = long.chars().take(64).collect();
    assert_eq!(
        reasons,
        [
            format!("unknown login {cut:?}"),
            "unknown login \"nobody\"".to_owned()
        ]
    );
    assert!(
        reasons[0].starts_with(r#"unknown login "mallory\"\n"#),
        "{}",
        reasons[0]
    );
}

#[tokio::test]
async fn admin_api_tokens_authenticate_until_revoked() {
    let server = spawn().await;
    let alice = server.create_user("alice", false).await;
    let device = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let (_, secret) = server
        .service
        .create_api_token("offboarding-script", &"test".into())
        .await
        .unwrap();
    let script = server.bearer(secret.expose());
    let offboard = format!("/api/admin/sessions?userId={alice}");
    let call = || script.delete(&offboard);
    let response = call().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["revoked"], 1);
    assert_eq!(device.session_status().await, StatusCode::UNAUTHORIZED);
    let actor: String =
        server.query_one("SELECT actor FROM audit_events WHERE kind = 'session_revoked'");
    assert_eq!(actor, "token:offboarding-script");
    // An admin token is not a session: the forward-auth check does not accept it.
    assert_eq!(script.session_status().await, StatusCode::UNAUTHORIZED);

    server
        .service
        .revoke_api_token("offboarding-script", &"test".into())
        .await
        .unwrap();
    assert_eq!(call().await.status(), StatusCode::UNAUTHORIZED);
    let forged = server
        .bearer("sat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .get("/api/admin/sessions")
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ip_spread_raises_one_alarm_at_the_fourth_address() {
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    let plain = server.plain();
    let login_from = |ip: &'static str| plain.login_from("alice", ip);
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(login_from(ip).await.status(), StatusCode::CREATED);
    }
    let (_, none) = admin.get_json("/api/admin/alarms").await;
    assert_eq!(none["total"], 0, "three addresses are below the threshold");
    login_from("192.0.2.4").await;
    let kinds = audit_kinds(&server);
    assert_eq!(&kinds[kinds.len() - 2..], ["alarm_raised", "login_success"]);
    login_from("192.0.2.4").await;
    login_from("192.0.2.10").await;
    let (_, open) = admin.get_json("/api/admin/alarms").await;
    assert_eq!(
        open["total"], 1,
        "one open alarm per user, not one per request"
    );
    let alarm = &open["alarms"][0];
    assert_eq!(alarm["username"], "alice");
    assert_eq!(
        alarm["ip_addresses"],
        serde_json::json!([
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.10"
        ]),
        "sorted as numbers"
    );
    let id = alarm["id"].as_i64().unwrap();
    let acknowledge = format!("/api/admin/alarms/{id}/acknowledge");
    let ack = admin.post(&acknowledge).await;
    assert_eq!(ack.status(), StatusCode::OK);
    assert_eq!(
        ack.json::<Value>().await.unwrap()["acknowledged_by"],
        "user:root"
    );
    let (_, after) = admin.get_json("/api/admin/alarms").await;
    assert_eq!(after["total"], 0);
    assert_eq!(
        admin.post(&acknowledge).await.status(),
        StatusCode::NOT_FOUND
    );

    login_from("192.0.2.6").await;
    let (_, later) = admin.get_json("/api/admin/alarms?state=all").await;
    assert_eq!(later["total"], 2, "a later spread raises a new alarm");
    let (_, reopened) = admin.get_json("/api/admin/alarms").await;
    assert_eq!(reopened["total"], 1);
}

#[tokio::test]
async fn group_revocation_over_http_dry_run_then_live() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    server.create_user("carol", false).await;
    let service = &server.service;
    service
        .create_group("acme/platform", None, true, &"test".into())
        .await
        .unwrap();
    let platform = service.find_group("acme/platform").await.unwrap();
    let acme = service.find_group("acme").await.unwrap();
    for (group, user) in [(&platform, "alice"), (&acme, "bob")] {
        let user = service.find_user(user).await.unwrap();
        service
            .add_group_member(group, &user, &"test".into())
            .await
            .unwrap();
    }
    let alices = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let bobs = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    let carols = server.signed_in(FIREFOX_UBUNTU, "carol").await;

    let revoke = async |query: &str| {
        let path = format!("/api/admin/groups/acme%2Fplatform/revoke-sessions{query}");
        admin.post(&path).await
    };
    let dry = revoke("?dry_run=true").await;
    assert_eq!(dry.status(), StatusCode::OK);
    let dry: Value = dry.json().await.unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["group"]["path"], "acme/platform");
    assert_eq!(
        dry["members"], 2,
        "alice directly, bob through the parent group"
    );
    assert_eq!(dry["sessions"], 2);
    assert!(
        dry["report"]
            .as_str()
            .unwrap()
            .contains("[DRY RUN] Would revoke 2 sessions for 2 users")
    );
    assert_eq!(
        alices.session_status().await,
        StatusCode::OK,
        "a dry run changes nothing"
    );

    let live: Value = revoke("?dry_run=false").await.json().await.unwrap();
    assert_eq!(live["dry_run"], false);
    assert_eq!(live["sessions"], 2);
    assert!(
        live["report"]
            .as_str()
            .unwrap()
            .contains("=== Session Revocation (LIVE) ===")
    );
    assert_eq!(alices.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(bobs.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        carols.session_status().await,
        StatusCode::OK,
        "not a member"
    );
    let again: Value = revoke("").await.json().await.unwrap();
    assert_eq!(again["sessions"], 0);

    let by_id = admin
        .post(&format!("/api/admin/groups/{}/revoke-sessions", acme.id))
        .await;
    assert_eq!(by_id.status(), StatusCode::OK);
    assert_eq!(
        revoke("?dry_run=maybe").await.status(),
        StatusCode::BAD_REQUEST
    );
    let missing = admin
        .post("/api/admin/groups/nowhere%2Fat-all/revoke-sessions?dry_run=false")
        .await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    let as_user = carols.post("/api/admin/groups/acme/revoke-sessions").await;
    assert_eq!(as_user.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn nobody_blocks_the_owner_and_no_administrator_blocks_themselves() {
    let server = spawn().await;
    server.service.ensure_owner().await.unwrap();
    let id_of = async |name: &str| server.service.find_user(name).await.unwrap().id;
    let owner = id_of("admin").await;
    let root = admin_browser(&server).await;
    let myself = id_of("root").await;
    let state = |id: i64| -> String {
        server.query_one(&format!("SELECT state FROM users WHERE id = {id}"))
    };

    let response = root.post(&format!("/api/admin/users/{owner}/block")).await;
    let message = assert_error(response, StatusCode::CONFLICT, "owner_protected").await;
    assert_eq!(message, "the owner account cannot be blocked");
    let response = root.post(&format!("/api/admin/users/{myself}/block")).await;
    let message = assert_error(response, StatusCode::CONFLICT, "cannot_block_self").await;
    assert_eq!(message, "you cannot block yourself");

    let html = root.get("/admin/users").await.text().await.unwrap();
    let csrf = csrf_field(&html);
    let form = [("csrf_token", csrf.as_str())];
    let back = root
        .post_form(&format!("/admin/users/{owner}/block"), &form)
        .await;
    let target = redirect_target(&back);
    assert_eq!(target, "/admin/users");
    let page = root.get(&target).await.text().await.unwrap();
    assert!(page.contains("The owner account cannot be blocked, demoted or deleted."));

    let cli = server.cli(&["users", "block", "admin"]);
    assert_eq!(cli.status.code(), Some(2));
    let stderr = crate::cli::text(&cli.stderr);
    assert!(
        stderr.contains("the owner account cannot be blocked"),
        "{stderr}"
    );

    assert_eq!(state(owner), "active");
    assert_eq!(state(myself), "active");
    assert_eq!(root.session_status().await, StatusCode::OK);
}

/// `expires_at` is the absolute expiry; `idle_expires_at` the idle deadline before it. The
/// Sessions page shows the first with the second under it.
#[tokio::test]
async fn expires_at_is_the_absolute_expiry_and_idle_expires_at_the_idle_deadline() {
    use sessiond::domain::time::Timestamp;
    let server = spawn_with(|s| {
        s.sessions.idle_timeout = duration("30m");
        s.sessions.absolute_lifetime = duration("24h");
    })
    .await;
    let admin = admin_browser(&server).await;
    let alice = server.create_user("alice", false).await;
    let login = server.browser(FIREFOX_UBUNTU).login("alice").await;
    let id = login["session"]["id"].as_str().unwrap().to_owned();
    let stored = |column: &str| {
        let millis: i64 =
            server.query_one(&format!("SELECT {column} FROM sessions WHERE id = '{id}'"));
        Timestamp(millis).to_rfc3339()
    };
    let (absolute, idle) = (stored("absolute_expires_at"), stored("expires_at"));
    assert!(idle < absolute);
    assert_eq!(login["session"]["expires_at"], absolute.as_str());
    assert_eq!(login["session"]["idle_expires_at"], idle.as_str());
    let (_, page) = admin
        .get_json(&format!("/api/admin/sessions?userId={alice}"))
        .await;
    let listed = &page["sessions"][0];
    assert_eq!(listed["expires_at"], absolute.as_str());
    assert_eq!(listed["idle_expires_at"], idle.as_str());

    let html = admin
        .get("/admin/sessions?user=alice")
        .await
        .text()
        .await
        .unwrap();
    let cell = &html[html.find("data-label=\"Expires\"").unwrap()..];
    let cell = &cell[..cell.find("</td>").unwrap()];
    let first = cell.find(&format!("datetime=\"{absolute}\"")).expect(cell);
    let second = cell
        .find(&format!("idle: <time datetime=\"{idle}\""))
        .expect(cell);
    assert!(first < second, "{cell}");
}

/// Sessions remember the address they were created from beside the one last used from, and
/// the filters find them by a username's start in any case, or by either address as an
/// address, its start or a network; a malformed one is a 400 that says what is accepted.
#[tokio::test]
async fn sessions_keep_their_first_address_and_filter_by_user_prefix_and_network() {
    let server =
        spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let admin = admin_browser(&server).await;
    server.create_user("alice", false).await;
    server.create_user("alina", false).await;
    server.create_user("bob", false).await;
    let mut ids = std::collections::BTreeMap::new();
    for (user, ip) in [
        ("alice", "10.1.2.3"),
        ("alina", "10.2.0.1"),
        ("bob", "2001:db8::5"),
    ] {
        let device = server.browser(FIREFOX_UBUNTU);
        let login: Value = device.login_from(user, ip).await.json().await.unwrap();
        assert_eq!(login["session"]["ip_address"], ip);
        assert_eq!(login["session"]["last_ip_address"], ip);
        ids.insert(
            user,
            (device, login["session"]["id"].as_str().unwrap().to_owned()),
        );
    }
    // alice's session is used from elsewhere: the first address stays, the last is the new.
    let (alice, alice_id) = &ids["alice"];
    let seen = alice
        .client
        .get(alice.url("/api/session"))
        .header("x-forwarded-for", "192.0.2.77")
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), StatusCode::OK);

    let listed = async |query: &str| -> Vec<String> {
        let (status, page) = admin
            .get_json(&format!("/api/admin/sessions?{query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        let mut users: Vec<String> = page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["username"].as_str().unwrap().to_owned())
            .collect();
        users.sort();
        users
    };
    assert_eq!(listed("user=ALI").await, ["alice", "alina"]);
    assert_eq!(listed("user=alic").await, ["alice"]);
    assert_eq!(listed("user=alice%40example.com").await, ["alice"]);
    assert!(listed("user=zed").await.is_empty());
    assert_eq!(listed("ip=10.0.0.0/8").await, ["alice", "alina"]);
    assert_eq!(listed("ip=10.1.").await, ["alice"]);
    assert_eq!(
        listed("ip=192.0.2.77").await,
        ["alice"],
        "by the address used since"
    );
    assert_eq!(
        listed("ip=10.1.2.3").await,
        ["alice"],
        "by the first address"
    );
    assert_eq!(listed("ip=2001:db8::/32").await, ["bob"]);
    assert_eq!(listed("ip=2001:DB8:").await, ["bob"]);
    assert_eq!(listed("user=al&ip=10.2.0.0/16").await, ["alina"]);

    let (_, page) = admin.get_json("/api/admin/sessions?ip=10.1.2.3").await;
    let session = &page["sessions"][0];
    assert_eq!(session["id"], alice_id.as_str());
    assert_eq!(session["ip_address"], "10.1.2.3");
    assert_eq!(session["last_ip_address"], "192.0.2.77");

    for bad in ["ip=10.0.0.0/33", "ip=not-an-address", "ip=10.0.0.1%00"] {
        let response = admin.get(&format!("/api/admin/sessions?{bad}")).await;
        let message = assert_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
        assert!(message.contains("10.0.0.0/8"), "{bad}: {message}");
    }
    let both = admin.get("/api/admin/sessions?userId=2&user=alice").await;
    assert_error(both, StatusCode::BAD_REQUEST, "bad_request").await;
}
