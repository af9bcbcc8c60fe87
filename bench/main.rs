//! `bench/run` (or `cargo bench --bench sessiond -- [--smoke] [--logins N] [--sessions URL
//! --directory URL] [--only PART,...] [--pair BIN,BIN]`): the session check, login, listings,
//! bulk revocation and sizes, each against its floor measured in the same run. What is
//! measured, why, and what each flag does: docs/benchmarks.md. `--cache-memory` measures
//! only the check cache's memory per token (docs/deployment.md).

mod cache_memory;
mod seed;
mod server;
mod stats;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use seed::{Plan, Sizes};
use server::{Config, Server, WrkResult};
use sessiond::config::StorageSettings;
use sessiond::domain::password::{self, Password};
use sessiond::domain::session::Session;
use sessiond::domain::time::{Clock, SystemClock, Timestamp};
use stats::{Samples, micros, ms};
use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FULL: Sizes = Sizes {
    sessions: 1_000_000,
    members: 10_000,
    // Argon2 on a shared VM varies by a fifth between runs: 40 pairs left the ratio of the
    // medians moving by ±0.1×; 200 cost ten seconds more and narrow that.
    login_users: 200,
    listing_requests: 1000,
    wrk_seconds: 10,
};

/// Proves the tool works end to end in seconds; its figures mean nothing.
const SMOKE: Sizes = Sizes {
    sessions: 5_000,
    members: 200,
    login_users: 5,
    listing_requests: 50,
    wrk_seconds: 1,
};

/// wrk's keep-alive connections: enough to keep both cores busy.
const CONNECTIONS: u32 = 64;

/// The parts of a run after seeding; `--only` picks some (e.g. while profiling one).
const PARTS: [&str; 4] = ["check", "listings", "login", "revocation"];

struct Args {
    sizes: Sizes,
    sessions: Option<String>,
    directory: Option<String>,
    parts: Vec<String>,
    /// Builds whose checks, listings, logins and revocations are then measured alternately
    /// on the same seeded stores.
    pair: Vec<String>,
    cache_memory: bool,
}

/// Rounds of `--pair`: each build's checks, listings, logins and revocations this many
/// times, alternating.
const PAIR_ROUNDS: usize = 3;

fn parse_args() -> Args {
    let mut args = Args {
        sizes: FULL,
        sessions: None,
        directory: None,
        parts: PARTS.map(str::to_owned).to_vec(),
        pair: Vec::new(),
        cache_memory: false,
    };
    // Applied after the loop, so that `--smoke` does not undo it whatever the order.
    let mut logins = None;
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--smoke" => args.sizes = SMOKE,
            "--logins" => {
                let count = iter.next().unwrap_or_default();
                match count.parse::<u64>() {
                    Ok(count) if count > 0 => logins = Some(count),
                    _ => {
                        eprintln!("--logins needs a positive number of sign-ins, not {count:?}");
                        std::process::exit(2);
                    }
                }
            }
            "--sessions" => args.sessions = iter.next(),
            "--pair" => {
                let builds = iter.next().unwrap_or_default();
                args.pair = builds.split(',').map(str::to_owned).collect();
            }
            "--directory" => args.directory = iter.next(),
            "--cache-memory" => args.cache_memory = true,
            "--only" => {
                let parts = iter.next().unwrap_or_default();
                args.parts = parts.split(',').map(str::to_owned).collect();
                if let Some(bad) = args.parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
                    eprintln!("unknown part {bad:?}; parts: {}", PARTS.join(","));
                    std::process::exit(2);
                }
            }
            // `cargo bench` adds this to every bench target's arguments.
            "--bench" => {}
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: [--smoke] [--logins N] [--sessions URL] [--directory URL] [--only PART,...] [--pair BIN,BIN] [--cache-memory]"
                );
                std::process::exit(2);
            }
        }
    }
    if let Some(count) = logins {
        args.sizes.login_users = count;
    }
    args
}

/// One line of the results table.
struct Row {
    what: String,
    result: String,
    floor: String,
    ratio: String,
    target: &'static str,
}

impl Row {
    fn new(what: impl Into<String>, result: impl Into<String>, target: &'static str) -> Row {
        Row {
            what: what.into(),
            result: result.into(),
            floor: String::new(),
            ratio: String::new(),
            target,
        }
    }

    fn against(mut self, floor: impl Into<String>, ratio: f64) -> Row {
        self.floor = floor.into();
        self.ratio = format!("{ratio:.2}×");
        self
    }
}

fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().expect("a temporary directory");
    if args.cache_memory {
        println!("# sessiond check cache memory");
        println!("{}", machine());
        cache_memory::run(dir.path());
        return;
    }
    let sqlite = format!("sqlite://{}", dir.path().join("sessiond.db").display());
    let sessions_url = args.sessions.clone().unwrap_or_else(|| sqlite.clone());
    let directory_url = args.directory.clone().unwrap_or_else(|| sqlite.clone());
    println!("# sessiond benchmark");
    println!("stores: sessions {sessions_url}, directory {directory_url}");
    println!("{}", machine());
    println!("load before: {}", load_average());
    let rows = run(&args, dir.path(), &sessions_url, &directory_url);
    println!("load after: {}", load_average());
    println!();
    println!("| measurement | result | floor (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.what, row.result, row.floor, row.ratio, row.target
        );
    }
}

fn run(args: &Args, dir: &Path, sessions_url: &str, directory_url: &str) -> Vec<Row> {
    let sizes = &args.sizes;
    let part = |name: &str| args.parts.iter().any(|p| p == name);
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let config = Config::write(dir, sessions_url, directory_url);
    let mut rows = Vec::new();
    let settings = StorageSettings {
        sessions: sessions_url.to_owned(),
        directory: directory_url.to_owned(),
    };
    // Only `serve` creates a store; the other commands refuse a missing one. Create it here
    // as `serve` would, so that the import below measures the import alone.
    drop(
        runtime
            .block_on(sessiond::store::open(&settings))
            .expect("creating the stores"),
    );

    step("directory: sessiond import");
    let hash = password::hash(&Password::new(seed::LOGIN_PASSWORD));
    let import = dir.join("import.json");
    std::fs::write(&import, seed::import_document(sizes, &hash).to_string())
        .expect("writing the import file");
    let (_, took) = config.cli(&["import", import.to_str().expect("a UTF-8 path")]);
    rows.push(Row::new(
        format!("import {} users", sizes.members + sizes.login_users + 2),
        format!("{:.2} s", took.as_secs_f64()),
        "",
    ));

    step("sessions: seeding");
    let plan = Arc::new(Plan::new(*sizes, config.user_ids(), SystemClock.now()));
    let sqlite_path = sessions_url.strip_prefix("sqlite://");
    let size_before = sqlite_path.map(file_size);
    let redis_before = redis_used_memory(sessions_url);
    let started = Instant::now();
    // Sessions `make(0)` to `make(count - 1)` into the run's session store, created at `now`.
    let insert = |count: u64, now: Timestamp, make: Arc<dyn Fn(u64) -> Session + Send + Sync>| {
        match sqlite_path {
            Some(path) => seed::sqlite_insert(path, count, &*make).expect("seeding SQLite"),
            None => runtime.block_on(async {
                let stores = sessiond::store::open(&settings)
                    .await
                    .expect("opening the stores");
                seed::store_insert(stores.sessions, count, now, make).await
            }),
        }
    };
    let seeded = plan.clone();
    insert(
        sizes.sessions,
        plan.now,
        Arc::new(move |n| seeded.session(n)),
    );
    if let Some(path) = sqlite_path {
        seed::checkpoint(path).expect("checkpointing SQLite");
    }
    println!(
        "  {} sessions in {:.1} s",
        sizes.sessions,
        started.elapsed().as_secs_f64()
    );
    if let (Some(path), Some(before)) = (sqlite_path, size_before) {
        let per = (file_size(path) - before) as f64 / sizes.sessions as f64;
        rows.push(Row::new(
            "SQLite file per session",
            format!("{per:.0} B"),
            "",
        ));
    }
    if let (Some(before), Some(after)) = (redis_before, redis_used_memory(sessions_url)) {
        let per = (after - before) as f64 / sizes.sessions as f64;
        rows.push(Row::new(
            "Redis used_memory per session",
            format!("{per:.0} B"),
            "",
        ));
    }

    let server = Server::start(&config);
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let written = Cell::new(None);
    let check =
        |server: &Server| session_check(server, &client, sizes, dir, &plan, sessions_url, &written);
    if part("check") {
        rows.extend(check(&server));
        rows.extend(paired(args, &config, check));
    }
    let listed = |server: &Server| listings(server, &client, sizes, &plan, sessions_url);
    if part("listings") {
        rows.extend(listed(&server));
        rows.extend(paired(args, &config, listed));
    }
    let signed_in = |server: &Server| vec![login(server, &client, sizes)];
    if part("login") {
        rows.extend(signed_in(&server));
        rows.extend(paired(args, &config, signed_in));
    }
    let memory = server.memory();
    rows.push(Row::new(
        format!("server RSS, {} sessions stored", sizes.sessions),
        format!(
            "{:.0} MiB: {:.0} MiB heap, {:.0} MiB mapped file (peak {:.0} MiB)",
            mib(memory.rss),
            mib(memory.anonymous),
            mib(memory.file),
            mib(memory.peak)
        ),
        "",
    ));
    if part("revocation") {
        rows.extend(bulk_revocation(&server, &client, &config, sizes, &plan));
        // A revocation deletes what it measures: before each paired one the members'
        // sessions are written again (the same users, tokens and times, fresh public ids).
        let again = |server: &Server| {
            let (members, now) = (plan.clone(), SystemClock.now());
            let make = move |i| members.member_session(i, now);
            insert(plan.member_sessions(), now, Arc::new(make));
            bulk_revocation(server, &client, &config, sizes, &plan)
        };
        rows.extend(paired(args, &config, again));
    }
    rows
}

