//! The benchmark's data: a directory loaded with `sessiond import`, and sessions written
//! straight into the store (bulk SQL on SQLite, the `SessionStore` trait elsewhere).

use serde_json::{Value, json};
use sessiond::domain::session::Session;
use sessiond::domain::time::Timestamp;
use sessiond::domain::token::{SecretToken, TokenHash, new_public_id};
use sessiond::domain::user_agent::DeviceType;
use sessiond::store::sqlite::insert_session;
use sessiond::store::{CreateOutcome, SessionLimit, SessionStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Sessions in the store in all.
    pub sessions: u64,
    /// Members of the group that bulk revocation ends; each holds `PER_MEMBER` sessions.
    pub members: u64,
    /// Users that sign in once each during the login benchmark.
    pub login_users: u64,
    /// Requests per listing benchmark.
    pub listing_requests: usize,
    /// How long each `wrk` run lasts.
    pub wrk_seconds: u64,
}

/// Sessions per group member; one of each member's is used by the session check.
/// The address of every session that requests use (the benchmark's own).
pub const CHECKED_ADDRESS: &str = "127.0.0.1";
pub const PER_MEMBER: u64 = 10;
/// Sessions of the user whose self-service list is read.
pub const LISTED: u64 = 100;
/// Members per sub-group of the revoked group.
const TEAM_SIZE: u64 = 100;
pub const GROUP: &str = "bench";
pub const ADMIN: &str = "benchadmin";
pub const MANY: &str = "many";
pub const LOGIN_PASSWORD: &str = "bench password for sign-in";

const USER_AGENTS: [(&str, &str, &str, DeviceType); 3] = [
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Firefox",
        "Ubuntu",
        DeviceType::Desktop,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        "Chrome",
        "Android",
        DeviceType::Smartphone,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Chrome",
        "Windows 10",
        DeviceType::Desktop,
    ),
];

pub fn member_name(i: u64) -> String {
    format!("u{i:06}")
}

pub fn login_name(i: u64) -> String {
    format!("login{i:03}")
}

/// The `sessiond import` document: an admin, the user with many sessions, the sign-in
/// users (all with `password_hash`), and group `bench` whose sub-groups hold the members.
pub fn import_document(sizes: &Sizes, password_hash: &str) -> Value {
    let user = |name: String, extra: Value| {
        let mut user = json!({"username": name, "email": format!("{name}@bench.example")});
        if let (Value::Object(user), Value::Object(extra)) = (&mut user, extra) {
            user.extend(extra);
        }
        user
    };
    let mut users = vec![
        user(ADMIN.into(), json!({"admin": true})),
        user(MANY.into(), json!({})),
    ];
    users.extend(
        (0..sizes.login_users)
            .map(|i| user(login_name(i), json!({"password_hash": password_hash}))),
    );
    users.extend((0..sizes.members).map(|i| user(member_name(i), json!({}))));
    let team = |i: u64| format!("{GROUP}/t{:03}", i / TEAM_SIZE);
    let mut groups = vec![json!({"path": GROUP})];
    groups.extend(
        (0..sizes.members.div_ceil(TEAM_SIZE)).map(|t| json!({"path": team(t * TEAM_SIZE)})),
    );
    let memberships: Vec<Value> = (0..sizes.members)
        .map(|i| json!({"group": team(i), "user": member_name(i)}))
        .collect();
    json!({"users": users, "groups": groups, "memberships": memberships})
}

/// Tokens of the seeded sessions that requests use.
pub struct Tokens {
    /// One session of every group member, in member order.
    pub check: Vec<SecretToken>,
    /// A session of the user with `LISTED` sessions.
    pub many: SecretToken,
    /// A session of the administrator.
    pub admin: SecretToken,
}

/// Deterministic pseudo-random numbers (SplitMix64): spreads times and addresses.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Every session of a run, made one at a time so 1M never sit in memory together.
pub struct Plan {
    sizes: Sizes,
    ids: HashMap<String, i64>,
    /// When the sessions were seeded: they were last active minutes before.
    pub now: Timestamp,
    pub tokens: Tokens,
}

const MINUTE: u64 = 60_000;

/// A prime that divides no run size (1M = 2⁶·5⁶, 5k = 2³·5⁴), so `n * SCATTER % sessions`
/// visits every session number once.
const SCATTER: u64 = 7919;

impl Plan {
    /// `ids`: the imported users' ids by username.
    pub fn new(sizes: Sizes, ids: HashMap<String, i64>, now: Timestamp) -> Plan {
        let tokens = Tokens {
            check: (0..sizes.members)
                .map(|_| SecretToken::generate())
                .collect(),
            many: SecretToken::generate(),
            admin: SecretToken::generate(),
        };
        Plan {
            sizes,
            ids,
            now,
            tokens,
        }
    }

