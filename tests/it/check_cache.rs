//! The session check answers repeated checks from memory, and still sees at the very next
//! request every change made by another process (SQLite) or another node (Redis).

use crate::cli;
use crate::helpers::*;
use crate::scale_out::{pair, spawn_on};
use crate::services::{Backend, PrivateRedis, redis_cli};
use reqwest::StatusCode;
use sessiond::config::{OnLimit, Settings};
use sessiond::domain::session::ClientInfo;
use sessiond::domain::token::SecretToken;
use sessiond::domain::user::User;
use sessiond::service::auth::Credentials;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn cache_hits(server: &TestServer) -> u64 {
    server.service.metrics.check_cache_hits.get()
}

/// Checks `browser`'s session until `server` answers one from memory.
async fn warm(server: &TestServer, browser: &Browser) {
    let before = cache_hits(server);
    // The first check learns the user, the second reads under the user's stamp, the third hits.
    for _ in 0..3 {
        assert_eq!(browser.session_status().await, StatusCode::OK);
    }
    assert!(
        cache_hits(server) > before,
        "the third check of a session is answered from memory"
    );
}

/// The user the check of `token` on `server` answers with (the HTTP answer shows only part).
async fn checked_user(server: &TestServer, token: &str) -> User {
    let credentials = Credentials {
        session_token: SecretToken::parse(token),
        remember_token: None,
    };
    let found = server
        .service
        .authenticate(&credentials, &ClientInfo::default())
        .await
        .unwrap();
    found.expect("a valid session").user.clone()
}

#[tokio::test]
async fn a_remembered_session_is_revoked_by_another_process_at_the_next_request() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let bob = server.signed_in(CHROME_ANDROID, "bob").await;
    warm(&server, &alice).await;
    warm(&server, &bob).await;

    server.cli_ok(&["sessions", "revoke", "--user", "alice"]);
    assert_eq!(alice.session_status().await, StatusCode::UNAUTHORIZED);
    // Another user's remembered session is untouched.
    let hits = cache_hits(&server);
    assert_eq!(bob.session_status().await, StatusCode::OK);
    assert_eq!(cache_hits(&server), hits + 1);

    server.cli_ok(&["users", "block", "bob"]);
    assert_eq!(bob.session_status().await, StatusCode::UNAUTHORIZED);
}

/// Runs the binary on `server`'s store with `args`, stopped right after its revocation's
/// commit (see `store::pause_point`), and kills it there with SIGKILL.
fn kill_after_the_revocation_commit(server: &TestServer, args: &[&str]) {
    use std::io::{BufRead, BufReader};
    let mut child = cli::sessiond(server.dir())
        .env("SESSIOND_TEST_PAUSE_AFTER", "revocation_commit")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let paused = stderr
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "paused after revocation_commit");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(paused, "{args:?} did not reach its commit");
}

