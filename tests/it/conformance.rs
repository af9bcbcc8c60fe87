//! The store conformance suite: the same checks against every backend, through the traits only.
//! Times are near the real clock, since Redis expires keys by it; "later" is passed as `now`.

use crate::services::{Backend, Isolated, psql, shared_redis_cli};
use futures_util::future::join_all;
use sessiond::config::StorageSettings;
use sessiond::domain::audit::{AuditEvent, AuditFilter, AuditKind, Outcome};
use sessiond::domain::group::{GroupPath, NewGroup};
use sessiond::domain::session::Session;
use sessiond::domain::time::{Clock, SystemClock, Timestamp};
use sessiond::domain::token::{SecretToken, TokenHash, new_public_id};
use sessiond::domain::user::{Email, NewUser, UserKind, UserState, Username};
use sessiond::domain::user_agent::DeviceType;
use sessiond::store::sqlite::SqliteSessionStore;
use sessiond::store::{
    CreateOutcome, Directory, DirectoryImport, LockoutPolicy, Page, RememberToken, SessionFilter,
    SessionLimit, SessionStore, StoreError, Stores, UserActivity,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const ROOMY: SessionLimit = SessionLimit {
    max_per_user: 100,
    evict_oldest: false,
};

/// Opens `backend` for sessions (`for_sessions`) or for the directory, the other on SQLite.
async fn open(backend: Backend, for_sessions: bool) -> Option<(Stores, [Isolated; 2])> {
    let chosen = backend.isolated()?;
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

fn ids(sessions: &[Session]) -> Vec<&str> {
    sessions.iter().map(|s| s.id.as_str()).collect()
}

type Check = for<'a> fn(
    &'a dyn SessionStore,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// Every session-store check, by name.
const SESSION_CHECKS: &[(&str, Check)] = &[
    ("create and find by token hash", |s| {
        Box::pin(create_and_find(s))
    }),
    ("touch", |s| Box::pin(touch(s))),
    ("list by user", |s| Box::pin(list_by_user(s))),
    ("delete one", |s| Box::pin(delete_one(s))),
    ("delete a user's", |s| Box::pin(delete_by_user(s))),
    ("limit: reject", |s| Box::pin(limit_reject(s))),
    ("limit: evict oldest", |s| Box::pin(limit_evict_oldest(s))),
    ("limit: concurrent logins", |s| {
        Box::pin(limit_concurrent(s))
    }),
    ("scan", |s| Box::pin(scan(s))),
    ("scan: deep pages and equal activity", |s| {
        Box::pin(scan_deep(s))
    }),
    ("scan: a crowd on top", |s| Box::pin(scan_crowd_on_top(s))),
    ("purge expired", |s| Box::pin(purge_expired(s))),
    ("scan after many expired at once", |s| {
        Box::pin(scan_after_mass_expiry(s))
    }),
    ("bulk count and delete", |s| Box::pin(bulk(s))),
    ("address change", |s| Box::pin(address_change(s))),
    ("user stamps", |s| Box::pin(user_stamps(s))),
    ("addresses after create", |s| {
        Box::pin(addresses_after_create(s))
    }),
];

async fn run_session_suite(backend: Backend) {
    for (name, check) in SESSION_CHECKS {
        let Some((stores, _guards)) = open(backend, true).await else {
            return;
        };
        eprintln!("{backend:?}: {name}");
        check(stores.sessions.as_ref()).await;
    }
}

async fn create_and_find(store: &dyn SessionStore) {
    store.ping().await.unwrap();
    let s = session(1, now(), 0, "192.0.2.1");
    assert!(create(store, &s, ROOMY).await.is_empty());
    assert_eq!(
        store.get_by_token_hash(&s.token_hash).await.unwrap(),
        Some(s)
    );
    let unknown = SecretToken::generate().hash();
    assert_eq!(store.get_by_token_hash(&unknown).await.unwrap(), None);
}

async fn touch(store: &dyn SessionStore) {
    let base = now();
    let s = session(1, base, 0, "192.0.2.1");
    create(store, &s, ROOMY).await;
    let (active, expires) = (Timestamp(base.0 + MINUTE), Timestamp(base.0 + 2 * HOUR));
    store.touch(&s.id, active, expires).await.unwrap();
    let found = store
        .get_by_token_hash(&s.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.last_active_at, found.expires_at), (active, expires));
    assert_eq!(found.created_at, s.created_at);
    store.touch("no-such-id", active, expires).await.unwrap();
    // Activity moves the session up the user's list and keeps it past its old expiry.
    let later = Timestamp(base.0 + 90 * MINUTE);
    assert_eq!(ids(&store.list_by_user(1, later).await.unwrap()), [s.id]);
}

async fn list_by_user(store: &dyn SessionStore) {
    let base = now();
    let old = session(1, base, 0, "192.0.2.1");
    let mut newest = session(1, base, 2 * MINUTE, "192.0.2.2");
    // What a store might have to escape on the way (Redis sends lists as JSON).
    newest.user_agent = "Mozilla/5.0 \"quoted\" back\\slash/\tτ 😀 {}[]".into();
    newest.username = "ünïcode \"name\"".into();
    let middle = session(1, base, MINUTE, "192.0.2.3");
    let other = session(2, base, 3 * MINUTE, "192.0.2.4");
    for s in [&old, &newest, &middle, &other] {
        create(store, s, ROOMY).await;
    }
    let listed = store.list_by_user(1, base).await.unwrap();
    assert_eq!(ids(&listed), [&newest.id, &middle.id, &old.id]);
    assert_eq!(listed[0], newest);
    // At a time when `old` has expired, it is no longer listed.
    let later = Timestamp(base.0 + HOUR + 30_000);
    assert_eq!(
        ids(&store.list_by_user(1, later).await.unwrap()),
        [&newest.id, &middle.id]
    );
    assert!(store.list_by_user(3, base).await.unwrap().is_empty());
}

async fn delete_one(store: &dyn SessionStore) {
    let base = now();
    let s = session(1, base, 0, "192.0.2.1");
    let keep = session(1, base, MINUTE, "192.0.2.1");
    create(store, &s, ROOMY).await;
    create(store, &keep, ROOMY).await;
    assert_eq!(store.delete(&s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(store.delete(&s.id).await.unwrap(), None);
    assert_eq!(store.get_by_token_hash(&s.token_hash).await.unwrap(), None);
    assert_eq!(ids(&store.list_by_user(1, base).await.unwrap()), [&keep.id]);
    assert_eq!(store.delete("no-such-id").await.unwrap(), None);
}

async fn delete_by_user(store: &dyn SessionStore) {
    let base = now();
    let (a, b) = (session(1, base, 0, "ip"), session(1, base, 2 * HOUR, "ip"));
    let other = session(2, base, 0, "ip");
    for s in [&a, &b, &other] {
        create(store, s, ROOMY).await;
    }
    // `a` has expired by then: only `b` counts, but both go.
    let later = Timestamp(base.0 + 90 * MINUTE);
    assert_eq!(store.delete_by_user(1, later).await.unwrap(), 1);
    assert_eq!(store.get_by_token_hash(&a.token_hash).await.unwrap(), None);
    assert_eq!(store.get_by_token_hash(&b.token_hash).await.unwrap(), None);
    assert!(store.list_by_user(1, base).await.unwrap().is_empty());
    assert_eq!(
        ids(&store.list_by_user(2, base).await.unwrap()),
        [&other.id]
    );
    assert_eq!(store.delete_by_user(1, base).await.unwrap(), 0);
}

async fn limit_reject(store: &dyn SessionStore) {
    let limit = SessionLimit {
        max_per_user: 2,
        evict_oldest: false,
    };
    let base = now();
    let first = session(1, base, 0, "ip");
    create(store, &first, limit).await;
    create(store, &session(1, base, 1, "ip"), limit).await;
    create(store, &session(2, base, 1, "ip"), limit).await;
    let third = session(1, base, 2, "ip");
    assert!(matches!(
        store.create(&third, limit, base).await.unwrap(),
        CreateOutcome::LimitReached
    ));
    assert_eq!(
        store.get_by_token_hash(&third.token_hash).await.unwrap(),
        None
    );
    assert_eq!(store.list_by_user(1, base).await.unwrap().len(), 2);
    // An expired session does not count, and a deleted one makes room.
    let later = Timestamp(base.0 + HOUR);
    assert!(matches!(
        store.create(&third, limit, later).await.unwrap(),
        CreateOutcome::Created { .. }
    ));
    store.delete(&third.id).await.unwrap();
    store.delete(&first.id).await.unwrap();
    create(store, &third, limit).await;
}

async fn limit_evict_oldest(store: &dyn SessionStore) {
    let limit = SessionLimit {
        max_per_user: 2,
        evict_oldest: true,
    };
    let base = now();
    let (first, second) = (session(1, base, 0, "ip"), session(1, base, 1, "ip"));
    create(store, &first, limit).await;
    create(store, &second, limit).await;
    // `first` is used again, so `second` is now the least recently active.
    store
        .touch(&first.id, Timestamp(base.0 + 10), first.expires_at)
        .await
        .unwrap();
    let third = session(1, base, 20, "ip");
    let evicted = create(store, &third, limit).await;
    assert_eq!(ids(&evicted), [&second.id]);
    assert_eq!(
        store.get_by_token_hash(&second.token_hash).await.unwrap(),
        None
    );
    let listed = store.list_by_user(1, base).await.unwrap();
    assert_eq!(ids(&listed), [&third.id, &first.id]);
}

async fn limit_concurrent(store: &dyn SessionStore) {
    let limit = SessionLimit {
        max_per_user: 1,
        evict_oldest: false,
    };
    let base = now();
    let attempts: Vec<Session> = (0..8).map(|i| session(1, base, i, "ip")).collect();
    let outcomes = join_all(attempts.iter().map(|s| store.create(s, limit, base))).await;
    let created = outcomes
        .into_iter()
        .filter(|o| matches!(o, Ok(CreateOutcome::Created { .. })))
        .count();
    assert_eq!(created, 1, "exactly one of the concurrent logins fits");
    assert_eq!(store.list_by_user(1, base).await.unwrap().len(), 1);
}

async fn scan(store: &dyn SessionStore) {
    let base = now();
    let mut all = Vec::new();
    for (i, user) in [1, 2, 3, 1, 2, 17, 1].into_iter().enumerate() {
        let ip = if i % 2 == 0 {
            "198.51.100.1"
        } else {
            "198.51.100.2"
        };
        let s = session(user, base, i as i64 * MINUTE, ip);
        create(store, &s, ROOMY).await;
        all.push(s);
    }
    all.reverse(); // newest activity first
    let page = store
        .scan(&SessionFilter::default(), base, 3, 0)
        .await
        .unwrap();
    assert_eq!(page.total, 7);
    assert_eq!(ids(&page.items), ids(&all[..3]));
    let page = store
        .scan(&SessionFilter::default(), base, 3, 6)
        .await
        .unwrap();
    assert_eq!(ids(&page.items), ids(&all[6..]));
    every_page(store, base, &all).await;

    let by_user = SessionFilter {
        user_id: Some(1),
        ..SessionFilter::default()
    };
    let page = store.scan(&by_user, base, 2, 1).await.unwrap();
    assert_eq!(page.total, 3);
    let user_ones: Vec<&Session> = all.iter().filter(|s| s.user_id == 1).collect();
    assert_eq!(ids(&page.items), [&user_ones[1].id, &user_ones[2].id]);

    let by_ip = SessionFilter {
        ip_address: Some("198.51.100.2".into()),
        ..SessionFilter::default()
    };
    let page = store.scan(&by_ip, base, 10, 0).await.unwrap();
    assert_eq!(page.total, 3);
    assert!(page.items.iter().all(|s| s.ip_address == "198.51.100.2"));
    let at_two: Vec<&Session> = all
        .iter()
        .filter(|s| s.ip_address == "198.51.100.2")
        .collect();
    let page = store.scan(&by_ip, base, 2, 1).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(ids(&page.items), [&at_two[1].id, &at_two[2].id]);

    let both = SessionFilter {
        user_id: Some(1),
        ip_address: Some("198.51.100.1".into()),
    };
    assert_eq!(store.scan(&both, base, 10, 0).await.unwrap().total, 2);

    // Later, the two least recently active have expired and are neither counted nor listed.
    let later = Timestamp(base.0 + HOUR + 90_000);
    let page = store
        .scan(&SessionFilter::default(), later, 10, 0)
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(ids(&page.items), ids(&all[..5]));
    every_page(store, later, &all[..5]).await;
    let page = store.scan(&by_ip, later, 10, 0).await.unwrap();
    assert_eq!(ids(&page.items), [&at_two[0].id, &at_two[1].id]);
}

/// Every page of 3 is the matching slice of `listed`, near and far (a store may read the back
/// half from the far end), and past the end.
async fn every_page(store: &dyn SessionStore, at: Timestamp, listed: &[Session]) {
    for offset in 0..=listed.len() + 1 {
        let page = store
            .scan(&SessionFilter::default(), at, 3, offset as u64)
            .await
            .unwrap();
        let expected = &listed[offset.min(listed.len())..(offset + 3).min(listed.len())];
        assert_eq!(ids(&page.items), ids(expected), "offset {offset}");
        assert_eq!(page.total, listed.len() as u64);
    }
}

/// Creates `sessions` 50 at a time (a thousand a user allowed) and lists them all at `at`.
async fn create_and_list(
    store: &dyn SessionStore,
    sessions: &[Session],
    at: Timestamp,
) -> Page<Session> {
    let limit = SessionLimit {
        max_per_user: 1000,
        ..ROOMY
    };
    for chunk in sessions.chunks(50) {
        join_all(chunk.iter().map(|s| create(store, s, limit))).await;
    }
    store
        .scan(&SessionFilter::default(), at, 1000, 0)
        .await
        .unwrap()
}

/// Every page of 3 and every `step`th page of 50, and those past the end, is the matching
/// slice of `all`, the whole listing at `at`.
async fn pages_match(store: &dyn SessionStore, at: Timestamp, all: &Page<Session>, step: usize) {
    assert_eq!(all.items.len() as u64, all.total);
    let (all, total) = (&all.items, all.items.len());
    for (limit, step) in [(3, 1), (50, step)] {
        for offset in (0..=total + 2).step_by(step) {
            let page = store
                .scan(&SessionFilter::default(), at, limit as u32, offset as u64)
                .await
                .unwrap();
            let expected = &all[offset.min(total)..(offset + limit).min(total)];
            assert_eq!(
                ids(&page.items),
                ids(expected),
                "limit {limit}, offset {offset}"
            );
            assert_eq!(page.total, total as u64);
        }
    }
}

/// A listing large enough that a store may search for deep pages instead of reading from the
/// top, where most sessions share their last-activity time with others, of the same user and
/// of other users: every page, near and deep, is the matching slice of the whole listing.
async fn scan_deep(store: &dyn SessionStore) {
    let base = now();
    // Half spread over 40 users; half in six crowds of fifty that share a time, of three
    // users whose ids are 16 apart (one Redis listing shard).
    let sessions: Vec<Session> = (0..600)
        .map(|i| match i % 2 {
            0 => session(i % 40 + 1, base, i * 250, "ip"),
            _ => session([1, 17, 33][i as usize % 3], base, i / 100 * 25_000, "ip"),
        })
        .collect();
    let all = create_and_list(store, &sessions, base).await;
    assert_eq!(all.total, 600);
    let (mut listed, mut created) = (ids(&all.items), ids(&sessions));
    listed.sort_unstable();
    created.sort_unstable();
    assert_eq!(listed, created);
    assert!(
        all.items
            .windows(2)
            .all(|w| w[0].last_active_at >= w[1].last_active_at)
    );
    pages_match(store, base, &all, 23).await;
}

/// The newest 150 sessions share one time (a bulk import, say), over 30 users and so over
/// many Redis listing shards; 50 older ones are spread out. Every page near the top, where
/// a store may merge the newest few of each part instead of searching, is the matching
/// slice of the whole listing.
async fn scan_crowd_on_top(store: &dyn SessionStore) {
    let base = now();
    let sessions: Vec<Session> = (0..200)
        .map(|i| match i < 150 {
            true => session(i % 30 + 1, base, 100_000, "ip"),
            false => session(i % 7 + 1, base, i * 250, "ip"),
        })
        .collect();
    let all = create_and_list(store, &sessions, base).await;
    assert_eq!(all.total, 200);
    assert!(
        all.items[..150]
            .iter()
            .all(|s| s.last_active_at.0 == base.0 + 100_000)
    );
    pages_match(store, base, &all, 7).await;
}

async fn purge_expired(store: &dyn SessionStore) {
    let base = now();
    let (old, young) = (session(1, base, 0, "ip"), session(2, base, 2 * HOUR, "ip"));
    create(store, &old, ROOMY).await;
    create(store, &young, ROOMY).await;
    let later = Timestamp(base.0 + 90 * MINUTE);
    assert_eq!(store.purge_expired(later).await.unwrap(), 1);
    assert_eq!(store.purge_expired(later).await.unwrap(), 0);
    let page = store
        .scan(&SessionFilter::default(), base, 10, 0)
        .await
        .unwrap();
    assert_eq!(ids(&page.items), [&young.id]);
}

/// More sessions expire together than a store may clear in one step (Redis purges a listing
/// shard a thousand entries at a time): a listing afterwards still counts and lists only the
/// live ones, whatever the page.
async fn scan_after_mass_expiry(store: &dyn SessionStore) {
    let base = now();
    let limit = SessionLimit {
        max_per_user: 2000,
        ..ROOMY
    };
    // One user's, so all in one Redis listing shard, with a live one of the same shard.
    let expiring: Vec<Session> = (0..1100).map(|i| session(5, base, i, "ip")).collect();
    // Logins of one user take turns on PostgreSQL (the limit locks the user): no more at once
    // than its pool holds, so none waits out the pool's timeout behind a queue of the others.
    for chunk in expiring.chunks(16) {
        join_all(chunk.iter().map(|s| create(store, s, limit))).await;
    }
    let live = [
        session(5, base, 2 * HOUR, "ip"),
        session(21, base, 2 * HOUR + 1, "ip"),
    ];
    for s in &live {
        create(store, s, limit).await;
    }
    let later = Timestamp(base.0 + 90 * MINUTE);
    for offset in [0, 1, 2] {
        let page = store
            .scan(&SessionFilter::default(), later, 50, offset)
            .await
            .unwrap();
        assert_eq!(page.total, 2, "offset {offset}");
        assert_eq!(
            ids(&page.items),
            [&live[1].id, &live[0].id][offset as usize..]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_sqlite() {
    run_session_suite(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_postgres() {
    run_session_suite(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_redis() {
    run_session_suite(Backend::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_redis_cluster() {
    run_session_suite(Backend::RedisCluster).await;
}

async fn bulk(store: &dyn SessionStore) {
    let base = now();
    // Counting: at `later`, user 3's first session has expired and user 4 has nothing live.
    let (c1, c2) = (session(3, base, 0, "ip"), session(3, base, 2 * HOUR, "ip"));
    let d1 = session(4, base, 0, "ip");
    // Deleting: user 1 (one live, one expired at `later`) and user 2, who keeps hers.
    let (a1, a2) = (session(1, base, 0, "ip"), session(1, base, 2 * HOUR, "ip"));
    let b = session(2, base, 2 * HOUR, "ip");
    for s in [&c1, &c2, &d1, &a1, &a2, &b] {
        create(store, s, ROOMY).await;
    }
    let later = Timestamp(base.0 + 90 * MINUTE);
    let counted = store.activity_by_users(&[3, 4, 5], later).await.unwrap();
    let activity = UserActivity {
        sessions: 1,
        last_active_at: c2.last_active_at,
    };
    assert_eq!(counted, std::collections::BTreeMap::from([(3, activity)]));
    assert!(
        store
            .activity_by_users(&[], later)
            .await
            .unwrap()
            .is_empty()
    );
    let deleted = store.delete_by_users(&[1, 6], later).await.unwrap();
    assert_eq!(deleted, std::collections::BTreeMap::from([(1, 1)]));
    for gone in [&a1, &a2] {
        assert_eq!(
            store.get_by_token_hash(&gone.token_hash).await.unwrap(),
            None
        );
        // Whatever a store leaves behind of a revoked session must not bring it back.
        store.touch(&gone.id, base, later).await.unwrap();
        store.set_ip_address(&gone.id, "elsewhere").await.unwrap();
        assert_eq!(store.delete(&gone.id).await.unwrap(), None);
        assert_eq!(
            store.get_by_token_hash(&gone.token_hash).await.unwrap(),
            None
        );
    }
    assert_eq!(ids(&store.list_by_user(2, base).await.unwrap()), [&b.id]);
    let listed = store.scan(&SessionFilter::default(), base, 10, 0).await;
    let listed = listed.unwrap();
    assert_eq!(listed.total, 4);
    let mut listed = ids(&listed.items);
    listed.sort();
    let mut kept = [&c1.id, &c2.id, &d1.id, &b.id].map(String::as_str);
    kept.sort();
    assert_eq!(listed, kept);
    // Once all have expired, the purge counts the four, not the revoked ones again.
    let expired = Timestamp(base.0 + 4 * HOUR);
    assert_eq!(store.purge_expired(expired).await.unwrap(), 4);
    assert_eq!(store.purge_expired(expired).await.unwrap(), 0);
}

async fn address_change(store: &dyn SessionStore) {
    let base = now();
    let s = session(1, base, 0, "192.0.2.1");
    create(store, &s, ROOMY).await;
    store.set_ip_address(&s.id, "198.51.100.7").await.unwrap();
    let found = store
        .get_by_token_hash(&s.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.ip_address, "198.51.100.7");
    let by_ip = SessionFilter {
        ip_address: Some("198.51.100.7".into()),
        ..SessionFilter::default()
    };
    assert_eq!(
        ids(&store.scan(&by_ip, base, 10, 0).await.unwrap().items),
        [&s.id]
    );
    let by_old_ip = SessionFilter {
        ip_address: Some("192.0.2.1".into()),
        ..SessionFilter::default()
    };
    assert_eq!(store.scan(&by_old_ip, base, 10, 0).await.unwrap().total, 0);
    // A deleted session is not brought back by a late address change, nor listed.
    store.delete(&s.id).await.unwrap();
    store.set_ip_address(&s.id, "203.0.113.1").await.unwrap();
    assert_eq!(store.get_by_token_hash(&s.token_hash).await.unwrap(), None);
    assert_eq!(store.scan(&by_ip, base, 10, 0).await.unwrap().total, 0);
}

/// A user's stamp changes with every deletion and address change of the user's sessions and
/// on request, and with nothing else; stores that cannot tell say `None` throughout.
async fn user_stamps(store: &dyn SessionStore) {
    let base = now();
    let limit_one = SessionLimit {
        max_per_user: 1,
        evict_oldest: true,
    };
    let (first, second) = (session(1, base, 0, "ip"), session(1, base, MINUTE, "ip"));
    let other = session(2, base, 0, "ip");
    create(store, &first, limit_one).await;
    create(store, &other, limit_one).await;
    let stamp = store.user_stamp(1).await.unwrap();
    assert_eq!(stamp.is_some(), store.keeps_stamps());
    let Some(mut stamp) = stamp else {
        // Then it must never vouch for anything.
        store.delete(&first.id).await.unwrap();
        assert_eq!(store.user_stamp(1).await.unwrap(), None);
        return;
    };
    store
        .touch(
            &first.id,
            Timestamp(base.0 + MINUTE),
            Timestamp(base.0 + HOUR),
        )
        .await
        .unwrap();
    assert_eq!(
        store.user_stamp(1).await.unwrap(),
        Some(stamp),
        "touch does not"
    );
    let others = store.user_stamp(2).await.unwrap();
    let mut changes = |what: &str, now: Option<u64>| {
        let now = now.expect("a stamp while sessions exist");
        assert_ne!(now, stamp, "{what} gives a new stamp");
        stamp = now;
    };
    store.set_ip_address(&first.id, "ip2").await.unwrap();
    changes("an address change", store.user_stamp(1).await.unwrap());
    assert_eq!(create(store, &second, limit_one).await.len(), 1);
    changes("an eviction", store.user_stamp(1).await.unwrap());
    store.invalidate_user(1).await.unwrap();
    changes("invalidating", store.user_stamp(1).await.unwrap());
    store.delete(&second.id).await.unwrap();
    changes("a deletion", store.user_stamp(1).await.unwrap());
    create(store, &first, ROOMY).await;
    store.delete_by_users(&[1], base).await.unwrap();
    changes("a bulk deletion", store.user_stamp(1).await.unwrap());
    create(store, &second, ROOMY).await;
    store.delete_by_user(1, base).await.unwrap();
    changes("deleting a user's", store.user_stamp(1).await.unwrap());
    assert_eq!(
        store.user_stamp(2).await.unwrap(),
        others,
        "other users keep theirs"
    );
    // Read at once (Redis answers concurrent reads with one command), each is its user's.
    let users = [1, 2, 3, 1, 17];
    let together: Vec<Option<u64>> = join_all(users.map(|user| store.user_stamp(user)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut apart = Vec::new();
    for user in users {
        apart.push(store.user_stamp(user).await.unwrap());
    }
    assert_eq!(together, apart);
    assert_eq!((together[0], together[1]), (Some(stamp), others));
    assert_ne!(together[0], together[1]);
}

async fn addresses_after_create(store: &dyn SessionStore) {
    let limit = SessionLimit {
        max_per_user: 3,
        evict_oldest: true,
    };
    let base = now();
    let set = |ips: &[&str]| -> BTreeSet<String> { ips.iter().map(|ip| ip.to_string()).collect() };
    let first = session(1, base, 0, "192.0.2.1");
    assert_eq!(
        create_at(store, &first, limit, base).await.1,
        set(&["192.0.2.1"])
    );
    // Another user's sessions and empty addresses do not count; a repeated one counts once.
    create(store, &session(2, base, 0, "203.0.113.9"), limit).await;
    let no_address = session(1, base, 1, "");
    assert_eq!(
        create_at(store, &no_address, limit, base).await.1,
        set(&["192.0.2.1"])
    );
    let second = session(1, base, 2, "192.0.2.2");
    let (_, addresses) = create_at(store, &second, limit, base).await;
    assert_eq!(addresses, set(&["192.0.2.1", "192.0.2.2"]));
    // The evicted session's address goes with it; the new one's is there.
    let third = session(1, base, 3, "192.0.2.3");
    let (evicted, addresses) = create_at(store, &third, limit, base).await;
    assert_eq!(ids(&evicted), [&first.id]);
    assert_eq!(addresses, set(&["192.0.2.2", "192.0.2.3"]));
    // Expired sessions do not count.
    let later = Timestamp(base.0 + 2 * HOUR);
    let fourth = session(1, later, 0, "192.0.2.4");
    assert_eq!(
        create_at(store, &fourth, limit, later).await.1,
        set(&["192.0.2.4"])
    );
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        name: format!("{name} Example"),
        email: Email::parse(&format!("{name}@Example.com")).unwrap(),
        kind: UserKind::Human,
        is_admin: false,
        is_owner: false,
        password_hash: Some("$argon2id$stub".into()),
    }
}

async fn run_directory_suite(backend: Backend) {
    let Some((stores, _guards)) = open(backend, false).await else {
        return;
    };
    let directory = stores.directory.as_ref();
    directory.ping().await.unwrap();
    users(directory).await;
    lockout(directory).await;
    remember_tokens(directory).await;
    audit(directory).await;
    login_record(directory).await;
    groups(directory).await;
    import(directory).await;
    api_tokens(directory).await;
    alarms(directory).await;
}

fn new_group(path: &str) -> NewGroup {
    let path = GroupPath::parse(path).unwrap();
    NewGroup {
        name: path.as_str().rsplit('/').next().unwrap().to_owned(),
        path,
    }
}

async fn groups(d: &dyn Directory) {
    let base = now();
    let carol = d.create_user(&new_user("carol"), base).await.unwrap();
    let dave = d.create_user(&new_user("dave"), base).await.unwrap();
    let acme = d.create_group(&new_group("acme"), base).await.unwrap();
    let platform = d
        .create_group(&new_group("acme/platform"), base)
        .await
        .unwrap();
    let outside = d.create_group(&new_group("42"), base).await.unwrap();
    assert_eq!(platform.parent_id, Some(acme.id));
    assert_eq!(acme.parent_id, None);
    for bad in ["acme", "nowhere/child"] {
        assert!(
            matches!(
                d.create_group(&new_group(bad), base).await,
                Err(StoreError::Conflict(_))
            ),
            "{bad}"
        );
    }
    assert!(d.add_member(platform.id, carol.id).await.unwrap());
    assert!(
        !d.add_member(platform.id, carol.id).await.unwrap(),
        "already a member"
    );
    assert!(d.add_member(acme.id, dave.id).await.unwrap());
    assert!(d.add_member(outside.id, dave.id).await.unwrap());
    assert!(d.share_group(platform.id, outside.id).await.unwrap());
    assert!(!d.share_group(platform.id, outside.id).await.unwrap());
    let graph = d.group_graph().await.unwrap();
    let paths: Vec<&str> = graph.groups.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["42", "acme", "acme/platform"]);
    assert_eq!(graph.shares.len(), 1);
    assert_eq!(
        (graph.shares[0].group_id, graph.shares[0].shared_with_id),
        (platform.id, outside.id)
    );
    let members = d.direct_members(&[platform.id, outside.id]).await.unwrap();
    let pairs: Vec<(i64, &str)> = members
        .iter()
        .map(|(g, u)| (*g, u.username.as_str()))
        .collect();
    let mut expected = vec![(platform.id, "carol"), (outside.id, "dave")];
    expected.sort();
    let mut pairs = pairs;
    pairs.sort();
    assert_eq!(pairs, expected);
    assert!(d.direct_members(&[]).await.unwrap().is_empty());
}

async fn import(d: &dyn Directory) {
    let base = now();
    let before = d.count_users().await.unwrap();
    let good = DirectoryImport {
        users: vec![new_user("erin"), new_user("frank")],
        groups: vec![new_group("beta"), new_group("beta/ops")],
        memberships: vec![(
            GroupPath::parse("beta/ops").unwrap(),
            Username::parse("erin").unwrap(),
        )],
        shares: vec![],
    };
    let imported = d.import(&good, base).await.unwrap();
    assert_eq!(imported.users.len(), 2);
    assert_eq!(d.count_users().await.unwrap(), before + 2);
    let paths: Vec<&str> = imported.groups.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["beta", "beta/ops"]);
    let erin = &imported.users[0];
    assert_eq!(
        imported.memberships,
        [(
            good.memberships[0].0.clone(),
            erin.id,
            erin.username.clone()
        )]
    );
    assert!(imported.shares.is_empty());
    // What an import adds is reported; a membership that already existed is not.
    let again = DirectoryImport {
        shares: vec![(
            GroupPath::parse("beta/ops").unwrap(),
            GroupPath::parse("beta").unwrap(),
        )],
        ..DirectoryImport {
            users: vec![],
            groups: vec![],
            ..good.clone()
        }
    };
    let imported = d.import(&again, base).await.unwrap();
    assert!(imported.users.is_empty() && imported.groups.is_empty());
    assert!(imported.memberships.is_empty());
    assert_eq!(imported.shares, again.shares);
    // A later error (an unknown member) takes the whole import back.
    let bad = DirectoryImport {
        users: vec![new_user("grace")],
        groups: vec![new_group("gamma")],
        memberships: vec![(
            GroupPath::parse("gamma").unwrap(),
            Username::parse("nobody").unwrap(),
        )],
        shares: vec![],
    };
    assert!(d.import(&bad, base).await.is_err());
    assert_eq!(d.count_users().await.unwrap(), before + 2);
    assert!(d.user_by_username("grace").await.unwrap().is_none());
    let graph = d.group_graph().await.unwrap();
    assert!(!graph.groups.iter().any(|g| g.path.as_str() == "gamma"));
}

async fn api_tokens(d: &dyn Directory) {
    let base = now();
    let secret = SecretToken::generate();
    let token = d
        .create_api_token("ci", &secret.hash(), base)
        .await
        .unwrap();
    assert_eq!((token.name.as_str(), token.last_used_at), ("ci", None));
    let again = d
        .create_api_token("ci", &SecretToken::generate().hash(), base)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let used = d
        .use_api_token(&secret.hash(), base)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.id, token.id);
    let listed = d.list_api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(base), "the first use is noted");
    let soon = Timestamp(base.0 + 1000);
    d.use_api_token(&secret.hash(), soon).await.unwrap();
    assert_eq!(
        d.list_api_tokens().await.unwrap()[0].last_used_at,
        Some(base),
        "not every use writes"
    );
    assert!(
        d.use_api_token(&SecretToken::generate().hash(), base)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        d.delete_api_token(token.id).await.unwrap().map(|t| t.id),
        Some(token.id)
    );
    assert!(d.delete_api_token(token.id).await.unwrap().is_none());
    assert!(
        d.use_api_token(&secret.hash(), base)
            .await
            .unwrap()
            .is_none()
    );
}

async fn alarms(d: &dyn Directory) {
    let base = now();
    let ips = |n: usize| (1..=n).map(|i| format!("192.0.2.{i}")).collect::<Vec<_>>();
    let (alarm, raised) = d.record_ip_spread(7, "user7", &ips(4), base).await.unwrap();
    assert!(raised);
    assert_eq!(alarm.ip_addresses, ips(4));
    let later = Timestamp(base.0 + 1000);
    let (same, raised) = d
        .record_ip_spread(7, "user7", &ips(5), later)
        .await
        .unwrap();
    assert!(!raised, "one open alarm per user");
    assert_eq!(
        (same.id, same.first_seen_at, same.last_seen_at),
        (alarm.id, base, later)
    );
    assert_eq!(same.ip_addresses, ips(5));
    d.record_ip_spread(8, "user8", &ips(4), base).await.unwrap();
    assert_eq!(d.list_alarms(true, 10, 0).await.unwrap().total, 2);
    let acknowledged = d
        .acknowledge_alarm(alarm.id, "user:root", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("user:root"));
    assert!(
        d.acknowledge_alarm(alarm.id, "user:root", later)
            .await
            .unwrap()
            .is_none()
    );
    let open = d.list_alarms(true, 10, 0).await.unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0].user_id, 8);
    let (fresh, raised) = d
        .record_ip_spread(7, "user7", &ips(4), later)
        .await
        .unwrap();
    assert!(
        raised && fresh.id != alarm.id,
        "a later spread raises a new alarm"
    );
    let all = d.list_alarms(false, 10, 0).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].id, fresh.id, "newest first");
    assert_eq!(d.list_alarms(false, 1, 1).await.unwrap().items.len(), 1);
}

async fn users(d: &dyn Directory) {
    let base = now();
    assert_eq!(d.count_users().await.unwrap(), 0);
    let alice = d.create_user(&new_user("alice"), base).await.unwrap();
    let bob = d.create_user(&new_user("bob"), base).await.unwrap();
    assert_eq!(alice.email.as_str(), "alice@example.com");
    assert_eq!(
        (alice.state, alice.failed_logins, alice.locked_until),
        (UserState::Active, 0, None)
    );
    assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$stub"));
    assert_eq!(alice.created_at, base);
    assert!(matches!(
        d.create_user(&new_user("alice"), base).await,
        Err(StoreError::Conflict(_))
    ));
    let mut same_email = new_user("alice2");
    same_email.email = alice.email.clone();
    assert!(matches!(
        d.create_user(&same_email, base).await,
        Err(StoreError::Conflict(_))
    ));
    let by_id = d.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(by_id.username.as_str(), "alice");
    let by_name = d.user_by_username("bob").await.unwrap().unwrap();
    assert_eq!(by_name.id, bob.id);
    let by_email = d.user_by_email("ALICE@example.com").await.unwrap().unwrap();
    assert_eq!(by_email.id, alice.id);
    assert!(d.user_by_username("carol").await.unwrap().is_none());
    let names: Vec<String> = d
        .list_users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(d.count_users().await.unwrap(), 2);

    d.set_user_state(alice.id, UserState::Blocked)
        .await
        .unwrap();
    d.set_password_hash(alice.id, "$argon2id$new")
        .await
        .unwrap();
    let alice = d.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(alice.state, UserState::Blocked);
    assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$new"));
}

async fn lockout(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("locky"), base).await.unwrap();
    let policy = LockoutPolicy {
        threshold: 3,
        duration: Duration::from_secs(60),
    };
    for expected in 1..=2 {
        let record = d.record_login_failure(user.id, policy, base).await.unwrap();
        assert_eq!(
            (record.failed_logins, record.locked_until),
            (expected, None)
        );
    }
    let third = d.record_login_failure(user.id, policy, base).await.unwrap();
    let until = Timestamp(base.0 + MINUTE);
    assert_eq!(third.locked_until, Some(until));
    let stored = d.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.failed_logins, stored.locked_until),
        (3, Some(until))
    );
    // After the lock ran out, counting starts again.
    let later = Timestamp(until.0 + 1);
    let again = d
        .record_login_failure(user.id, policy, later)
        .await
        .unwrap();
    assert_eq!((again.failed_logins, again.locked_until), (1, None));
    d.clear_login_failures(user.id).await.unwrap();
    let cleared = d.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
}

async fn remember_tokens(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("remy"), base).await.unwrap();
    let (a, b, stale) = (
        SecretToken::generate().hash(),
        SecretToken::generate().hash(),
        SecretToken::generate().hash(),
    );
    let expires = Timestamp(base.0 + HOUR);
    let remember = async |hash: &TokenHash, expires_at| {
        let token = RememberToken {
            hash: *hash,
            user_id: user.id,
            expires_at,
        };
        d.record_login(Some(&token), &[]).await.unwrap();
    };
    for hash in [&a, &b] {
        remember(hash, expires).await;
    }
    remember(&stale, Timestamp(base.0 - 1)).await;
    assert_eq!(
        d.take_remember_token(&a, base).await.unwrap(),
        Some(user.id)
    );
    assert_eq!(
        d.take_remember_token(&a, base).await.unwrap(),
        None,
        "single use"
    );
    assert_eq!(d.purge_expired_remember_tokens(base).await.unwrap(), 1);
    assert_eq!(d.take_remember_token(&stale, base).await.unwrap(), None);
    assert_eq!(d.revoke_remember_tokens(&[user.id]).await.unwrap(), 1);
    assert_eq!(d.take_remember_token(&b, base).await.unwrap(), None);
    // An expired token is refused even before it is purged.
    remember(&stale, expires).await;
    let after = Timestamp(expires.0 + 1);
    assert_eq!(d.take_remember_token(&stale, after).await.unwrap(), None);
}

/// A login's token and audit events are written together, or neither is.
async fn login_record(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("logan"), base).await.unwrap();
    let events = |n: i64| -> Vec<AuditEvent> {
        (0..n)
            .map(|i| {
                AuditEvent::new(
                    Timestamp(base.0 + i),
                    AuditKind::LoginSuccess,
                    "user:logan",
                    Outcome::Success,
                )
                .subject(user.id, "logan")
            })
            .collect()
    };
    let logged = async || {
        let mine = AuditFilter {
            user_id: Some(user.id),
            ..AuditFilter::default()
        };
        d.list_audit(&mine, 0, 0).await.unwrap().total
    };
    let token = RememberToken {
        hash: SecretToken::generate().hash(),
        user_id: user.id,
        expires_at: Timestamp(base.0 + HOUR),
    };
    d.record_login(Some(&token), &events(2)).await.unwrap();
    assert_eq!(logged().await, 2);
    d.record_login(None, &events(1)).await.unwrap();
    assert_eq!(logged().await, 3);
    // The same token hash again is refused, and the events with it are not written.
    assert!(d.record_login(Some(&token), &events(1)).await.is_err());
    assert_eq!(logged().await, 3);
    assert_eq!(
        d.take_remember_token(&token.hash, base).await.unwrap(),
        Some(user.id)
    );
}

