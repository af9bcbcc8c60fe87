//! The store conformance suite: the same checks against every backend, through the traits only,
//! one test per check per backend (`conformance::redis::touch`), each on a store of its own.
//! Times are near the real clock, since Redis expires keys by it; "later" is passed as `now`.

use crate::services::{Backend, Isolated};
use sessiond::config::StorageSettings;
use sessiond::domain::address_filter::AddressFilter;
use sessiond::domain::session::Session;
use sessiond::domain::time::{Clock, SystemClock, Timestamp};
use sessiond::domain::token::{SecretToken, new_public_id};
use sessiond::domain::user_agent::DeviceType;
use sessiond::store::{CreateOutcome, SessionFilter, SessionLimit, SessionStore, Stores};
use std::collections::BTreeSet;

/// A `#[tokio::test]` per check: `$suite` names the module of the checks and the store of
/// [`Stores`] they take, which [`open`] puts on `$backend` (the sessions when `$for_sessions`).
macro_rules! checks {
    ($suite:ident, $for_sessions:literal, $backend:expr; $($check:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let opened = crate::conformance::open($backend, $for_sessions).await;
            if let Some((stores, _guards)) = opened {
                crate::conformance::$suite::$check(stores.$suite.as_ref()).await;
            }
        }
    )+};
}

/// Every session-store check (see `sessions`) as a test on `$backend`.
macro_rules! session_checks {
    ($backend:expr) => {
        checks!(sessions, true, $backend;
            create_and_find_by_token_hash,
            touch,
            list_by_user,
            delete_one,
            delete_by_user,
            limit_reject,
            limit_evict_oldest,
            limit_concurrent_logins,
            scan,
            scan_deep_pages_and_equal_activity,
            scan_crowd_on_top,
            purge_expired,
            scan_after_mass_expiry,
            bulk_count_and_delete,
            address_change,
            address_filters,
            user_stamps,
            addresses_after_create,
            ended_sessions,
            pending_sign_ins,
            revocation_jobs,
        );
    };
}

/// Every directory check (see `directory`) as a test on `$backend`.
macro_rules! directory_checks {
    ($backend:expr) => {
        checks!(directory, false, $backend;
            ping,
            users,
            user_edits_and_deletion,
            user_locale,
            lockout,
            remember_tokens,
            remember_token_families,
            audit,
            login_record,
            groups,
            group_removals,
            import,
            api_tokens,
            alarms,
        );
    };
}

mod directory;
mod postgres;
mod redis;
mod sessions;
mod sqlite;

/// Redis Cluster holds sessions only.
mod redis_cluster {
    session_checks!(crate::services::Backend::RedisCluster);
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const ROOMY: SessionLimit = SessionLimit {
    max_per_user: 100,
    evict_oldest: false,
};

/// A fresh store of `backend`, or `None` with a notice naming the test when its service is
/// absent (libtest names the test's thread after the test).
fn isolated(backend: Backend) -> Option<Isolated> {
    let isolated = backend.isolated();
    if isolated.is_none() {
        let test = std::thread::current();
        let test = test.name().unwrap_or("a conformance test");
        eprintln!("SKIPPED {test}: {backend:?} is absent");
    }
    isolated
}

/// Opens `backend` for sessions (`for_sessions`) or for the directory, the other on SQLite.
async fn open(backend: Backend, for_sessions: bool) -> Option<(Stores, [Isolated; 2])> {
    let chosen = isolated(backend)?;
    let other = Backend::Sqlite.isolated().unwrap();
    let (sessions, directory) = if for_sessions {
        (chosen.url.clone(), other.url.clone())
    } else {
        (other.url.clone(), chosen.url.clone())
    };
    let settings = StorageSettings {
        sessions,
        directory,
    };
    let stores = sessiond::store::open(&settings).await.unwrap();
    Some((stores, [chosen, other]))
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// A session of `user`, last active `active` ms after `base`, expiring an hour after that.
fn session(user: i64, base: Timestamp, active: i64, ip: &str) -> Session {
    let last_active_at = Timestamp(base.0 + active);
    Session {
        id: new_public_id(),
        token_hash: SecretToken::generate().hash(),
        user_id: user,
        username: format!("user{user}"),
        ip_address: ip.into(),
        last_ip_address: ip.into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
        browser: "Firefox".into(),
        os: "Linux".into(),
        device_type: DeviceType::Desktop,
        created_at: base,
        last_active_at,
        expires_at: Timestamp(last_active_at.0 + HOUR),
        absolute_expires_at: Timestamp(base.0 + 24 * HOUR),
        remember_me: user % 2 == 0,
    }
}

async fn create(store: &dyn SessionStore, s: &Session, limit: SessionLimit) -> Vec<Session> {
    create_at(store, s, limit, now()).await.0
}

/// Creates `s` as of `now`: the evicted sessions and the addresses the user's sessions have.
async fn create_at(
    store: &dyn SessionStore,
    s: &Session,
    limit: SessionLimit,
    now: Timestamp,
) -> (Vec<Session>, BTreeSet<String>) {
    match store.create(s, limit, now).await.unwrap() {
        CreateOutcome::Created { evicted, addresses } => (evicted, addresses),
        CreateOutcome::LimitReached => panic!("unexpectedly over the limit"),
    }
}

/// The sessions created from or last used from an address `filter` matches (as typed).
fn at(filter: &str) -> SessionFilter {
    SessionFilter {
        address: Some(AddressFilter::parse(filter).unwrap()),
        ..SessionFilter::default()
    }
}

fn ids(sessions: &[Session]) -> Vec<&str> {
    sessions.iter().map(|s| s.id.as_str()).collect()
}
