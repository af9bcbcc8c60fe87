//! `--cache-memory`: what the session check's cache holds per token (docs/deployment.md).
//! The real server on a SQLite store of the benchmark's sessions, each of its own user; its
//! own resident memory (heap and stacks, `RssAnon`) is read before and after checking
//! distinct tokens, with the default capacity and with remembering off, whose growth is the
//! stores' and the allocator's alone.

use crate::seed::{self, PER_MEMBER, Plan, Sizes};
use crate::server::{Config, Server};
use crate::{session_status, step};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use sessiond::domain::time::{Clock, SystemClock};
use sessiond::domain::token::SecretToken;
use std::path::Path;

/// `sessions.check_cache_capacity`'s default; one token per member is checked.
const CAPACITY: u64 = 65_536;

/// Tokens checked in all before each reading, each once.
const READINGS: [u64; 3] = [10_000, 50_000, CAPACITY];

/// Clients checking at once: enough that every worker and pooled connection of the server
/// has taken part before the first reading.
const CLIENTS: usize = 4;

pub fn run(dir: &Path) {
    let sqlite = dir.join("sessiond.db");
    let url = format!("sqlite://{}", sqlite.display());
    let config = Config::write(dir, &url, &url);
    let sizes = Sizes {
        sessions: CAPACITY,
        members: CAPACITY,
        login_users: 0,
        listing_requests: 0,
        wrk_seconds: 0,
    };

    step(&format!(
        "directory and sessions: {CAPACITY} users, one session each"
    ));
    let import = dir.join("import.json");
    std::fs::write(&import, seed::import_document(&sizes, "").to_string())
        .expect("writing the import file");
    config.cli(&["import", import.to_str().expect("a UTF-8 path")]);
    let plan = Plan::new(sizes, config.user_ids(), SystemClock.now());
    // A member's first session is the one whose token the plan holds.
    let path = sqlite.to_str().expect("a UTF-8 path");
    seed::sqlite_insert(path, CAPACITY, |i| {
        plan.member_session(i * PER_MEMBER, plan.now)
    })
    .expect("seeding SQLite");
    seed::checkpoint(path).expect("checkpointing SQLite");
    let tokens: Vec<&str> = plan.tokens.check.iter().map(|t| t.expose()).collect();

    // The heap after start, then after each step, with remembering on and off.
    let on = heap_readings(dir, &config, CAPACITY, &tokens);
    let off = heap_readings(dir, &config, 0, &tokens);
    println!();
    println!(
        "| tokens checked | heap, capacity {CAPACITY} | heap, capacity 0 | cache's growth | per token |"
    );
    println!("|---|---|---|---|---|");
    let steps = READINGS
        .iter()
        .map(|n| (format!("{n}, once each"), *n))
        .chain([(format!("{CAPACITY}, twice each"), CAPACITY)]);
    println!("| none (after start) | {} | {} | | |", on[0], off[0]);
    for (index, (what, count)) in steps.enumerate() {
        let (on_now, off_now) = (on[index + 1], off[index + 1]);
        let grown = (on_now - on[0]) - (off_now - off[0]);
        println!(
            "| {what} | {on_now} | {off_now} | {grown} | {:.0} |",
            grown as f64 / count as f64
        );
    }
}

/// The server's heap (`RssAnon`, bytes) with `check_cache_capacity = capacity`: after start
/// and a warm-up of unknown tokens, after each of [`READINGS`], and after checking every
/// token a second time.
fn heap_readings(dir: &Path, config: &Config, capacity: u64, tokens: &[&str]) -> Vec<i64> {
    step(&format!("check_cache_capacity = {capacity}"));
    let path = dir.join(format!("sessiond-{capacity}.toml"));
    let text = std::fs::read_to_string(&config.path).expect("reading the configuration")
        + &format!("\n[sessions]\ncheck_cache_capacity = {capacity}\n");
    std::fs::write(&path, text).expect("writing the configuration");
    let server = Server::start(&Config::at(path));
    let heap = || server.memory().anonymous as i64;
    // Unknown tokens read the store as known ones do, and are not remembered.
    let unknown: Vec<SecretToken> = (0..2_000).map(|_| SecretToken::generate()).collect();
    let unknown: Vec<&str> = unknown.iter().map(|t| t.expose()).collect();
    check_each(&server, &unknown, StatusCode::UNAUTHORIZED);
    let mut readings = vec![heap()];
    let mut checked = 0;
    for upto in READINGS.map(|n| n as usize) {
        check_each(&server, &tokens[checked..upto], StatusCode::OK);
        checked = upto;
        readings.push(heap());
    }
    // A token's second check replaces its entry with one read under the user's stamp.
    check_each(&server, tokens, StatusCode::OK);
    readings.push(heap());
    readings
}

/// Checks each of `tokens` once, from [`CLIENTS`] threads, each answered `expected`.
fn check_each(server: &Server, tokens: &[&str], expected: StatusCode) {
    std::thread::scope(|scope| {
        for part in tokens.chunks(tokens.len().div_ceil(CLIENTS)) {
            scope.spawn(move || {
                let client = Client::new();
                for token in part {
                    assert_eq!(session_status(server, &client, token), expected);
                }
            });
        }
    });
}