async fn audit(d: &dyn Directory) {
    let base = now();
    let event = |i: i64, kind, user: i64| {
        AuditEvent::new(Timestamp(base.0 + i), kind, "cli:test", Outcome::Success)
            .subject(user, &format!("user{user}"))
    };
    d.append_audit(&[event(0, AuditKind::LoginFailure, 1)
        .session("sid")
        .reason("wrong password")
        .count(2)])
        .await
        .unwrap();
    // Several at once, in order.
    d.append_audit(&[
        event(1, AuditKind::LoginSuccess, 2),
        event(2, AuditKind::Logout, 1),
    ])
    .await
    .unwrap();
    let all = d.list_audit(&AuditFilter::default(), 10, 0).await.unwrap();
    assert_eq!(all.total, 3);
    let kinds: Vec<AuditKind> = all.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::Logout,
            AuditKind::LoginSuccess,
            AuditKind::LoginFailure
        ]
    );
    let first = &all.items[2];
    assert_eq!(first.at, base);
    assert_eq!(first.actor, "cli:test");
    assert_eq!(first.subject_username.as_deref(), Some("user1"));
    assert_eq!(first.session_id.as_deref(), Some("sid"));
    assert_eq!(first.reason.as_deref(), Some("wrong password"));
    assert_eq!(first.session_count, Some(2));
    assert_eq!(first.ip_address, None);
    let of_user = AuditFilter {
        user_id: Some(1),
        ..AuditFilter::default()
    };
    let page = d.list_audit(&of_user, 1, 1).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].kind, AuditKind::LoginFailure);
    let of_kind = AuditFilter {
        kind: Some(AuditKind::LoginSuccess),
        ..AuditFilter::default()
    };
    assert_eq!(d.list_audit(&of_kind, 10, 0).await.unwrap().total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_sqlite() {
    run_directory_suite(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_postgres() {
    run_directory_suite(Backend::Postgres).await;
}

/// A PostgreSQL URL's own `options` reach the server alongside `?schema=`, which sets an
/// option of its own (the search path) and once replaced them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_url_options_are_kept_with_a_schema() {
    let Some(chosen) = Backend::Postgres.isolated() else {
        return;
    };
    let schema = chosen.url.rsplit_once("schema=").unwrap().1.to_owned();
    let application = format!("{schema}_options");
    let other = Backend::Sqlite.isolated().unwrap();
    let settings = StorageSettings {
        sessions: other.url.clone(),
        directory: format!(
            "{}&options=-c%20application_name%3D{application}",
            chosen.url
        ),
    };
    // The pool keeps the connection its migrations used.
    let _stores = sessiond::store::open(&settings).await.unwrap();
    let connected = |sql: String| psql(&sql).expect("psql runs");
    assert_ne!(
        connected(format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}'"
        )),
        "0",
        "a connection with the URL's options"
    );
    assert_ne!(
        connected(format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'users'"
        )),
        "0",
        "the directory's tables in the URL's schema"
    );
}

