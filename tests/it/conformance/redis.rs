//! Redis: every session-store check, and what only Redis's store leaves in its keys.

use super::{HOUR, MINUTE, ROOMY, at, create, ids, isolated, now, session};
use crate::services::{Backend, Isolated, shared_redis_cli};
use sessiond::domain::session::Session;
use sessiond::domain::time::Timestamp;
use sessiond::store::{SessionFilter, SessionStore};
use std::collections::BTreeSet;
use std::sync::Arc;

session_checks!(Backend::Redis);

/// A Redis session store under a key prefix of its own (removed with the guard), and the
/// prefix; `None` when Redis is absent (see `services`).
async fn redis_store() -> Option<(Isolated, String, Arc<dyn SessionStore>)> {
    let isolated = isolated(Backend::Redis)?;
    let prefix = isolated.url.rsplit_once("prefix=").unwrap().1.to_owned();
    let store = sessiond::store::redis::open(&isolated.url).await.unwrap();
    Some((isolated, prefix, store))
}

/// Stamp reads answered together stay apart: a damaged stamp fails its own user's read, not
/// the others' read with it.
#[tokio::test]
async fn damaged_stamp_fails_only_its_users_read() {
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

/// A session hash written before `last_ip_address` existed, whose `ip_address` was then the
/// latest address, reads with that address as both; a move then keeps it as the first.
#[tokio::test]
async fn a_session_without_a_last_address_reads_its_address_as_both() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    let (older, newer) = (
        session(1, base, 0, "192.0.2.50"),
        session(1, base, MINUTE, "192.0.2.51"),
    );
    for s in [&older, &newer] {
        create(store.as_ref(), s, ROOMY).await;
        let key = format!("{prefix}:{{u:1}}:s:{}", s.token_hash.to_hex());
        assert_eq!(
            shared_redis_cli(&["HDEL", &key, "last_ip_address"]).trim(),
            "1"
        );
    }
    let found = store
        .get_by_token_hash(&older.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, older);
    // Listed by a script (JSON), and evicted by one.
    assert_eq!(
        store.list_by_user(1, base).await.unwrap(),
        [newer.clone(), older.clone()]
    );
    store
        .set_ip_address(&older.id, "198.51.100.50")
        .await
        .unwrap();
    let moved = store
        .get_by_token_hash(&older.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.ip_address.as_str(), moved.last_ip_address.as_str()),
        ("192.0.2.50", "198.51.100.50")
    );
    let one = sessiond::store::SessionLimit {
        max_per_user: 1,
        evict_oldest: true,
    };
    let evicted = create(
        store.as_ref(),
        &session(1, base, 2 * MINUTE, "192.0.2.52"),
        one,
    )
    .await;
    let mut evicted = ids(&evicted);
    evicted.sort();
    let mut expected = vec![older.id.as_str(), newer.id.as_str()];
    expected.sort();
    assert_eq!(evicted, expected);
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
async fn deletions_remove_what_they_promise() {
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
async fn create_is_undone_when_its_token_pointer_fails() {
    let Some(isolated) = isolated(Backend::Redis) else {
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

/// A Redis user without pub/sub permissions (set up before the store used a channel) can
/// still delete: no node can subscribe with it, so there is nobody to tell.
#[tokio::test]
async fn writes_need_no_pub_sub_when_no_node_subscribes() {
    let Some(isolated) = isolated(Backend::Redis) else {
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
async fn address_filter_indexes_what_was_listed_before_the_index_existed() {
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
    let by_ip = at(address);
    let page = upgraded.scan(&by_ip, base, 10, 0).await.unwrap();
    assert_eq!(ids(&page.items), [&newer.id, &older.id]);
    assert_eq!(shared_redis_cli(&["EXISTS", &marker]).trim(), "1");
    assert_eq!(shared_redis_cli(&["ZCARD", &address_set(1)]).trim(), "1");
}

/// The periodic purge sweeps the address entries of sessions past their absolute expiry, and
/// only those.
#[tokio::test]
async fn purge_sweeps_address_entries_of_ended_sessions() {
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
async fn address_filter_drops_entries_of_moved_and_deleted_sessions() {
    let Some((_guard, prefix, store)) = redis_store().await else {
        return;
    };
    let base = now();
    let (old, new) = ("192.0.2.30", "192.0.2.31");
    // Users 4 and 20 share admin shard 4.
    // Created elsewhere, then at `old`, then at `new`: `old`'s entry goes with the second move.
    let moving = session(4, base, 0, "192.0.2.29");
    let staying = session(20, base, MINUTE, old);
    let deleted = session(4, base, 2 * MINUTE, old);
    for s in [&moving, &staying, &deleted] {
        create(store.as_ref(), s, ROOMY).await;
    }
    let set = format!("{prefix}:{{a:4}}:ip");
    store.set_ip_address(&moving.id, old).await.unwrap();
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
    let at_old = at(old);
    let page = store.scan(&at_old, base, 10, 0).await.unwrap();
    assert_eq!(
        (ids(&page.items), page.total),
        (vec![staying.id.as_str()], 1)
    );
    let entries = shared_redis_cli(&["ZRANGE", &set, "0", "-1"]);
    assert_eq!(entries.matches(&format!("{old}|")).count(), 1, "{entries}");
}
