//! The session-store checks: each takes a fresh store of one backend, through the trait only.

use super::{HOUR, MINUTE, ROOMY, at, create, create_at, ids, now, session};
use futures_util::future::join_all;
use sessiond::domain::session::{EndReason, Session};
use sessiond::domain::time::Timestamp;
use sessiond::domain::token::{SecretToken, new_public_id};
use sessiond::store::{
    CreateOutcome, EndedSession, Page, SessionFilter, SessionLimit, SessionStore, UserActivity,
};
use std::collections::BTreeSet;

pub(super) async fn create_and_find_by_token_hash(store: &dyn SessionStore) {
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

pub(super) async fn touch(store: &dyn SessionStore) {
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

pub(super) async fn list_by_user(store: &dyn SessionStore) {
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

pub(super) async fn delete_one(store: &dyn SessionStore) {
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

pub(super) async fn delete_by_user(store: &dyn SessionStore) {
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

pub(super) async fn limit_reject(store: &dyn SessionStore) {
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

pub(super) async fn limit_evict_oldest(store: &dyn SessionStore) {
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

pub(super) async fn limit_concurrent_logins(store: &dyn SessionStore) {
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

pub(super) async fn scan(store: &dyn SessionStore) {
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

    let by_user = SessionFilter::user(1);
    let page = store.scan(&by_user, base, 2, 1).await.unwrap();
    assert_eq!(page.total, 3);
    let user_ones: Vec<&Session> = all.iter().filter(|s| s.user_id == 1).collect();
    assert_eq!(ids(&page.items), [&user_ones[1].id, &user_ones[2].id]);

    let by_ip = at("198.51.100.2");
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
        address: at("198.51.100.1").address,
        ..SessionFilter::user(1)
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
pub(super) async fn scan_deep_pages_and_equal_activity(store: &dyn SessionStore) {
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
pub(super) async fn scan_crowd_on_top(store: &dyn SessionStore) {
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

pub(super) async fn purge_expired(store: &dyn SessionStore) {
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
pub(super) async fn scan_after_mass_expiry(store: &dyn SessionStore) {
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

pub(super) async fn bulk_count_and_delete(store: &dyn SessionStore) {
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

pub(super) async fn address_change(store: &dyn SessionStore) {
    let base = now();
    let s = session(1, base, 0, "192.0.2.1");
    create(store, &s, ROOMY).await;
    store.set_ip_address(&s.id, "198.51.100.7").await.unwrap();
    let found = store
        .get_by_token_hash(&s.token_hash)
        .await
        .unwrap()
        .unwrap();
    // The address it was created from stays; the one last used from is the new one.
    assert_eq!(
        (found.ip_address.as_str(), found.last_ip_address.as_str()),
        ("192.0.2.1", "198.51.100.7")
    );
    assert_eq!(store.list_by_user(1, base).await.unwrap(), [found]);
    let by_ip = at("198.51.100.7");
    assert_eq!(
        ids(&store.scan(&by_ip, base, 10, 0).await.unwrap().items),
        [&s.id]
    );
    assert_eq!(
        ids(&store
            .scan(&at("192.0.2.1"), base, 10, 0)
            .await
            .unwrap()
            .items),
        [&s.id],
        "found by its first address too"
    );
    // Moved again: the address between is no longer known, the first and the last are.
    store.set_ip_address(&s.id, "203.0.113.5").await.unwrap();
    assert_eq!(store.scan(&by_ip, base, 10, 0).await.unwrap().total, 0);
    for address in ["192.0.2.1", "203.0.113.5"] {
        let page = store.scan(&at(address), base, 10, 0).await.unwrap();
        assert_eq!(
            (ids(&page.items), page.total),
            (vec![s.id.as_str()], 1),
            "{address}"
        );
    }
    let (_, addresses) =
        create_at(store, &session(1, base, MINUTE, "192.0.2.9"), ROOMY, base).await;
    let expected = ["192.0.2.1", "192.0.2.9", "203.0.113.5"].map(String::from);
    assert_eq!(
        addresses,
        BTreeSet::from(expected),
        "the IP spread counts both"
    );
    // A deleted session is not brought back by a late address change, nor listed.
    store.delete(&s.id).await.unwrap();
    store.set_ip_address(&s.id, "203.0.113.1").await.unwrap();
    assert_eq!(store.get_by_token_hash(&s.token_hash).await.unwrap(), None);
    assert_eq!(
        store
            .scan(&at("203.0.113.1"), base, 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
}

/// The address filter takes an address, the start of one or a network, IPv4 or IPv6, and
/// matches a session's first or last address, listing a session found by both once.
pub(super) async fn address_filters(store: &dyn SessionStore) {
    let base = now();
    let a = session(1, base, 0, "10.1.2.3");
    let b = session(2, base, MINUTE, "10.10.0.1");
    let c = session(3, base, 2 * MINUTE, "192.0.2.44");
    let d = session(1, base, 3 * MINUTE, "2001:db8::7");
    let e = session(4, base, 4 * MINUTE, "2001:db9::1");
    for s in [&a, &b, &c, &d, &e] {
        create(store, s, ROOMY).await;
    }
    // c moves into 10.1.0.0/16; d moves within 2001:db8::/32.
    store.set_ip_address(&c.id, "10.1.9.9").await.unwrap();
    store.set_ip_address(&d.id, "2001:db8:1::2").await.unwrap();
    let newest_first = |found: &[&Session]| -> Vec<String> {
        let mut found = found.to_vec();
        found.sort_by_key(|s| std::cmp::Reverse(s.last_active_at));
        found.iter().map(|s| s.id.clone()).collect()
    };
    let cases: [(&str, Vec<&Session>); 10] = [
        ("10.1.", vec![&a, &c]),
        ("10.1", vec![&a, &b, &c]),
        ("10.0.0.0/8", vec![&a, &b, &c]),
        ("10.1.0.0/16", vec![&a, &c]),
        ("192.0.2.0/24", vec![&c]),
        ("2001:db8::/32", vec![&d]),
        ("2001:DB8:", vec![&d]),
        ("2001:db8:1::2", vec![&d]),
        ("::/0", vec![&d, &e]),
        ("172.16.0.0/12", vec![]),
    ];
    for (filter, expected) in cases {
        let page = store.scan(&at(filter), base, 10, 0).await.unwrap();
        let listed: Vec<String> = page.items.iter().map(|s| s.id.clone()).collect();
        assert_eq!(listed, newest_first(&expected), "{filter}");
        assert_eq!(page.total, expected.len() as u64, "{filter}");
    }
    // Paged, and with users: those of users 1 and 3 in 10.0.0.0/8.
    let page = store.scan(&at("10.0.0.0/8"), base, 1, 1).await.unwrap();
    assert_eq!((ids(&page.items), page.total), (vec![b.id.as_str()], 3));
    let some_users = SessionFilter {
        users: Some(vec![1, 3]),
        ..at("10.0.0.0/8")
    };
    let page = store.scan(&some_users, base, 10, 0).await.unwrap();
    assert_eq!(ids(&page.items), newest_first(&[&a, &c]));
    let users_only = SessionFilter {
        users: Some(vec![1, 4]),
        address: None,
    };
    let page = store.scan(&users_only, base, 10, 0).await.unwrap();
    assert_eq!(ids(&page.items), newest_first(&[&a, &d, &e]));
    let nobody = SessionFilter {
        users: Some(Vec::new()),
        address: None,
    };
    assert_eq!(store.scan(&nobody, base, 10, 0).await.unwrap().total, 0);
}

/// A user's stamp changes with every deletion and address change of the user's sessions and
/// on request, and with nothing else; stores that cannot tell say `None` throughout.
pub(super) async fn user_stamps(store: &dyn SessionStore) {
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

pub(super) async fn addresses_after_create(store: &dyn SessionStore) {
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

/// A pending sign-in is found until it expires, and taken once: a second take, racing or
/// not, finds nothing.
pub(super) async fn pending_sign_ins(store: &dyn SessionStore) {
    use sessiond::domain::pending::{PendingPurpose, PendingSignIn};
    let base = now();
    let pending = PendingSignIn {
        user_id: 7,
        purpose: PendingPurpose::SessionLimit,
        remember_me: true,
        expires_at: Timestamp(base.0 + 5 * MINUTE),
    };
    let (token, other) = (
        SecretToken::generate().hash(),
        SecretToken::generate().hash(),
    );
    store.put_pending_sign_in(&token, &pending).await.unwrap();
    let found = store.pending_sign_in(&token, base).await.unwrap();
    assert_eq!(found.as_ref(), Some(&pending));
    assert_eq!(store.pending_sign_in(&other, base).await.unwrap(), None);
    let later = Timestamp(base.0 + 5 * MINUTE);
    assert_eq!(
        store.pending_sign_in(&token, later).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take_pending_sign_in(&token, later).await.unwrap(),
        None,
        "expired"
    );

    let takes = join_all((0..4).map(|_| store.take_pending_sign_in(&token, base))).await;
    let taken: Vec<PendingSignIn> = takes.into_iter().filter_map(|t| t.unwrap()).collect();
    assert_eq!(taken, [pending], "taken exactly once");
    assert_eq!(store.pending_sign_in(&token, base).await.unwrap(), None);
    // Not a session: nothing of it shows among the user's sessions.
    assert!(store.list_by_user(7, base).await.unwrap().is_empty());
    store.purge_expired(later).await.unwrap();
}

/// A revocation job is found by its id until an hour after its last update, each update
/// replacing the last whole.
pub(super) async fn revocation_jobs(store: &dyn SessionStore) {
    use sessiond::domain::revocation_job::{KEPT_AFTER_UPDATE, RevocationJob, RevocationOutcome};
    let base = now();
    let id = new_public_id();
    let mut job = RevocationJob::new("admin-session", "acme/platform", base);
    store.put_revocation_job(&id, &job).await.unwrap();
    assert_eq!(
        store.revocation_job(&id, base).await.unwrap(),
        Some(job.clone())
    );
    assert_eq!(
        store.revocation_job(&new_public_id(), base).await.unwrap(),
        None
    );

    job.total = 1200;
    job.done = 500;
    job.updated_at = Timestamp(base.0 + MINUTE);
    store.put_revocation_job(&id, &job).await.unwrap();
    assert_eq!(
        store.revocation_job(&id, base).await.unwrap(),
        Some(job.clone())
    );
    job.done = 1200;
    job.outcome = Some(RevocationOutcome::Refused {
        code: "conflict".into(),
        message: "the members of 'acme/platform' changed since the preview".into(),
    });
    job.updated_at = Timestamp(base.0 + 2 * MINUTE);
    store.put_revocation_job(&id, &job).await.unwrap();
    let expires = job.updated_at.plus(KEPT_AFTER_UPDATE);
    let last_moment = Timestamp(expires.0 - 1);
    assert_eq!(
        store.revocation_job(&id, last_moment).await.unwrap(),
        Some(job.clone()),
        "kept an hour after its last update, not its first"
    );
    assert_eq!(
        store.revocation_job(&id, expires).await.unwrap(),
        None,
        "expired"
    );
    // Not a session: nothing of it shows among the sessions.
    let everyone = SessionFilter::default();
    assert_eq!(store.scan(&everyone, base, 10, 0).await.unwrap().total, 0);
    store.purge_expired(expires).await.unwrap();
}

pub(super) async fn ended_sessions(store: &dyn SessionStore) {
    let base = now();
    let ended = session(1, base, 0, "192.0.2.1");
    let evicted = session(1, base, MINUTE, "192.0.2.1");
    let past = session(2, base, 0, "192.0.2.2");
    let record = |s: &Session, reason: EndReason, until: Timestamp| EndedSession {
        token_hash: s.token_hash,
        reason,
        until,
    };
    store
        .record_ended(&[
            record(&ended, EndReason::Terminated, Timestamp(base.0 + HOUR)),
            EndedSession::of(&evicted, EndReason::Evicted),
            record(&past, EndReason::Blocked, Timestamp(base.0 - MINUTE)),
        ])
        .await
        .unwrap();
    let reason =
        async |s: &Session, at: Timestamp| store.ended_reason(&s.token_hash, at).await.unwrap();
    assert_eq!(reason(&ended, base).await, Some(EndReason::Terminated));
    assert_eq!(reason(&evicted, base).await, Some(EndReason::Evicted));
    assert_eq!(reason(&past, base).await, None, "its time was over");
    let unknown = session(3, base, 0, "192.0.2.3");
    assert_eq!(reason(&unknown, base).await, None);
    // A later record of the same session replaces the earlier one.
    store
        .record_ended(&[record(
            &ended,
            EndReason::PasswordChanged,
            Timestamp(base.0 + HOUR),
        )])
        .await
        .unwrap();
    assert_eq!(reason(&ended, base).await, Some(EndReason::PasswordChanged));
    store.record_ended(&[]).await.unwrap();
    // Purging past their time removes them (Redis expires them by its own clock instead).
    store.purge_expired(base).await.unwrap();
    assert_eq!(reason(&ended, base).await, Some(EndReason::PasswordChanged));
}