/// The plain listing query's answer on the SQLite file: the ids of a page and the total.
fn plain_page(
    db: &rusqlite::Connection,
    at: Timestamp,
    limit: u32,
    offset: u64,
) -> (Vec<String>, u64) {
    let items = db
        .prepare(
            "SELECT id FROM sessions WHERE expires_at > ?1 \
             ORDER BY last_active_at DESC, rowid LIMIT ?2 OFFSET ?3",
        )
        .unwrap()
        .query_map(rusqlite::params![at.0, limit, offset], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let total = db
        .query_row(
            "SELECT COUNT(*) FROM sessions WHERE expires_at > ?1",
            [at.0],
            |row| row.get(0),
        )
        .unwrap();
    (items, total)
}

/// Every page (of 1, 7 and 50) at `at` is the plain query's page, one offset past the end
/// included.
async fn same_as_plain(store: &dyn SessionStore, db: &rusqlite::Connection, at: Timestamp) {
    let (_, total) = plain_page(db, at, 0, 0);
    for limit in [1, 7, 50] {
        for offset in 0..=total + 1 {
            let page = store
                .scan(&SessionFilter::default(), at, limit, offset)
                .await
                .unwrap();
            let got = (ids(&page.items).join(" "), page.total);
            let (want, want_total) = plain_page(db, at, limit, offset);
            assert_eq!(
                got,
                (want.join(" "), want_total),
                "limit {limit}, offset {offset}"
            );
        }
    }
}

/// Writes a session as another program using the file would, in its user's span of rows.
fn insert_directly(db: &rusqlite::Connection, s: &Session) {
    sessiond::store::sqlite::insert_session(db, s).unwrap();
}

/// Writes a session with plain SQL, as a build before the spans by user did.
fn insert_unplaced(db: &rusqlite::Connection, s: &Session) -> rusqlite::Result<usize> {
    use sessiond::store::sql::{SESSION_COLUMNS, placeholders, session_values};
    db.execute(
        &format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({})",
            placeholders('?', 14)
        ),
        rusqlite::params_from_iter(session_values(s)),
    )
}

