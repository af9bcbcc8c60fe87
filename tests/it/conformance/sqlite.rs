//! SQLite: every conformance check, and what only SQLite's session store does to its file.

use super::{HOUR, MINUTE, ROOMY, at, create, ids, now, session};
use crate::services::{Backend, Isolated};
use sessiond::domain::session::Session;
use sessiond::domain::time::Timestamp;
use sessiond::store::sqlite::SqliteSessionStore;
use sessiond::store::{Page, SessionFilter, SessionStore, UserActivity};

session_checks!(Backend::Sqlite);
directory_checks!(Backend::Sqlite);

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
            placeholders('?', 15)
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
async fn address_entries_follow_the_sessions_and_the_purge_sweeps_the_rest() {
    let (_isolated, path, store, db) = sqlite_store();
    let entries = || -> i64 {
        db.query_row("SELECT COUNT(*) FROM session_addresses", [], |row| {
            row.get(0)
        })
        .unwrap()
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
    // The moved one is still found by the address it was created from.
    let still_at_a: Vec<&Session> = sessions.iter().step_by(2).collect();
    let page = store.scan(&at(a), base, 50, 0).await.unwrap();
    assert_eq!(page.total, still_at_a.len() as u64);
    assert_eq!(listed(page), newest_first(still_at_a));
    let page = store.scan(&at(b), base, 2, 1).await.unwrap();
    assert_eq!(
        page.total, 4,
        "user 2's three at b are gone, the moved one is there"
    );

    // The purge sweeps what no session is behind: user 2's.
    store.purge_expired(base).await.unwrap();
    assert_eq!(entries(), 10);
    let stale: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM session_addresses LEFT JOIN sessions \
             ON sessions.rowid = session AND (ip_address = address OR last_ip_address = address) \
             WHERE sessions.id IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stale, 0);

    // A file without the entries (an older build's, which records no versions) gets them
    // when opened.
    drop(store);
    // An older build's file kept one address per session, the latest.
    db.execute_batch(
        "DROP TABLE session_addresses; DROP TRIGGER session_address_insert; \
         DROP TRIGGER session_address_update; DROP TRIGGER session_last_address_insert; \
         DROP TRIGGER session_last_address_update; \
         UPDATE sessions SET ip_address = COALESCE(last_ip_address, ip_address);",
    )
    .unwrap();
    let added = session(5, base, 99_000, a);
    insert_directly(&db, &added);
    db.execute_batch(
        "ALTER TABLE sessions DROP COLUMN last_ip_address; DROP TABLE sessiond_migrations;",
    )
    .unwrap();
    let store = SqliteSessionStore::open(&path).unwrap();
    // The older file kept only the latest address: the moved one is at b now.
    assert_eq!(entries(), 10);
    let page = store.scan(&at(a), base, 1, 0).await.unwrap();
    assert_eq!(page.total, 6);
    assert_eq!(listed(page), [added.id]);
}

/// A file of a build that stored sessions wherever SQLite put them, with an index by user:
/// opened, its sessions are moved into their users' spans once, and every query by user
/// finds them, users whose spans coincide kept apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_an_older_file_are_placed_by_user() {
    let (_isolated, path, store, db) = sqlite_store();
    drop(store);
    db.execute_batch(
        "DROP TRIGGER sessions_in_user_span; DROP TABLE sessiond_migrations; \
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
async fn listing_pages_match_the_plain_query() {
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

    // A file written by a build without the counts (nor recorded versions), and with the
    // wider listing index of older builds, gets the counts and the narrow index when opened.
    drop(store);
    db.execute_batch(
        "DROP TABLE session_recency; DROP TRIGGER session_recency_insert; \
         DROP TRIGGER session_recency_update_18; DROP TRIGGER session_recency_update_10; \
         DROP TRIGGER session_recency_delete; DROP INDEX sessions_by_last_active; \
         DROP TABLE sessiond_migrations; CREATE INDEX sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);",
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