    /// The `n`th session written. Written in a shuffled order of their numbers `i`, so a
    /// user's sessions lie scattered over the table as sessions made over time do, not in
    /// one run of rows that a bulk delete would find together.
    pub fn session(&self, n: u64) -> Session {
        self.numbered(n * SCATTER % self.sizes.sessions, self.now)
    }

    /// How many sessions the group's members hold.
    pub fn member_sessions(&self) -> u64 {
        self.sizes.members * PER_MEMBER
    }

    /// The group member's session `i` (below [`Self::member_sessions`]) as seeded, but last
    /// active minutes before `now`: what a paired revocation finds again after an earlier
    /// one.
    pub fn member_session(&self, i: u64, now: Timestamp) -> Session {
        self.numbered(i, now)
    }

    /// Session number `i`, last active minutes before `now`: members' first, then the
    /// listed user's, the admin's, and filler sessions of users outside the directory (they
    /// only add rows).
    fn numbered(&self, i: u64, now: Timestamp) -> Session {
        let mut mix = Mix(i);
        let members_end = self.member_sessions();
        let (username, token) = if i < members_end {
            let member = i / PER_MEMBER;
            let known = i
                .is_multiple_of(PER_MEMBER)
                .then(|| self.tokens.check[member as usize].hash());
            (member_name(member), known)
        } else if i < members_end + LISTED {
            let known = (i == members_end).then(|| self.tokens.many.hash());
            (MANY.to_owned(), known)
        } else if i == members_end + LISTED {
            (ADMIN.to_owned(), Some(self.tokens.admin.hash()))
        } else {
            (format!("filler{}", i / PER_MEMBER), None)
        };
        let user_id = self
            .ids
            .get(&username)
            .copied()
            .unwrap_or(1_000_000_000 + (i / PER_MEMBER) as i64);
        // Sessions requests use were active two minutes ago: their first check writes
        // activity once, as in steady state; the rest spread over the last 45 minutes.
        let idle = if token.is_some() {
            2 * MINUTE
        } else {
            2 * MINUTE + mix.next() % (45 * MINUTE)
        };
        let last_active_at = Timestamp(now.0 - idle as i64);
        let created_at = Timestamp(last_active_at.0 - (mix.next() % (600 * MINUTE)) as i64);
        let absolute_expires_at = created_at.plus(Duration::from_secs(24 * 3600));
        let (user_agent, browser, os, device_type) = USER_AGENTS[(mix.next() % 3) as usize];
        let random = mix.next();
        let ip_address = if token.is_some() {
            CHECKED_ADDRESS.to_owned()
        } else {
            format!(
                "10.{}.{}.{}",
                random >> 56,
                (random >> 48) & 255,
                (random >> 40) & 255
            )
        };
        let token_hash = token.unwrap_or_else(|| {
            let mut bytes = [0u8; 32];
            for chunk in bytes.chunks_mut(8) {
                chunk.copy_from_slice(&mix.next().to_le_bytes());
            }
            TokenHash(bytes)
        });
        Session {
            id: new_public_id(),
            token_hash,
            user_id,
            username,
            last_ip_address: ip_address.clone(),
            ip_address,
            user_agent: user_agent.into(),
            browser: browser.into(),
            os: os.into(),
            device_type,
            created_at,
            last_active_at,
            expires_at: last_active_at
                .plus(Duration::from_secs(3600))
                .min(absolute_expires_at),
            absolute_expires_at,
            remember_me: random & 1 == 0,
        }
    }
}

/// Writes `count` sessions, `make(0)` to `make(count - 1)`, into a SQLite store in one
/// transaction.
pub fn sqlite_insert(
    path: &str,
    count: u64,
    make: impl Fn(u64) -> Session,
) -> rusqlite::Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("PRAGMA cache_size = -262144;")?;
    let tx = conn.transaction()?;
    for i in 0..count {
        insert_session(&tx, &make(i))?;
    }
    tx.commit()
}

/// Folds the write-ahead log into the database file, so file sizes tell the whole story.
pub fn checkpoint(path: &str) -> rusqlite::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

/// Writes `count` sessions, `make(0)` to `make(count - 1)`, through the `SessionStore`
/// trait as created at `now`, 64 at a time.
pub async fn store_insert(
    store: Arc<dyn SessionStore>,
    count: u64,
    now: Timestamp,
    make: Arc<dyn Fn(u64) -> Session + Send + Sync>,
) {
    let next = Arc::new(AtomicU64::new(0));
    let limit = SessionLimit {
        max_per_user: u32::MAX,
        evict_oldest: false,
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (store, make, next) = (store.clone(), make.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return;
                }
                let outcome = store.create(&make(i), limit, now).await;
                assert!(matches!(outcome, Ok(CreateOutcome::Created { .. })));
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a seeding worker failed");
    }
}