/// `measure` of each `--pair` build in turn, [`PAIR_ROUNDS`] times, on the stores just
/// seeded: seeding makes each run's stores a little different, and the same stores are not.
fn paired(args: &Args, config: &Config, measure: impl Fn(&Server) -> Vec<Row>) -> Vec<Row> {
    let mut rows = Vec::new();
    for round in 1..=PAIR_ROUNDS {
        for binary in &args.pair {
            let server = Server::start_binary(config, binary);
            for mut row in measure(&server) {
                row.what = format!("{binary} (round {round}): {}", row.what);
                rows.push(row);
            }
        }
    }
    rows
}

/// The default `sessions.activity_write_interval`, which the benchmark's servers keep.
const ACTIVITY_WRITE_INTERVAL: Duration = Duration::from_secs(60);

/// `written`: when an earlier measurement of the same sessions had them take their
/// activity writes, if one did.
fn session_check(
    server: &Server,
    client: &Client,
    sizes: &Sizes,
    dir: &Path,
    plan: &Plan,
    sessions_url: &str,
    written: &Cell<Option<Instant>>,
) -> Vec<Row> {
    step("session check: wrk");
    let tokens = dir.join("tokens.txt");
    let lines: Vec<&str> = plan.tokens.check.iter().map(|t| t.expose()).collect();
    std::fs::write(&tokens, lines.join("\n") + "\n").expect("writing the token file");
    let seconds = Duration::from_secs(sizes.wrk_seconds);
    let healthz = server.url("/healthz");
    let check = server.url("/api/session");
    // The floor gets the same requests, cookies included, so wrk's own work and the bytes on
    // the wire match and the ratio is the server's. Warm the server up, and let every session
    // take its one activity write (due once a minute per session) before the measured run.
    let writes = "sessiond_activity_writes_total";
    let rejected = "sessiond_session_checks_total{result=\"rejected\"}";
    // The server's CPU time per request is reported too: unlike requests per second it hardly
    // moves when other processes take the cores.
    let run = |url: &str| {
        let cpu_before = server.cpu_time();
        let result = wrk(url, seconds, Some(&tokens));
        (
            result,
            (server.cpu_time() - cpu_before) / result.requests.max(1) as u32,
        )
    };
    run(&healthz);
    // The warm-up must find every write due, or writes fall due during the measured run.
    if let Some(written) = written.get() {
        std::thread::sleep(ACTIVITY_WRITE_INTERVAL.saturating_sub(written.elapsed()));
    }
    let writes_before_warm_up = server.metric(client, writes);
    let (warm_up, _) = run(&check);
    // Taken as the warm-up ends, not as it starts: where writes are slow they slow the
    // warm-up, spread over all of it, and a session written late in it is due that much later.
    written.set(Some(Instant::now()));
    let (floor_before, floor_cpu_before) = run(&healthz);
    let (writes_before, rejected_before) = (
        server.metric(client, writes),
        server.metric(client, rejected),
    );
    let commands_before = redis_commands(sessions_url);
    let (measured, measured_cpu) = run(&check);
    let commands_after = redis_commands(sessions_url);
    let (writes_after, rejected_after) = (
        server.metric(client, writes),
        server.metric(client, rejected),
    );
    let (floor_after, floor_cpu_after) = run(&healthz);
    let floor_cpu = (floor_cpu_before + floor_cpu_after) / 2;
    assert_eq!(
        rejected_after, rejected_before,
        "every measured check must find a valid session"
    );
    let floor_rate = (floor_before.per_second + floor_after.per_second) / 2.0;
    let describe = |r: &WrkResult| {
        format!(
            "{:.0} req/s, p50 {} ms, p99 {} ms",
            r.per_second,
            ms(r.p50),
            ms(r.p99)
        )
    };
    let floor = format!(
        "/healthz {:.0} req/s (runs: {:.0}, {:.0}), p50 {} ms, p99 {} ms",
        floor_rate,
        floor_before.per_second,
        floor_after.per_second,
        ms(floor_before.p50),
        ms(floor_before.p99)
    );
    let mut rows = vec![
        Row::new(
            format!(
                "GET /api/session, {} sessions, {CONNECTIONS} connections",
                plan.tokens.check.len()
            ),
            describe(&measured),
            "≥ 0.9× (SQLite), ≥ 0.7× (Redis)",
        )
        .against(floor, measured.per_second / floor_rate),
        Row::new(
            "… sessiond's CPU time per request (Redis's and PostgreSQL's not counted)",
            format!("{:.1} µs", micros(measured_cpu)),
            "",
        )
        .against(
            format!("/healthz {:.1} µs", micros(floor_cpu)),
            micros(floor_cpu) / micros(measured_cpu),
        ),
        Row::new(
            "activity writes during the measured check",
            format!(
                "{} in {} requests (warm-up: {} in {} requests, {} sessions)",
                writes_after - writes_before,
                measured.requests,
                writes_before - writes_before_warm_up,
                warm_up.requests,
                plan.tokens.check.len()
            ),
            "0",
        ),
    ];
    // Everything Redis ran meanwhile (this benchmark's own `INFO` included): what the checks
    // cost it.
    if let (Some(before), Some(after)) = (commands_before, commands_after) {
        rows.push(Row::new(
            "Redis commands during the measured check",
            format!("{} in {} requests", after - before, measured.requests),
            "",
        ));
    }
    rows
}