/// A SQLite session store in a file of its own (removed with the guard), the file's path,
/// and a plain connection to it.
fn sqlite_store() -> (Isolated, String, SqliteSessionStore, rusqlite::Connection) {
    let isolated = Backend::Sqlite.isolated().unwrap();
    let path = isolated.url.strip_prefix("sqlite://").unwrap().to_owned();
    let store = SqliteSessionStore::open(&path).unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    (isolated, path, store, db)
}

/// SQLite's address entries: made by triggers whoever writes, left behind by deletes and
/// moves (the filter never shows those), swept by the purge, and made for a file without
/// them when it is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_address_entries_follow_the_sessions_and_the_purge_sweeps_the_rest() {
    let (_isolated, path, store, db) = sqlite_store();
    let entries = || -> i64 {
        db.query_row("SELECT COUNT(*) FROM session_addresses", [], |row| {
            row.get(0)
        })
        .unwrap()
    };
    let at = |address: &str| SessionFilter {
        ip_address: Some(address.into()),
        ..SessionFilter::default()
    };
    let base = now();
    let (a, b) = ("198.51.100.1", "198.51.100.2");
    let mut sessions = Vec::new();
    for i in 0..12i64 {
        let s = session(i % 4 + 1, base, i * 1_000, [a, b][(i % 2) as usize]);
        create(&store, &s, ROOMY).await;
        sessions.push(s);
    }
    let listed =
        |page: Page<Session>| -> Vec<String> { page.items.into_iter().map(|s| s.id).collect() };
    let newest_first = |sessions: Vec<&Session>| -> Vec<String> {
        let mut sessions = sessions;
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_active_at));
        sessions.into_iter().map(|s| s.id.clone()).collect()
    };
    let page = store.scan(&at(a), base, 50, 0).await.unwrap();
    assert_eq!(page.total, 6);
    assert_eq!(
        listed(page),
        newest_first(sessions.iter().step_by(2).collect())
    );
    assert_eq!(entries(), 12);

    // A move adds an entry and leaves the old one; a delete leaves its entries.
    store.set_ip_address(&sessions[0].id, b).await.unwrap();
    store.delete_by_users(&[2], base).await.unwrap();
    assert_eq!(entries(), 13);
    let still_at_a: Vec<&Session> = sessions[2..].iter().step_by(2).collect();
    let page = store.scan(&at(a), base, 50, 0).await.unwrap();
    assert_eq!(page.total, still_at_a.len() as u64);
    assert_eq!(listed(page), newest_first(still_at_a));
    let page = store.scan(&at(b), base, 2, 1).await.unwrap();
    assert_eq!(
        page.total, 4,
        "user 2's three at b are gone, the moved one is there"
    );

    // The purge sweeps what no session is behind: the moved one's old entry, user 2's.
    store.purge_expired(base).await.unwrap();
    assert_eq!(entries(), 9);
    let stale: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM session_addresses LEFT JOIN sessions \
             ON sessions.rowid = session AND ip_address = address WHERE sessions.id IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stale, 0);

    // A file without the entries (an older build's) gets them when opened.
    drop(store);
    db.execute_batch(
        "DROP TABLE session_addresses; DROP TRIGGER session_address_insert; \
         DROP TRIGGER session_address_update;",
    )
    .unwrap();
    let added = session(5, base, 99_000, a);
    insert_directly(&db, &added);
    let store = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(entries(), 10);
    let page = store.scan(&at(a), base, 1, 0).await.unwrap();
    assert_eq!(page.total, 6);
    assert_eq!(listed(page), [added.id]);
}