/// The kinds and outcomes of the audit events about `username`, oldest first.
fn audit_of(server: &TestServer, username: &str) -> Vec<(String, String)> {
    let db = server.db();
    let mut read = db
        .prepare(
            "SELECT kind, outcome FROM audit_events WHERE subject_username = ?1 \
             AND kind IN ('revocation_requested', 'session_revoked') ORDER BY id",
        )
        .unwrap();
    read.query_map([username], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_revocation_killed_right_after_its_commit_is_refused_at_once_and_in_the_audit() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    server.create_user("bob", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let bob = server.signed_in(CHROME_ANDROID, "bob").await;
    warm(&server, &alice).await;
    warm(&server, &bob).await;

    for (browser, args) in [
        (&alice, &["sessions", "revoke", "--user", "alice"][..]),
        (&bob, &["users", "block", "bob"]),
    ] {
        kill_after_the_revocation_commit(&server, args);
        assert_eq!(
            browser.session_status().await,
            StatusCode::UNAUTHORIZED,
            "{args:?}: the remembered session is refused at the next request"
        );
    }
    // Killed before its outcome was written, each revocation's request is in the trail.
    for username in ["alice", "bob"] {
        assert_eq!(
            audit_of(&server, username),
            [("revocation_requested".to_owned(), "success".to_owned())]
        );
    }
}

#[tokio::test]
async fn a_failed_login_shows_in_the_next_check() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let token = &server.browser(FIREFOX_UBUNTU).login_token("alice").await;
    for _ in 0..3 {
        assert_eq!(checked_user(&server, token).await.failed_logins, 0);
    }
    assert!(cache_hits(&server) > 0);
    fail_login(&server, "alice").await;
    assert_eq!(checked_user(&server, token).await.failed_logins, 1);
}

/// A sign-in with a wrong password, which counts against the user.
async fn fail_login(server: &TestServer, username: &str) {
    let wrong = server.browser(SAFARI_IPAD).fail_login(username).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

/// `GET /api/session` on the node at `base` with the token as a bearer credential.
async fn check(base: &str, token: &str) -> StatusCode {
    Bearer::new(base, token).session_status().await
}

/// `POST /api/logout` on the node at `base` with the token as a bearer credential.
async fn logout(base: &str, token: &str) -> StatusCode {
    Bearer::new(base, token).logout().await
}

#[tokio::test]
async fn a_session_remembered_by_one_node_ends_when_another_node_revokes_it() {
    let Some(stores) = pair(Backend::Redis, Backend::Postgres) else {
        return;
    };
    let node_a = spawn_on(&stores, 10).await;
    let node_b = spawn_on(&stores, 10).await;
    node_a.create_user("alice", false).await;
    let token = &node_a.browser(FIREFOX_UBUNTU).login_token("alice").await;
    for _ in 0..3 {
        assert_eq!(check(&node_b.base, token).await, StatusCode::OK);
    }
    assert!(cache_hits(&node_b) > 0, "node B answers from memory");

    // A change to the user on node A shows in node B's next answer.
    fail_login(&node_a, "alice").await;
    assert_eq!(checked_user(&node_b, token).await.failed_logins, 1);
    checked_user(&node_b, token).await;
    let hits = cache_hits(&node_b);
    assert_eq!(check(&node_b.base, token).await, StatusCode::OK);
    assert_eq!(cache_hits(&node_b), hits + 1, "remembered again");

    assert_eq!(logout(&node_a.base, token).await, StatusCode::NO_CONTENT);
    assert_eq!(check(&node_b.base, token).await, StatusCode::UNAUTHORIZED);
}

/// `MGET` commands a private Redis has run: the stamp reads that went to Redis.
fn stamp_reads(redis: &PrivateRedis) -> u64 {
    let stats = redis_cli(redis.port, &["INFO", "commandstats"]);
    stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_mget:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}

/// Checks `token` on the node at `base` until three checks in a row read no stamp from
/// Redis: the node holds its lease and remembers the user's stamp.
async fn until_answered_from_memory(redis: &PrivateRedis, base: &str, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut quiet = 0;
    while quiet < 3 {
        assert!(
            Instant::now() < deadline,
            "{base} keeps reading stamps from Redis"
        );
        let before = stamp_reads(redis);
        assert_eq!(check(base, token).await, StatusCode::OK);
        quiet = if stamp_reads(redis) == before {
            quiet + 1
        } else {
            0
        };
        if quiet == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How many nodes hold a lease on the private Redis, and the shortest time one has left.
fn leases(redis: &PrivateRedis) -> (usize, Duration) {
    let script = "local t = redis.call('TIME') \
        local now = t[1] * 1000 + math.floor(t[2] / 1000) \
        local held = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') \
        local shortest = -1 \
        for i = 2, #held, 2 do \
          local left = tonumber(held[i]) - now \
          if shortest < 0 or left < shortest then shortest = left end \
        end \
        return {#held / 2, shortest}";
    let reply = redis_cli(redis.port, &["EVAL", script, "1", "sessiond:{n}:leases"]);
    let mut numbers = reply
        .lines()
        .map(|line| line.trim().parse::<i64>().unwrap());
    let holders = numbers.next().unwrap();
    let shortest = numbers.next().unwrap();
    (
        usize::try_from(holders).unwrap(),
        Duration::from_millis(u64::try_from(shortest).unwrap_or(0)),
    )
}

/// A `sessiond serve` process, killed if the test fails before it stops the process itself.
struct ServeProcess(Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sessiond serve` on the stores at these URLs; its address.
fn serve_on(sessions: &str, directory: &str, dir: &Path) -> (ServeProcess, String) {
    let mut server = cli::serve_command(dir)
        .env("SESSIOND_STORAGE__SESSIONS", sessions)
        .env("SESSIOND_STORAGE__DIRECTORY", directory)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = cli::listening_address(&mut server);
    (ServeProcess(server), address)
}

fn signal(server: &ServeProcess, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Nodes' store URLs: sessions on the private Redis, the directory in a SQLite file in `dir`.
fn private_stores(redis: &PrivateRedis, dir: &Path) -> (String, String) {
    let sessions = format!("redis://127.0.0.1:{}/0", redis.port);
    let directory = format!("sqlite://{}", dir.join("directory.db").display());
    (sessions, directory)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_nodes_answer_from_memory_and_still_see_every_revocation_at_the_next_request() {
    let Some(redis) = PrivateRedis::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sessions, directory) = private_stores(&redis, dir.path());
    let on_stores = |s: &mut Settings| {
        s.storage.sessions = sessions.clone();
        s.storage.directory = directory.clone();
    };
    let node_a = spawn_with(on_stores).await;
    let node_b = spawn_with(on_stores).await;
    node_a.create_user("alice", false).await;
    node_a.create_user("bob", false).await;
    let alice = &node_a.browser(FIREFOX_UBUNTU).login_token("alice").await;

    // Remembered checks on node B cost Redis nothing.
    until_answered_from_memory(&redis, &node_b.base, alice).await;
    let (reads, hits) = (stamp_reads(&redis), cache_hits(&node_b));
    for _ in 0..20 {
        assert_eq!(check(&node_b.base, alice).await, StatusCode::OK);
    }
    assert_eq!(stamp_reads(&redis), reads, "no stamp read from Redis");
    assert_eq!(cache_hits(&node_b), hits + 20);

    // Yet a change on node A shows in node B's very next answer.
    fail_login(&node_a, "alice").await;
    assert_eq!(checked_user(&node_b, alice).await.failed_logins, 1);

    // A dropped subscription: node B asks Redis until it has subscribed again, then not.
    redis_cli(redis.port, &["CLIENT", "KILL", "TYPE", "pubsub"]);
    until_answered_from_memory(&redis, &node_b.base, alice).await;
    assert_eq!(logout(&node_a.base, alice).await, StatusCode::NO_CONTENT);
    assert_eq!(check(&node_b.base, alice).await, StatusCode::UNAUTHORIZED);

    // A node that stops (here SIGSTOP) holds revocations up for at most its lease, and
    // answers from Redis when it resumes.
    let alice_again = &node_a.browser(SAFARI_IPAD).login_token("alice").await;
    let (mut node_c, base_c) = serve_on(&sessions, &directory, dir.path());
    for attempt in 1.. {
        let bob = &node_a.browser(CHROME_ANDROID).login_token("bob").await;
        until_answered_from_memory(&redis, &base_c, bob).await;
        let (holders_before, _) = leases(&redis);
        signal(&node_c, "-STOP");
        let (holders, shortest) = leases(&redis);
        let started = Instant::now();
        let logged_out = logout(&node_a.base, bob).await;
        let waited = started.elapsed();
        signal(&node_c, "-CONT");
        assert_eq!(logged_out, StatusCode::NO_CONTENT);
        assert_eq!(check(&base_c, bob).await, StatusCode::UNAUTHORIZED);
        // A stall of the whole machine can let node C's lease run out before the stop
        // lands (CI saw one); the revocation then rightly waits less, and the attempt says
        // nothing. Nodes B and C hold leases at least (node A may not have checked yet).
        if holders < holders_before.max(2) || shortest < Duration::from_secs(2) {
            assert!(
                attempt < 3,
                "node C's lease kept running out before it stopped"
            );
            continue;
        }
        assert!(
            waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
            "the revocation waited {waited:?} for the stopped node's lease (3 s, renewed every 0.5 s)"
        );
        break;
    }

    // A node stopped cleanly gives its lease up: revocations no longer wait for it.
    until_answered_from_memory(&redis, &base_c, alice_again).await;
    signal(&node_c, "-TERM");
    assert!(node_c.0.wait().unwrap().success());
    let started = Instant::now();
    assert_eq!(
        logout(&node_a.base, alice_again).await,
        StatusCode::NO_CONTENT
    );
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(1500),
        "the revocation waited {waited:?} for a node that had left"
    );
}

/// Signs alice in `count` times on a server remembering `capacity` tokens; her tokens.
async fn signed_in(capacity: usize, count: usize) -> (TestServer, Vec<String>) {
    let server = spawn_with(|settings| {
        settings.sessions.check_cache_capacity = capacity;
        settings.sessions.max_per_user = 100;
    })
    .await;
    server.create_user("alice", false).await;
    let browser = server.browser(FIREFOX_UBUNTU);
    let mut tokens = Vec::new();
    for _ in 0..count {
        tokens.push(browser.login_token("alice").await);
    }
    (server, tokens)
}

/// Checks every token three times in turn, then once more each; how many of the last
/// checks memory answered.
async fn hits_after_warming(server: &TestServer, tokens: &[String]) -> u64 {
    for token in tokens {
        for _ in 0..3 {
            assert_eq!(check(&server.base, token).await, StatusCode::OK);
        }
    }
    let before = cache_hits(server);
    for token in tokens {
        assert_eq!(check(&server.base, token).await, StatusCode::OK);
    }
    cache_hits(server) - before
}

#[tokio::test]
async fn the_check_remembers_at_most_the_configured_number_of_tokens() {
    // 65 tokens over the 64 one-entry shards of a capacity of 64: two share a shard, and the
    // first of them is forgotten by the time it is checked again.
    let (bounded, tokens) = signed_in(64, 65).await;
    let hits = hits_after_warming(&bounded, &tokens).await;
    assert!((1..65).contains(&hits), "{hits} of 65 remembered");

    let (default, tokens) = signed_in(Settings::default().sessions.check_cache_capacity, 65).await;
    assert_eq!(hits_after_warming(&default, &tokens).await, 65);
}

#[tokio::test]
async fn a_capacity_of_zero_remembers_nothing_and_still_revokes() {
    let (server, tokens) = signed_in(0, 1).await;
    assert_eq!(hits_after_warming(&server, &tokens).await, 0);
    assert_eq!(cache_hits(&server), 0);
    server.cli_ok(&["sessions", "revoke", "--user", "alice"]);
    assert_eq!(
        check(&server.base, &tokens[0]).await,
        StatusCode::UNAUTHORIZED
    );
}

/// Announcements on the private Redis that a node acknowledged in the last 10 s.
fn announcements(redis: &PrivateRedis) -> usize {
    let keys = redis_cli(redis.port, &["KEYS", "sessiond:{n}:ack:*"]);
    keys.lines().filter(|key| !key.trim().is_empty()).count()
}

/// A login replaces the user's stamp only when it evicts a session, so only then does it
/// announce and wait for every node's acknowledgement; any other login waits for nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_login_waits_for_the_nodes_only_when_it_evicts_a_session() {
    let Some(redis) = PrivateRedis::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sessions, directory) = private_stores(&redis, dir.path());
    let node = spawn_with(|s| {
        s.storage.sessions = sessions;
        s.storage.directory = directory;
        s.sessions.max_per_user = 2;
        s.sessions.on_limit = OnLimit::EvictOldest;
    })
    .await;
    node.create_user("alice", false).await;
    let first = &node.browser(FIREFOX_UBUNTU).login_token("alice").await;
    // The node holds a lease: an announcement would now wait for its acknowledgement.
    until_answered_from_memory(&redis, &node.base, first).await;
    assert_eq!(leases(&redis).0, 1);

    node.browser(SAFARI_IPAD).login("alice").await;
    assert_eq!(announcements(&redis), 0, "a login that evicts nothing");
    node.browser(CHROME_ANDROID).login("alice").await;
    assert_eq!(
        announcements(&redis),
        1,
        "the login that evicts the first session"
    );
    assert_eq!(check(&node.base, first).await, StatusCode::UNAUTHORIZED);
}

/// Checks arriving together when a session's activity write falls due (a page's many
/// requests, say): one of them writes it, and the others are answered meanwhile instead of
/// each writing the same activity again: from memory once the session is remembered, with
/// the times read when nothing is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_arriving_together_write_a_due_activity_once() {
    for capacity in [65_536, 0] {
        let server = spawn_with(|s| {
            s.sessions.activity_write_interval = Some(duration("1s"));
            s.sessions.check_cache_capacity = capacity;
        })
        .await;
        server.create_user("alice", false).await;
        let browser = server.browser(FIREFOX_UBUNTU);
        browser.login("alice").await;
        if capacity > 0 {
            warm(&server, &browser).await;
        }
        let writes = || server.service.metrics.activity_writes.get();
        let hits = || cache_hits(&server);
        for round in 1..=3 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            let (writes_before, hits_before) = (writes(), hits());
            let checks = (0..32).map(|_| browser.session_status());
            for status in futures_util::future::join_all(checks).await {
                assert_eq!(status, StatusCode::OK);
            }
            assert_eq!(
                writes(),
                writes_before + 1,
                "capacity {capacity}, round {round}: one write for 32 checks"
            );
            // Remembered, all but the writer are answered from memory; but for one, perhaps,
            // that took the entry just before the writer replaced it and asks the stores.
            let answered_from_memory = hits() - hits_before;
            if capacity > 0 {
                assert!(
                    answered_from_memory >= 30,
                    "{answered_from_memory} from memory"
                );
            } else {
                assert_eq!(answered_from_memory, 0);
            }
        }
    }
}