/// Runs wrk and refuses results with failed requests.
fn wrk(url: &str, duration: Duration, tokens: Option<&Path>) -> WrkResult {
    let result = server::wrk(url, CONNECTIONS, duration, tokens);
    assert_eq!(result.failures, 0, "wrk saw failed requests on {url}");
    result
}

fn listings(
    server: &Server,
    client: &Client,
    sizes: &Sizes,
    plan: &Plan,
    sessions_url: &str,
) -> Vec<Row> {
    step("listings");
    let cookie = |token: &str| format!("sessiond_session={token}");
    let timed_times = |path: &str, token: &str, requests: usize| {
        let (url, cookie) = (server.url(path), cookie(token));
        let get = || {
            let response = client
                .get(&url)
                .header("cookie", &cookie)
                .send()
                .expect("GET");
            assert_eq!(response.status(), StatusCode::OK, "GET {url}");
            response.bytes().expect("a body");
        };
        get();
        let before = redis_commands(sessions_url);
        let samples = Samples::collect(requests, get);
        // What one request costs Redis (its background work, a few commands a second, and
        // the two `INFO`s are spread over the requests).
        let commands = before
            .zip(redis_commands(sessions_url))
            .map(|(before, after)| (after - before) / samples.len() as u64);
        (samples, commands)
    };
    let timed = |path: &str, token: &str| timed_times(path, token, sizes.listing_requests);
    let describe = |(samples, commands): &(Samples, Option<u64>)| {
        let commands = commands
            .map(|n| format!(", {n} Redis commands each"))
            .unwrap_or_default();
        format!(
            "p50 {} ms, p99 {} ms ({} requests{commands})",
            ms(samples.p50()),
            ms(samples.p99()),
            samples.len()
        )
    };
    let own = timed("/api/user/sessions", plan.tokens.many.expose());
    let admin = plan.tokens.admin.expose();
    let first = timed("/api/admin/sessions?limit=50", admin);
    let deep_offset = sizes.sessions / 10;
    let deep = timed(
        &format!("/api/admin/sessions?limit=50&offset={deep_offset}"),
        admin,
    );
    // Pages past the middle are read from the far end, so the middle is the deepest walk.
    let middle_offset = sizes.sessions / 2;
    let middle = timed(
        &format!("/api/admin/sessions?limit=50&offset={middle_offset}"),
        admin,
    );
    let last_offset = sizes.sessions - 50;
    let last = timed(
        &format!("/api/admin/sessions?limit=50&offset={last_offset}"),
        admin,
    );
    // A filler's random address (few share one), and the address every checked session has.
    let rare = (0..sizes.sessions)
        .rev()
        .map(|n| plan.session(n).ip_address)
        .find(|ip| ip.starts_with("10."))
        .expect("a filler session");
    let by_rare = format!("/api/admin/sessions?limit=50&ip={rare}");
    let rare_total = listing_total(server, client, &by_rare, admin);
    let rare = timed(&by_rare, admin);
    let by_common = format!("/api/admin/sessions?limit=50&ip={}", seed::CHECKED_ADDRESS);
    let common_total = listing_total(server, client, &by_common, admin);
    // Each of these reads every session at the address: fewer requests.
    let common = timed_times(&by_common, admin, sizes.listing_requests / 10);
    vec![
        Row::new(
            format!("GET /api/user/sessions ({} sessions)", seed::LISTED),
            describe(&own),
            "p99 < 5 ms",
        ),
        Row::new(
            format!(
                "GET /api/admin/sessions first page of 50, {} stored",
                sizes.sessions
            ),
            describe(&first),
            "p99 < 5 ms",
        ),
        Row::new(
            format!("… offset {deep_offset}"),
            describe(&deep),
            "p99 < 5 ms",
        ),
        Row::new(
            format!("… offset {middle_offset} (the middle)"),
            describe(&middle),
            "p99 < 5 ms",
        ),
        Row::new(
            format!("… offset {last_offset} (last page)"),
            describe(&last),
            "p99 < 5 ms",
        ),
        Row::new(
            format!("… filtered by an address with {rare_total} session(s)"),
            describe(&rare),
            "",
        ),
        Row::new(
            format!("… filtered by an address with {common_total} sessions"),
            describe(&common),
            "",
        ),
    ]
}