/// A file of a build that stored sessions wherever SQLite put them, with an index by user:
/// opened, its sessions are moved into their users' spans once, and every query by user
/// finds them, users whose spans coincide kept apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sessions_of_an_older_file_are_placed_by_user() {
    let (_isolated, path, store, db) = sqlite_store();
    drop(store);
    db.execute_batch(
        "DROP TRIGGER sessions_in_user_span; \
         CREATE INDEX sessions_by_user ON sessions (user_id, last_active_at);",
    )
    .unwrap();
    // User 2^31 + 1 has user 1's span; users arrive interleaved, as logins do.
    let twin = (1i64 << 31) + 1;
    let base = now();
    let mut stored: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for i in 0..40i64 {
        let user = [1, 2, 3, twin][(i % 4) as usize];
        let s = session(user, base, i * 1_000, "192.0.2.1");
        insert_unplaced(&db, &s).unwrap();
        stored.entry(user).or_default().push(s.id);
    }

    let store = SqliteSessionStore::open(&path).unwrap();
    let misplaced: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM sessions WHERE rowid NOT BETWEEN \
             (user_id & 2147483647) << 32 AND ((user_id & 2147483647) << 32) | 4294967295",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(misplaced, 0);
    let old_index: bool = db
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_user')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(!old_index, "the index by user is gone");
    for (user, ids_stored) in &stored {
        let listed = store.list_by_user(*user, base).await.unwrap();
        let newest_first: Vec<&str> = ids_stored.iter().rev().map(String::as_str).collect();
        assert_eq!(ids(&listed), newest_first, "user {user}");
    }
    assert_eq!(store.delete_by_user(1, base).await.unwrap(), 10);
    assert!(store.list_by_user(1, base).await.unwrap().is_empty());
    assert_eq!(store.list_by_user(twin, base).await.unwrap().len(), 10);
    // The listing's counts and their triggers came along.
    same_as_plain(&store, &db, base).await;
    create(&store, &session(1, base, 0, "192.0.2.1"), ROOMY).await;
    same_as_plain(&store, &db, base).await;

    // A session stored outside its user's span, which no query by user would find, is refused.
    let refused = insert_unplaced(&db, &session(2, base, 0, "192.0.2.1")).unwrap_err();
    assert!(refused.to_string().contains("span of rowids"), "{refused}");
}

