//! Scale-out: the HTTP flow on each pair of backends, failing closed when Redis goes away,
//! two nodes behind a real nginx sharing one Redis and one PostgreSQL, and a group
//! revocation followed on the node that did not start it.

use crate::groups_page::{groups_page_banner, preview};
use crate::helpers::*;
use crate::proxy_servers::{nginx, spawn_app};
use crate::services::{Backend, Isolated, PrivateRedis};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Isolated stores for sessions and directory, or `None` when a service is absent.
pub fn pair(sessions: Backend, directory: Backend) -> Option<(Isolated, Isolated)> {
    Some((sessions.isolated()?, directory.isolated()?))
}

pub async fn spawn_on(stores: &(Isolated, Isolated), max_per_user: u32) -> TestServer {
    let (sessions, directory) = (stores.0.url.clone(), stores.1.url.clone());
    spawn_with(move |s| {
        s.storage.sessions = sessions;
        s.storage.directory = directory;
        s.sessions.max_per_user = max_per_user;
    })
    .await
}

/// Sign-in, forward-auth, the limit, logout and blocking, as the HTTP suite checks on SQLite.
async fn representative_flow(sessions: Backend, directory: Backend) {
    let Some(stores) = pair(sessions, directory) else {
        return;
    };
    let server = spawn_on(&stores, 2).await;
    let alice = server.create_user("alice", false).await;
    let laptop = server.browser(FIREFOX_UBUNTU);
    let phone = server.browser(CHROME_ANDROID);
    assert_eq!(laptop.session_status().await, StatusCode::UNAUTHORIZED);
    let login = laptop.login("alice").await;
    phone.login("alice").await;

    let check = laptop.get("/api/session").await;
    assert_eq!(check.status(), StatusCode::OK);
    assert_eq!(check.headers()["x-sessiond-user"], "alice");
    assert_eq!(
        check.headers()["x-sessiond-user-id"],
        alice.to_string().as_str()
    );
    let body: Value = check.json().await.unwrap();
    assert_eq!(body["session"]["id"], login["session"]["id"]);

    let third = server.browser(SAFARI_IPAD);
    let refused = third.login_as("alice", PASSWORD, false).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    assert_eq!(laptop.logout().await.status(), StatusCode::NO_CONTENT);
    assert_eq!(laptop.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(phone.session_status().await, StatusCode::OK);
    third.login("alice").await;

    // Every node makes the same form tokens: their key is the directory's.
    let other_node = spawn_on(&stores, 2).await;
    let form_token = async |url: String| {
        let page = phone.client.get(url).send().await.unwrap();
        csrf_field(&page.text().await.unwrap())
    };
    assert_eq!(
        form_token(server.url("/-/user/sessions")).await,
        form_token(other_node.url("/-/user/sessions")).await
    );

    // Text no id, address or name holds finds nothing, never a store error (PostgreSQL
    // refuses a NUL).
    let admin = server.admin_token("ops").await;
    for id in ["%00", "a%0Ab"] {
        let path = format!("/api/admin/sessions/{id}");
        assert_error(
            admin.delete(&path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let nothing = admin.get("/api/admin/sessions?ip=%00").await;
    assert_error(nothing, StatusCode::BAD_REQUEST, "bad_request").await;
    let nobody = admin.get("/api/admin/sessions?user=%00").await;
    assert_eq!(nobody.status(), StatusCode::OK);
    assert_eq!(nobody.json::<Value>().await.unwrap()["total"], 0);
    let root = admin_browser(&server).await;
    let page = root.get("/admin/sessions?user=%00").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("No user"));
    for login in ["al\0ice", "alice\0@example.com"] {
        let refused = server
            .browser(FIREFOX_UBUNTU)
            .login_as(login, PASSWORD, false)
            .await;
        assert_error(refused, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }

    server.block("alice").await;
    assert_eq!(phone.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(third.session_status().await, StatusCode::UNAUTHORIZED);
    let ready = server.plain().get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn http_on_redis_sessions_and_sqlite_directory() {
    representative_flow(Backend::Redis, Backend::Sqlite).await;
}

#[tokio::test]
async fn http_on_redis_sessions_and_postgres_directory() {
    representative_flow(Backend::Redis, Backend::Postgres).await;
}

#[tokio::test]
async fn http_on_redis_cluster_sessions_and_postgres_directory() {
    representative_flow(Backend::RedisCluster, Backend::Postgres).await;
}

#[tokio::test]
async fn http_on_postgres_alone() {
    representative_flow(Backend::Postgres, Backend::Postgres).await;
}

/// The remember-me family rule ends sessions held in Redis through the stores' traits.
#[tokio::test]
async fn a_replayed_remember_me_token_ends_its_family_on_redis_and_postgres() {
    let Some(stores) = pair(Backend::Redis, Backend::Postgres) else {
        return;
    };
    let (sessions, directory) = (stores.0.url.clone(), stores.1.url.clone());
    let server = spawn_with_policy(
        move |s| {
            s.storage.sessions = sessions;
            s.storage.directory = directory;
            s.sessions.idle_timeout = duration("1s");
        },
        |p| p.remember_me_reuse_grace = Duration::ZERO,
    )
    .await;
    crate::auth::replaying_a_remember_me_token_ends_its_family(&server).await;
}

/// A server keeping sessions on `redis` and its directory in a SQLite file of its own (kept
/// while the returned guard lives).
async fn spawn_on_private_redis(redis: &PrivateRedis) -> Option<(TestServer, Isolated)> {
    let directory = Backend::Sqlite.isolated()?;
    let sessions = format!("redis://127.0.0.1:{}/0", redis.port);
    let url = directory.url.clone();
    let server = spawn_with(move |s| {
        s.storage.sessions = sessions;
        s.storage.directory = url;
    })
    .await;
    Some((server, directory))
}

#[tokio::test]
async fn a_redis_outage_fails_closed_and_the_node_recovers_by_itself() {
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let Some((server, _directory)) = spawn_on_private_redis(&redis).await else {
        return;
    };
    server.create_user("alice", false).await;
    let browser = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    assert_eq!(browser.session_status().await, StatusCode::OK);
    let plain = server.plain();
    let ready = async || plain.get("/readyz").await.status();
    assert_eq!(ready().await, StatusCode::OK);

    redis.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let check = browser.get("/api/session").await;
        assert_error(check, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable").await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "answers promptly"
        );
    }
    assert_eq!(ready().await, StatusCode::SERVICE_UNAVAILABLE);
    // A page fails closed too, with a page a person can read.
    let page = browser.get("/-/user/sessions").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );
    let login = server
        .browser(FIREFOX_UBUNTU)
        .login_as("alice", PASSWORD, false)
        .await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.session_status().await != StatusCode::OK {
        assert!(Instant::now() < deadline, "the node did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready().await, StatusCode::OK);
}

/// The audit events about session `id`, oldest first: kind and outcome.
async fn audit_of_session(server: &TestServer, id: &str) -> Vec<(String, String)> {
    let trail = server
        .service
        .audit_trail(&Default::default(), 100, 0)
        .await
        .unwrap();
    let about = trail.items.iter().rev();
    about
        .filter(|event| event.session_id.as_deref() == Some(id))
        .map(|event| {
            (
                event.kind.as_str().to_owned(),
                event.outcome.as_str().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_hung_redis_answers_within_the_bound_and_a_revocation_agrees_with_its_audit() {
    let Some(redis) = PrivateRedis::start() else {
        return;
    };
    let Some((server, _directory)) = spawn_on_private_redis(&redis).await else {
        return;
    };
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let id = browser.login("alice").await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An admin token is checked in the directory, so the revocation is what meets Redis.
    let (_, secret) = server
        .service
        .create_api_token("ops", &"test".into())
        .await
        .unwrap();
    let admin = server.bearer(secret.expose());
    let terminate = format!("/api/admin/sessions/{id}");

    redis.pause();
    let bound = Duration::from_millis(3500);
    let started = Instant::now();
    let login = server
        .browser(SAFARI_IPAD)
        .login_as("alice", PASSWORD, false)
        .await;
    let took = started.elapsed();
    assert_error(login, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable").await;
    assert!(took < bound, "a login answered after {took:?}");
    let started = Instant::now();
    let revocation = admin.delete(&terminate).await;
    let took = started.elapsed();
    assert_error(
        revocation,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    )
    .await;
    assert!(took < bound, "a revocation answered after {took:?}");

    // Let go, Redis runs what it was sent meanwhile: the revocation arrives past its
    // deadline and changes nothing, as its audit says.
    redis.unpause();
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.session_status().await != StatusCode::OK {
        assert!(Instant::now() < deadline, "the session did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let event = |kind: &str, outcome: &str| (kind.to_owned(), outcome.to_owned());
    assert_eq!(
        audit_of_session(&server, &id).await,
        [
            event("login_success", "success"),
            event("revocation_requested", "success"),
            event("session_revoked", "failure")
        ]
    );
    // Done again with Redis answering, it takes effect and says so.
    assert_eq!(
        admin.delete(&terminate).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(browser.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        audit_of_session(&server, &id).await[3..],
        [
            event("revocation_requested", "success"),
            event("session_revoked", "success")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_nginx_share_sessions_and_revocations() {
    let Some(stores) = pair(Backend::Redis, Backend::Postgres) else {
        return;
    };
    let node_a = spawn_on(&stores, 10).await;
    let node_b = spawn_on(&stores, 10).await;
    let app = spawn_app().await;
    let (a, b) = (
        node_a.base.replace("http://", ""),
        node_b.base.replace("http://", ""),
    );
    let Some(nginx) = nginx(&a, &b, &app) else {
        return;
    };
    node_a.create_user("alice", false).await;

    // Signed in on node A, the session works on node B.
    let token = node_a.browser(FIREFOX_UBUNTU).login_token("alice").await;
    assert_eq!(node_b.bearer(&token).session_status().await, StatusCode::OK);

    let via_nginx = Bearer::new(&nginx.url(""), &token);
    let through_nginx = async || {
        let response = via_nginx.get("/app/hello").await;
        let node = response.headers()["x-sessiond-node"]
            .to_str()
            .unwrap()
            .to_owned();
        let status = response.status();
        let user = response
            .json::<Value>()
            .await
            .ok()
            .map(|body| body["user"].clone());
        (status, node, user)
    };
    let mut nodes = HashSet::new();
    for _ in 0..4 {
        let (status, node, user) = through_nginx().await;
        assert_eq!((status, user), (StatusCode::OK, Some("alice".into())));
        nodes.insert(node);
    }
    assert_eq!(
        nodes,
        HashSet::from([a.clone(), b.clone()]),
        "both nodes answer"
    );

    // Revoked on node A: the very next check that node B answers through nginx is a 401.
    assert_eq!(node_a.bearer(&token).logout().await, StatusCode::NO_CONTENT);
    let mut answered_by_b = false;
    for _ in 0..2 {
        let (status, node, _) = through_nginx().await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "answered by {node}");
        answered_by_b |= node == b;
    }
    assert!(answered_by_b, "node B answered one of the checks");
}

/// A group revocation confirmed on node A is followed on node B, as a load balancer without
/// sticky sessions sends the browser: its progress page, its status and its outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_revocation_started_on_one_node_is_followed_on_another() {
    let Some(stores) = pair(Backend::Redis, Backend::Sqlite) else {
        return;
    };
    let node_a = spawn_on(&stores, 10).await;
    let node_b = spawn_on(&stores, 10).await;
    let api = node_a.admin_token("ops").await;
    api.post_json("/api/admin/groups", &json!({"path": "staff"}))
        .await
        .error_for_status()
        .unwrap();
    for user in ["alice", "bob"] {
        node_a.create_user(user, false).await;
        api.post_json("/api/admin/groups/staff/members", &json!({"user": user}))
            .await
            .error_for_status()
            .unwrap();
    }
    let alice = node_a.signed_in(FIREFOX_UBUNTU, "alice").await;
    let bob = node_b.signed_in(CHROME_ANDROID, "bob").await;
    let admin_a = admin_browser(&node_a).await;
    // The same browser sent to node B: cookies do not tell ports apart.
    let admin_b = Browser {
        client: admin_a.client.clone(),
        base: node_b.base.clone(),
    };

    let (_, csrf, fingerprint) = preview(&admin_a, 1).await;
    let response = admin_a
        .post_form(
            "/admin/groups/1/revoke",
            &[("csrf_token", &csrf), ("members", &fingerprint)],
        )
        .await;
    let progress = redirect_target(&response);
    let status_url = format!("{progress}/status");
    let (status, body) = admin_b.get_json(&status_url).await;
    assert_eq!(status, StatusCode::OK, "node B knows it: {body}");
    let outcome = loop {
        let response = admin_b.get(&progress).await;
        match response.status() {
            StatusCode::SEE_OTHER => break redirect_target(&response),
            StatusCode::OK => {
                let html = response.text().await.unwrap();
                assert!(html.contains("Revoking the sessions of staff"), "{html}");
            }
            other => panic!("node B answered {other}"),
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(outcome, "/admin/groups");
    assert_eq!(
        groups_page_banner(&admin_b).await,
        "Revoked 2 sessions of 2 users in group staff."
    );
    let (_, body) = admin_b.get_json(&status_url).await;
    assert_eq!(body, json!({"done": 2, "total": 2, "finished": true}));
    assert_eq!(alice.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(bob.session_status().await, StatusCode::UNAUTHORIZED);
    // Another administrator's session sees it on neither node.
    let other = node_b.signed_in(CHROME_ANDROID, "root").await;
    assert_eq!(other.get(&progress).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.get(&status_url).await.status(), StatusCode::NOT_FOUND);
}

/// How Redis fails a command-line block once the block is in the directory.
#[derive(Clone, Copy, PartialEq)]
enum Outage {
    /// It hangs (SIGSTOP), and runs what it was sent once let go on.
    Hangs,
    /// It goes away, and what the block sent it is lost: the user's stamp stays as it was.
    GoesAway,
}

/// `sessiond users block` meets `outage` after its commit: it says the sessions could not
/// all be ended and to run it again, and the check refuses the session once Redis is back.
async fn a_block_meets(outage: Outage) {
    use std::io::{BufRead, BufReader, Write};
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let Some((server, directory)) = spawn_on_private_redis(&redis).await else {
        return;
    };
    server.create_user("alice", false).await;
    let browser = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    // Remembered by the check, with the stamp it read.
    for _ in 0..2 {
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    let sessions = format!("redis://127.0.0.1:{}/0", redis.port);
    let block = || {
        let mut command = crate::cli::sessiond(server.dir());
        command
            .env("SESSIOND_STORAGE__SESSIONS", &sessions)
            .env("SESSIOND_STORAGE__DIRECTORY", &directory.url)
            .args(["users", "block", "alice"]);
        command
    };

    // Redis hangs once the block is in the directory: ending the sessions fails.
    let mut child = block()
        .env("SESSIOND_TEST_HOLD_AFTER", "user_blocked")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line, "held after user_blocked\n");
    match outage {
        Outage::Hangs => redis.pause(),
        Outage::GoesAway => redis.stop(),
    }
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(
        said.starts_with("error: blocked alice, but their sessions could not all be ended ("),
        "{said}"
    );
    assert!(
        said.contains("run `sessiond users block alice` again"),
        "{said}"
    );
    // The check fails closed while Redis is away, and refuses the session once it answers.
    let away = browser.get("/api/session").await;
    assert_error(away, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable").await;
    match outage {
        Outage::Hangs => redis.unpause(),
        Outage::GoesAway => redis.resume(),
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let answered = loop {
        let status = browser.session_status().await;
        if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answered, StatusCode::UNAUTHORIZED);

    // Run again with Redis answering, the block ends the sessions and says so.
    let again = block().output().unwrap();
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        crate::cli::text(&again.stdout),
        "Blocked alice; 1 active session(s) ended.\n"
    );
}

#[tokio::test]
async fn a_block_while_redis_hangs_is_refused_and_the_command_says_to_run_it_again() {
    a_block_meets(Outage::Hangs).await;
}

#[tokio::test]
async fn a_block_whose_session_ending_is_lost_is_refused_by_the_check_all_the_same() {
    a_block_meets(Outage::GoesAway).await;
}