/// The `total` of an admin listing.
fn listing_total(server: &Server, client: &Client, path: &str, token: &str) -> u64 {
    let response = client
        .get(server.url(path))
        .header("cookie", format!("sessiond_session={token}"))
        .send()
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let page: serde_json::Value = response.json().expect("a JSON page");
    page["total"].as_u64().expect("a total")
}

/// The status of `GET /api/session` with `token` as the session cookie.
fn session_status(server: &Server, client: &Client, token: &str) -> StatusCode {
    let response = client
        .get(server.url("/api/session"))
        .header("cookie", format!("sessiond_session={token}"))
        .send()
        .expect("GET /api/session");
    response.status()
}

/// `POST /api/login` with `body`, which must sign in.
fn sign_in(client: &Client, url: &str, body: &serde_json::Value) -> Response {
    let response = client.post(url).json(body).send().expect("POST /api/login");
    assert_eq!(response.status(), StatusCode::CREATED, "login");
    response
}

fn login(server: &Server, client: &Client, sizes: &Sizes) -> Row {
    step("login vs one Argon2id verify");
    let hash = password::hash(&Password::new(seed::LOGIN_PASSWORD));
    let typed = Password::new(seed::LOGIN_PASSWORD);
    let count = sizes.login_users as usize;
    let url = server.url("/api/login");
    // A server that serves traffic has checked sessions (on Redis it then holds its lease,
    // and writes that replace stamps wait for it) and has its connections open: one sign-in,
    // a check of it and a sign-out (so `--pair`'s repeats stay under the session limit),
    // not timed.
    let warm_up = serde_json::json!({
        "login": seed::login_name(0),
        "password": seed::LOGIN_PASSWORD,
    });
    let token: serde_json::Value = sign_in(client, &url, &warm_up)
        .json()
        .expect("a login answer");
    let token = token["token"].as_str().expect("a token");
    assert_eq!(
        session_status(server, client, token),
        StatusCode::OK,
        "warm-up check"
    );
    let signed_out = client
        .post(server.url("/api/logout"))
        .bearer_auth(token)
        .send()
        .expect("POST /api/logout");
    assert_eq!(
        signed_out.status(),
        StatusCode::NO_CONTENT,
        "warm-up logout"
    );
    // Interleaved, so both see the same machine: Argon2 is memory-bound and the load of
    // other processes comes and goes.
    let (mut verify, mut logins) = (Vec::new(), Vec::new());
    for user in 0..sizes.login_users {
        verify.push(stats::time(|| {
            assert_eq!(password::check(&typed, &hash), password::Match::Yes)
        }));
        let body = serde_json::json!({
            "login": seed::login_name(user),
            "password": seed::LOGIN_PASSWORD,
            "remember_me": true,
        });
        logins.push(stats::time(|| {
            sign_in(client, &url, &body).bytes().expect("a body");
        }));
    }
    let (verify, logins) = (Samples::new(verify), Samples::new(logins));
    // The fastest of each too: on a busy machine the p50s move with the load, the fastest
    // runs show what a login adds when nothing else interferes.
    let summary = |samples: &Samples| {
        format!(
            "p50 {} ms, p99 {} ms, fastest {} ms",
            ms(samples.p50()),
            ms(samples.p99()),
            ms(samples.percentile(0.0))
        )
    };
    Row::new(
        format!("POST /api/login ({count} sign-ins, one at a time)"),
        summary(&logins),
        "≤ 1.1×",
    )
    .against(
        format!("Argon2id verify {}", summary(&verify)),
        logins.p50().as_secs_f64() / verify.p50().as_secs_f64(),
    )
}