/// SQLite finds deep listing pages through counts of sessions per span of activity: they
/// must give exactly the plain query's page at every offset, with ties in `last_active_at`,
/// expired rows not yet purged, after every kind of write (the bulk delete's own way of
/// counting included), whoever wrote, and in a file that had no counts yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_listing_pages_match_the_plain_query() {
    let (_isolated, path, store, db) = sqlite_store();
    let base = now();
    // 31 s apart over ~8 minutes (several of the coarse 4.4-minute spans), and within a second
    // two instants of four sessions each: equal `last_active_at`, ordered by rowid.
    let mut stored = Vec::new();
    for i in 0..256i64 {
        let mut s = session(i % 6, base, (i / 8) * 31_000 + (i % 2) * 300, "192.0.2.1");
        if i % 7 == 3 {
            s.expires_at = Timestamp(base.0 + 5 * MINUTE); // its absolute lifetime ends first
        }
        create(&store, &s, ROOMY).await;
        stored.push(s);
    }
    let at = Timestamp(base.0 + 10 * MINUTE);
    same_as_plain(&store, &db, at).await;
    same_as_plain(&store, &db, base).await;

    // Activity moves sessions between spans, onto other sessions' instants and past them all.
    for (n, s) in stored.iter().step_by(9).enumerate() {
        let active = Timestamp(base.0 + [0, 62_300, 20 * MINUTE][n % 3]);
        store
            .touch(&s.id, active, Timestamp(active.0 + HOUR))
            .await
            .unwrap();
    }
    same_as_plain(&store, &db, at).await;
    store.delete(&stored[40].id).await.unwrap();
    // A few users' sessions go row by row through the trigger, many users' in groups.
    store.delete_by_users(&[1], at).await.unwrap();
    same_as_plain(&store, &db, at).await;
    let many: Vec<i64> = std::iter::once(2)
        .chain(1000..)
        .take(sessiond::store::sqlite::GROUPED_COUNT_USERS)
        .collect();
    // Grouped, the deletes count what they remove themselves: the same as counting first.
    let live = UserActivity::counts(store.activity_by_users(&many, at).await.unwrap());
    assert!(!live.is_empty());
    assert_eq!(store.delete_by_users(&many, at).await.unwrap(), live);
    same_as_plain(&store, &db, at).await;

    // Another program's writes after the bulk delete: its trigger is back.
    let other = session(9, base, 95_000, "192.0.2.9");
    insert_directly(&db, &other);
    db.execute(
        "UPDATE sessions SET last_active_at = last_active_at - 200000 WHERE user_id = 3",
        [],
    )
    .unwrap();
    db.execute("DELETE FROM sessions WHERE user_id = 4", [])
        .unwrap();
    same_as_plain(&store, &db, at).await;

    store.purge_expired(at).await.unwrap();
    same_as_plain(&store, &db, at).await;
    let empty_spans: u64 = db
        .query_row(
            "SELECT COUNT(*) FROM session_recency WHERE sessions = 0",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        empty_spans, 0,
        "the purge drops the counts of emptied spans"
    );
    same_as_plain(&store, &db, Timestamp(base.0 + 3 * HOUR)).await;

    // A file written by a build without the counts, and with the wider listing index of
    // builds before change 45, gets the counts and the narrow index when it is opened.
    drop(store);
    db.execute_batch(
        "DROP TABLE session_recency; DROP TRIGGER session_recency_insert; \
         DROP TRIGGER session_recency_update_18; DROP TRIGGER session_recency_update_10; \
         DROP TRIGGER session_recency_delete; DROP INDEX sessions_by_last_active; \
         CREATE INDEX sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);",
    )
    .unwrap();
    for i in 0..20 {
        insert_directly(&db, &session(7, base, i * 10_000, "192.0.2.7"));
    }
    let listing_indexes = || -> Vec<String> {
        db.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'sessions' \
             AND sql LIKE '%last_active_at%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    let store = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(listing_indexes(), ["sessions_by_last_active"]);
    same_as_plain(&store, &db, at).await;

    // An older build made its wide index again beside the narrow one: dropped again.
    drop(store);
    db.execute_batch("CREATE INDEX sessions_by_recency ON sessions (last_active_at DESC, id);")
        .unwrap();
    let store = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(listing_indexes(), ["sessions_by_last_active"]);
    same_as_plain(&store, &db, at).await;
}