fn bulk_revocation(
    server: &Server,
    client: &Client,
    config: &Config,
    sizes: &Sizes,
    plan: &Plan,
) -> Vec<Row> {
    step("bulk revocation: sessiond sessions revoke --group");
    let sessions = sizes.members * seed::PER_MEMBER;
    let expect = format!(
        "Would revoke {sessions} sessions for {} users",
        sizes.members
    );
    // The CLI of the build serving (a `--pair` build's own).
    let cli = |args: &[&str]| config.cli_of(&server.binary, args);
    let (dry, dry_took) = cli(&["sessions", "revoke", "--group", seed::GROUP]);
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains(&expect),
        "dry run: {expect}"
    );
    let (live, live_took) = cli(&["sessions", "revoke", "--group", seed::GROUP, "--execute"]);
    let expect = format!("Revoked {sessions} sessions for {} users", sizes.members);
    assert!(
        String::from_utf8_lossy(&live.stdout).contains(&expect),
        "live: {expect}"
    );
    let (again, _) = cli(&["sessions", "revoke", "--group", seed::GROUP]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Would revoke 0 sessions"));
    // The running server sees the other process's revocation at the very next request.
    for (token, status) in [
        (plan.tokens.check[0].expose(), StatusCode::UNAUTHORIZED),
        (plan.tokens.many.expose(), StatusCode::OK),
    ] {
        assert_eq!(
            session_status(server, client, token),
            status,
            "after the revocation"
        );
    }
    let what = |mode: &str| {
        format!(
            "sessions revoke --group {mode}: {} users, {sessions} sessions",
            sizes.members
        )
    };
    vec![
        Row::new(
            what("(dry run)"),
            format!("{:.2} s", dry_took.as_secs_f64()),
            "< 2 s",
        ),
        Row::new(
            what("--execute"),
            format!("{:.2} s", live_took.as_secs_f64()),
            "< 2 s",
        ),
    ]
}

fn step(name: &str) {
    println!("== {name}");
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Bytes of a SQLite database with its write-ahead log folded in.
fn file_size(path: &str) -> u64 {
    seed::checkpoint(path).expect("checkpointing SQLite");
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `used_memory` of the Redis a `redis://` URL names.
fn redis_used_memory(url: &str) -> Option<u64> {
    redis_info(url, "memory", "used_memory")
}

/// Commands the Redis a `redis://` URL names has run so far.
fn redis_commands(url: &str) -> Option<u64> {
    redis_info(url, "stats", "total_commands_processed")
}

/// A number from `INFO section` of the Redis a `redis://` URL names, by `redis-cli`.
fn redis_info(url: &str, section: &str, field: &str) -> Option<u64> {
    if !url.starts_with("redis://") {
        return None;
    }
    // Our `?prefix=` parameter is no part of the URL redis-cli knows.
    let url = url.split('?').next().unwrap_or(url);
    let output = std::process::Command::new("redis-cli")
        .args(["-u", url, "info", section])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().parse().ok())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    format!(
        "machine: {} cores ({}), {:.1} GiB memory",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu,
        memory as f64 / (1024.0 * 1024.0)
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