/// A Redis session store under a key prefix of its own (removed with the guard), and the
/// prefix; `None` when Redis is absent (see `services`).
async fn redis_store() -> Option<(Isolated, String, Arc<dyn SessionStore>)> {
    let isolated = Backend::Redis.isolated()?;
    let prefix = isolated.url.rsplit_once("prefix=").unwrap().1.to_owned();
    let store = sessiond::store::redis::open(&isolated.url).await.unwrap();
    Some((isolated, prefix, store))
}

/// Stamp reads answered together stay apart: a damaged stamp fails its own user's read, not
/// the others' read with it.
#[tokio::test]
async fn redis_damaged_stamp_fails_only_its_users_read() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    for user in [1, 2] {
        create(store.as_ref(), &session(user, base, 0, "ip"), ROOMY).await;
    }
    let damaged = format!("{prefix}:{{u:1}}:stamp");
    let set = shared_redis_cli(&["SET", &damaged, "not a number"]);
    assert_eq!(set.trim(), "OK");
    let (one, two) = futures_util::join!(store.user_stamp(1), store.user_stamp(2));
    assert!(one.is_err(), "a damaged stamp vouches for nothing: {one:?}");
    assert!(two.unwrap().is_some());
}

/// What still names a session in Redis under `prefix`: keys whose name holds its token hash
/// or public id, and sorted-set members that hold its hash, as `key` or `key member`.
fn redis_traces(prefix: &str, s: &Session) -> BTreeSet<String> {
    let hash = s.token_hash.to_hex();
    let mut traces = BTreeSet::new();
    let keys = shared_redis_cli(&["--scan", "--pattern", &format!("{prefix}:*")]);
    for key in keys.lines() {
        if key.contains(&hash) || key.contains(&s.id) {
            traces.insert(key.to_owned());
        }
        if shared_redis_cli(&["TYPE", key]).trim() == "zset" {
            let members = shared_redis_cli(&["ZRANGE", key, "0", "-1"]);
            let named = members.lines().filter(|m| m.contains(&hash));
            traces.extend(named.map(|member| format!("{key} {member}")));
        }
    }
    traces
}

/// A user's deletion removes everything that names the sessions but their address entries
/// (the purge sweeps those); a bulk revocation removes the sessions and their by-activity
/// listing entries at once and leaves the pointers to expire and the by-expiry entries to
/// the purge too, as docs/deployment.md says.
#[tokio::test]
async fn redis_deletions_remove_what_they_promise() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    let (one, two) = (session(1, base, 0, "ip"), session(2, base, 0, "ip"));
    for s in [&one, &two] {
        create(store.as_ref(), s, ROOMY).await;
        assert!(redis_traces(&prefix, s).len() >= 5, "traces of a session");
    }
    let address_entry = |user: i64, s: &Session| {
        let (hash, absolute) = (s.token_hash.to_hex(), s.absolute_expires_at.0);
        format!("{prefix}:{{a:{user}}}:ip ip|{absolute}|{user}:{hash}")
    };
    assert_eq!(store.delete_by_user(1, base).await.unwrap(), 1);
    assert_eq!(
        redis_traces(&prefix, &one),
        BTreeSet::from([address_entry(1, &one)])
    );

    assert_eq!(
        store.delete_by_users(&[2], base).await.unwrap(),
        std::collections::BTreeMap::from([(2, 1)])
    );
    let expiry = format!("{prefix}:{{a:2}}:expiry");
    let hash = two.token_hash.to_hex();
    let left: BTreeSet<String> = [
        format!("{prefix}:t:{hash}"),
        format!("{prefix}:i:{}", two.id),
        format!("{expiry} 2:{hash}"),
        address_entry(2, &two),
    ]
    .into();
    assert_eq!(redis_traces(&prefix, &two), left);
    assert!(
        store
            .get_by_token_hash(&two.token_hash)
            .await
            .unwrap()
            .is_none()
    );
}

/// The store at `url` opened as a new Redis ACL user (`PREFIX_suffix`, removed by the caller)
/// who may run every command on the keys `PREFIX:pattern` and nothing else: no other key, no
/// channel.
async fn open_as_acl_user(
    url: &str,
    suffix: &str,
    patterns: &[&str],
) -> (Arc<dyn SessionStore>, String) {
    let prefix = url.rsplit_once("prefix=").unwrap().1;
    let acl_user = format!("{prefix}_{suffix}");
    let keys: Vec<String> = patterns.iter().map(|p| format!("~{prefix}:{p}")).collect();
    let mut setuser = vec![
        "ACL", "SETUSER", &acl_user, "reset", "on", "nopass", "+@all",
    ];
    setuser.extend(keys.iter().map(String::as_str));
    assert_eq!(shared_redis_cli(&setuser).trim(), "OK");
    let limited = url.replacen("redis://", &format!("redis://{acl_user}:x@"), 1);
    let store = sessiond::store::redis::open(&limited).await.unwrap();
    (store, acl_user)
}

/// A session whose token pointer cannot be written is refused and removed again, not left to
/// count against the user's limit unreachable: a Redis ACL user who may write every key of
/// the store but the token pointers stands in for a failing write.
#[tokio::test]
async fn redis_create_is_undone_when_its_token_pointer_fails() {
    let Some(isolated) = Backend::Redis.isolated() else {
        return;
    };
    let url = isolated.url.clone();
    let (store, acl_user) = open_as_acl_user(&url, "no_tokens", &["{*", "i:*"]).await;
    let full = sessiond::store::redis::open(&url).await.unwrap();
    let base = now();
    let s = session(1, base, 0, "ip");
    let refused = store.create(&s, ROOMY, base).await;
    shared_redis_cli(&["ACL", "DELUSER", &acl_user]);
    assert!(refused.is_err(), "the pointer write failed: {refused:?}");
    assert!(full.list_by_user(1, base).await.unwrap().is_empty());
    let listed = full.scan(&SessionFilter::default(), base, 10, 0).await;
    assert_eq!(listed.unwrap().total, 0);
    assert_eq!(full.delete(&s.id).await.unwrap(), None);
}

/// A Redis user without pub/sub permissions (as before change 24 of docs/benchmarks.md) can
/// still delete: no node can subscribe with it, so there is nobody to tell.
#[tokio::test]
async fn redis_writes_need_no_pub_sub_when_no_node_subscribes() {
    let Some(isolated) = Backend::Redis.isolated() else {
        return;
    };
    let (store, acl_user) = open_as_acl_user(&isolated.url, "no_channels", &["*"]).await;
    let base = now();
    let s = session(1, base, 0, "ip");
    store.create(&s, ROOMY, base).await.unwrap();
    let deleted = store.delete(&s.id).await;
    let by_user = store.delete_by_user(1, base).await;
    shared_redis_cli(&["ACL", "DELUSER", &acl_user]);
    assert_eq!(deleted.unwrap().map(|d| d.id), Some(s.id));
    assert_eq!(by_user.unwrap(), 0);
}

/// A store opened empty is marked indexed by address at once, each session getting its
/// entry as it is stored; a store written before the address sets existed gets them at its
/// first filtered listing.
#[tokio::test]
async fn redis_address_filter_indexes_what_was_listed_before_the_index_existed() {
    let Some((isolated, prefix, store)) = redis_store().await else {
        return;
    };
    let marker = format!("{prefix}:ip-index");
    assert_eq!(shared_redis_cli(&["EXISTS", &marker]).trim(), "1");
    let base = now();
    let address = "192.0.2.10";
    let older = session(1, base, 0, address);
    let newer = session(2, base, MINUTE, address);
    for s in [&older, &newer] {
        create(store.as_ref(), s, ROOMY).await;
    }
    // What a version without address sets leaves behind.
    let address_set = |shard: i64| format!("{prefix}:{{a:{shard}}}:ip");
    shared_redis_cli(&["DEL", &address_set(1), &address_set(2), &marker]);

    let upgraded = sessiond::store::redis::open(&isolated.url).await.unwrap();
    assert_eq!(
        shared_redis_cli(&["EXISTS", &marker]).trim(),
        "0",
        "sessions are listed: opening must leave them to the walk"
    );
    let by_ip = SessionFilter {
        ip_address: Some(address.into()),
        ..SessionFilter::default()
    };
    let page = upgraded.scan(&by_ip, base, 10, 0).await.unwrap();
    assert_eq!(ids(&page.items), [&newer.id, &older.id]);
    assert_eq!(shared_redis_cli(&["EXISTS", &marker]).trim(), "1");
    assert_eq!(shared_redis_cli(&["ZCARD", &address_set(1)]).trim(), "1");
}

/// The periodic purge sweeps the address entries of sessions past their absolute expiry, and
/// only those.
#[tokio::test]
async fn redis_purge_sweeps_address_entries_of_ended_sessions() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    // Users 3 and 19 share admin shard 3.
    let ended = session(3, base, 0, "192.0.2.20");
    let mut lasting = session(19, base, 0, "192.0.2.21");
    lasting.absolute_expires_at = Timestamp(base.0 + 48 * HOUR);
    for s in [&ended, &lasting] {
        create(store.as_ref(), s, ROOMY).await;
    }
    let set = format!("{prefix}:{{a:3}}:ip");
    assert_eq!(shared_redis_cli(&["ZCARD", &set]).trim(), "2");
    store
        .purge_expired(Timestamp(base.0 + 25 * HOUR))
        .await
        .unwrap();
    let left = shared_redis_cli(&["ZRANGE", &set, "0", "-1"]);
    assert!(left.contains("192.0.2.21|"), "{left}");
    assert!(!left.contains("192.0.2.20|"), "{left}");
}

/// On Redis a session's entry at its old address goes with the move; one left behind (a
/// failed write) and the entries of deleted sessions go at the next filtered listing, whose
/// page and total never show them.
#[tokio::test]
async fn redis_address_filter_drops_entries_of_moved_and_deleted_sessions() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    let (old, new) = ("192.0.2.30", "192.0.2.31");
    // Users 4 and 20 share admin shard 4.
    let moving = session(4, base, 0, old);
    let staying = session(20, base, MINUTE, old);
    let deleted = session(4, base, 2 * MINUTE, old);
    for s in [&moving, &staying, &deleted] {
        create(store.as_ref(), s, ROOMY).await;
    }
    let set = format!("{prefix}:{{a:4}}:ip");
    store.set_ip_address(&moving.id, new).await.unwrap();
    let entries = shared_redis_cli(&["ZRANGE", &set, "0", "-1"]);
    assert_eq!(entries.matches(&format!("{old}|")).count(), 2, "{entries}");
    assert_eq!(entries.matches(&format!("{new}|")).count(), 1, "{entries}");

    // The old entry back, as if its removal had failed; the deleted session's entry stays.
    let moved_entry = format!(
        "{old}|{}|4:{}",
        moving.absolute_expires_at.0,
        moving.token_hash.to_hex()
    );
    shared_redis_cli(&["ZADD", &set, "0", &moved_entry]);
    store.delete(&deleted.id).await.unwrap();
    let at_old = SessionFilter {
        ip_address: Some(old.into()),
        ..SessionFilter::default()
    };
    let page = store.scan(&at_old, base, 10, 0).await.unwrap();
    assert_eq!(
        (ids(&page.items), page.total),
        (vec![staying.id.as_str()], 1)
    );
    let entries = shared_redis_cli(&["ZRANGE", &set, "0", "-1"]);
    assert_eq!(entries.matches(&format!("{old}|")).count(), 1, "{entries}");
}
