//! The session store: each user's sessions in a span of rowids of their own.

use super::ended;
use super::listing::{
    SweepCursor, scan_address, scan_all, scan_by_users, sweep_addresses, sweep_start,
};
use super::migrate::Component;
use super::{
    BULK_CACHE_KIB, Checkpointer, Pool, Readers, WRITER_CACHE_KIB, conflict, open_pool, run,
    run_on_pool,
};
use crate::domain::pending::PendingSignIn;
use crate::domain::revocation_job::RevocationJob;
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::sql::{
    SESSION_COLUMNS, SqlValue, placeholders, session_from_row, session_values,
};
use crate::store::stamp_file::StampFile;
use crate::store::{
    CreateOutcome, EndedSession, Page, SessionFilter, SessionLimit, SessionStore, StoreError,
    StoreResult, UserActivity, pause_point, sort_for_user,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

/// The low bits of a user id that choose its span: ids agreeing in them share one.
const SPAN_USER_BITS: i64 = 0x7FFF_FFFF;
/// The low bits of a rowid that number the sessions within a span (2^32 of them).
const SPAN_SESSION_BITS: i64 = 0xFFFF_FFFF;

/// The first and last rowid of `user_id`'s sessions. Users sharing a span are told apart
/// by every query by span, which also matches the user's id.
fn user_span(user_id: i64) -> (i64, i64) {
    let first = (user_id & SPAN_USER_BITS) << SPAN_SESSION_BITS.count_ones();
    (first, first | SPAN_SESSION_BITS)
}

/// The highest rowid taken in a user's span.
const HIGHEST_IN_SPAN: &str = "SELECT MAX(rowid) FROM sessions WHERE rowid BETWEEN ?1 AND ?2";

static INSERT_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}, rowid) VALUES ({})",
        placeholders('?', 16)
    )
});

/// Stores a new session in its user's span, after the user's others; inside a write
/// transaction, so no two writers take the same rowid.
pub fn insert_session(conn: &Connection, session: &Session) -> rusqlite::Result<()> {
    let (first, last) = user_span(session.user_id);
    let highest: Option<i64> = conn
        .prepare_cached(HIGHEST_IN_SPAN)?
        .query_row(params![first, last], |row| row.get(0))?;
    let rowid = match highest {
        None => first,
        Some(highest) if highest < last => highest + 1,
        Some(_) => {
            return Err(conflict(format!(
                "user {} has used up the 2^32 session numbers of their span",
                session.user_id
            )));
        }
    };
    let values = session_values(session)
        .into_iter()
        .chain(std::iter::once(SqlValue::Int(rowid)));
    conn.prepare_cached(&INSERT_SESSION)?
        .execute(params_from_iter(values))?;
    Ok(())
}

/// Spans of `last_active_at` the admin listing counts sessions in, coarsest first: 2^18 ms
/// (~4.4 minutes), each split into 256 of 2^10 ms (~1 second). Finding offset N sums at most a
/// few hundred counts per level and then walks the index inside one second only.
pub(super) const RECENCY_LEVELS: [u32; 2] = [18, 10];

/// The trigger that counts deleted sessions out of `RECENCY_LEVELS`, as the migrations make
/// it; a bulk delete replaces it for its transaction (see `delete_sessions_of`).
const RECENCY_DELETE_TRIGGER: &str = "\
CREATE TRIGGER session_recency_delete AFTER DELETE ON sessions BEGIN
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 18 AND bucket = old.last_active_at >> 18;
    UPDATE session_recency SET sessions = sessions - 1 WHERE bits = 10 AND bucket = old.last_active_at >> 10;
END;";

pub struct SqliteSessionStore {
    pool: Pool,
    readers: Readers,
    stamps: StampFile,
    address_sweep: SweepCursor,
    _checkpointer: Checkpointer,
}

impl SqliteSessionStore {
    pub fn open(path: &str) -> Result<Self, String> {
        let pool = open_pool(path, Component::Sessions)?;
        Ok(SqliteSessionStore {
            _checkpointer: Checkpointer::start(&pool),
            stamps: StampFile::open(path)?,
            address_sweep: std::sync::Arc::new(Mutex::new(sweep_start())),
            pool,
            readers: Readers::new(path),
        })
    }

    /// New stamps for users whose sessions a committed change deleted or altered.
    fn bump(&self, user_ids: impl IntoIterator<Item = i64>) -> StoreResult<()> {
        self.stamps
            .bump(user_ids)
            .map_err(|e| StoreError::Unavailable(format!("cannot write the stamp file: {e}")))
    }

    /// Deletes sessions of `user_ids` by `delete`, with the users' stamps replaced both
    /// before and after its commit: a process that dies between the commit and its second
    /// write (or fails that write) has already made every remembered check of these users
    /// stale, so no server answers a deleted session from memory. The second write covers
    /// the checks that read the stamp while the deletion was under way.
    async fn delete_with_stamps<T: Send + 'static>(
        &self,
        user_ids: &[i64],
        delete: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.bump(user_ids.iter().copied())?;
        let deleted = run(&self.pool, delete).await?;
        pause_point("revocation_commit").await;
        if let Err(error) = self.bump(user_ids.iter().copied()) {
            tracing::warn!(%error, "sessions deleted; their users' stamps were replaced before only");
        }
        Ok(deleted)
    }
}

/// The session check's query, built once rather than on every request.
static SESSION_BY_TOKEN: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"));

/// A user's unexpired sessions, least recently active first: read along the user's span
/// (`NOT INDEXED` keeps the planner from the expiry index, which would visit every user's).
static ACTIVE_OF_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions NOT INDEXED \
         WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 AND expires_at > ?4 \
         ORDER BY last_active_at ASC"
    )
});

/// The unexpired sessions of `user_id`, least recently active first.
pub(super) fn active_of_user(
    conn: &Connection,
    user_id: i64,
    now: Timestamp,
) -> rusqlite::Result<Vec<Session>> {
    let (first, last) = user_span(user_id);
    conn.prepare_cached(&ACTIVE_OF_USER)?
        .query_map(params![first, last, user_id, now.0], |row| {
            session_from_row(row)
        })?
        .collect()
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let user_id = session.user_id;
        let session = session.clone();
        let outcome = run(&self.pool, move |conn| {
            // IMMEDIATE takes the write lock first, so two logins cannot both pass the limit.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut active = active_of_user(&tx, session.user_id, now)?;
            let Some(excess) = limit.excess(active.len()) else {
                return Ok(CreateOutcome::LimitReached);
            };
            for old in active.iter().take(excess) {
                tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                    .execute([&old.id])?;
            }
            insert_session(&tx, &session)?;
            tx.commit()?;
            let kept = active.split_off(excess);
            Ok(CreateOutcome::created(
                active,
                kept.iter()
                    .flat_map(|s| s.addresses().map(str::to_owned))
                    .collect::<Vec<_>>(),
                &session,
            ))
        })
        .await?;
        if matches!(&outcome, CreateOutcome::Created { evicted, .. } if !evicted.is_empty()) {
            self.bump([user_id])?;
        }
        Ok(outcome)
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = *hash;
        self.readers
            .lookup(&self.pool, move |conn| {
                conn.prepare_cached(&SESSION_BY_TOKEN)?
                    .query_row([hash.0.as_slice()], |row| session_from_row(row))
                    .optional()
            })
            .await
    }

    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        run_on_pool(&self.pool, move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET last_active_at = ?2, expires_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, last_active_at.0, expires_at.0])?;
            Ok(())
        })
        .await
    }

    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()> {
        let (id, ip_address) = (id.to_owned(), ip_address.to_owned());
        let user_id = run_on_pool(&self.pool, move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET last_ip_address = ?2 WHERE id = ?1 RETURNING user_id",
            )?
            .query_row(params![id, ip_address], |row| row.get::<_, i64>(0))
            .optional()
        })
        .await?;
        self.bump(user_id)
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut sessions = run(&self.pool, move |conn| active_of_user(conn, user_id, now)).await?;
        sort_for_user(&mut sessions);
        Ok(sessions)
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let owned = id.to_owned();
        // A session never changes hands, so its user read first is its user at the delete.
        let user_id = run(&self.pool, move |conn| {
            conn.prepare_cached("SELECT user_id FROM sessions WHERE id = ?1")?
                .query_row([owned], |row| row.get::<_, i64>(0))
                .optional()
        })
        .await?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let id = id.to_owned();
        self.delete_with_stamps(&[user_id], move |conn| {
            conn.prepare_cached(&format!(
                "DELETE FROM sessions WHERE id = ?1 RETURNING {SESSION_COLUMNS}"
            ))?
            .query_row([id], |row| session_from_row(row))
            .optional()
        })
        .await
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let counts = self.delete_by_users(&[user_id], now).await?;
        Ok(counts.get(&user_id).copied().unwrap_or(0))
    }

    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| activity_of(conn, &user_ids, now)).await
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        let owned = user_ids.to_vec();
        self.delete_with_stamps(user_ids, move |conn| {
            // Deleting many users' sessions changes pages all over four indexes:
            // with room for all of them none is written to the log half-done and then again.
            // The memory is handed back afterwards.
            conn.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
            let deleted = delete_sessions_of(conn, &owned, now);
            conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
            conn.execute_batch("PRAGMA shrink_memory")?;
            deleted
        })
        .await
    }

    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        let filter = filter.clone();
        run(&self.pool, move |conn| {
            // One read transaction, so the total and the page are of the same moment.
            let tx = conn.transaction()?;
            match (&filter.users, &filter.address) {
                (None, None) => scan_all(&tx, now, limit, offset),
                (None, Some(address)) => scan_address(&tx, address, now, limit, offset),
                (Some(users), _) => scan_by_users(&tx, users, &filter, now, limit, offset),
            }
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        let cursor = self.address_sweep.clone();
        run(&self.pool, move |conn| {
            let purged = conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])?;
            super::pending::purge(conn, now)?;
            super::revocation_jobs::purge(conn, now)?;
            conn.execute("DELETE FROM session_recency WHERE sessions = 0", [])?;
            ended::purge(conn, now)?;
            let swept = sweep_addresses(conn, &cursor)?;
            tracing::debug!(swept, "removed the address entries of ended sessions");
            Ok(purged as u64)
        })
        .await
    }

    async fn put_pending_sign_in(
        &self,
        hash: &TokenHash,
        pending: &PendingSignIn,
    ) -> StoreResult<()> {
        super::pending::put(&self.pool, hash, pending).await
    }

    async fn pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        super::pending::find(&self.pool, hash, now, false).await
    }

    async fn take_pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        super::pending::find(&self.pool, hash, now, true).await
    }

    async fn put_revocation_job(&self, id: &str, job: &RevocationJob) -> StoreResult<()> {
        super::revocation_jobs::put(&self.pool, id, job).await
    }

    async fn revocation_job(&self, id: &str, now: Timestamp) -> StoreResult<Option<RevocationJob>> {
        super::revocation_jobs::find(&self.pool, id, now).await
    }

    async fn record_ended(&self, ended: &[EndedSession]) -> StoreResult<()> {
        let ended = ended.to_vec();
        run(&self.pool, move |conn| ended::record(conn, &ended)).await
    }

    async fn ended_reason(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<EndReason>> {
        let hash = *hash;
        run(&self.pool, move |conn| ended::reason(conn, &hash, now)).await
    }

    async fn ping(&self) -> StoreResult<()> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }

    fn keeps_stamps(&self) -> bool {
        true
    }

    async fn user_stamp(&self, user_id: i64) -> StoreResult<Option<u64>> {
        Ok(Some(self.stamps.read(user_id)))
    }

    async fn invalidate_user(&self, user_id: i64) -> StoreResult<()> {
        self.bump([user_id])
    }
}

/// Deletes the sessions of `user_ids`; how many unexpired ones each had.
fn delete_sessions_of(
    conn: &mut Connection,
    user_ids: &[i64],
    now: Timestamp,
) -> rusqlite::Result<BTreeMap<i64, u64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // For many users the delete trigger would run once per row (~1.5 s for 100k sessions):
    // the listing's counts are taken down per span instead, from what the deletes return,
    // with the trigger dropped for this transaction only. DDL is transactional, so no other
    // connection ever sees it missing; it does make every connection prepare its statements
    // again, hence not for a few users.
    let grouped = user_ids.len() >= GROUPED_COUNT_USERS;
    if grouped {
        tx.execute_batch("DROP TRIGGER IF EXISTS session_recency_delete")?;
    }
    let mut counts = BTreeMap::new();
    let mut gone: BTreeMap<(u32, i64), i64> = BTreeMap::new();
    // In order of the spans, so the deletes walk the table from one end to the other.
    let mut users = user_ids.to_vec();
    users.sort_unstable();
    users.dedup();
    let mut delete = tx.prepare(
        "DELETE FROM sessions NOT INDEXED WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 \
         RETURNING expires_at > ?4, last_active_at",
    )?;
    for user_id in users {
        let (first, last) = user_span(user_id);
        let mut deleted = delete.query(params![first, last, user_id, now.0])?;
        while let Some(row) = deleted.next()? {
            if row.get::<_, bool>(0)? {
                *counts.entry(user_id).or_default() += 1;
            }
            if grouped {
                let last_active_at: i64 = row.get(1)?;
                for bits in RECENCY_LEVELS {
                    *gone.entry((bits, last_active_at >> bits)).or_default() += 1;
                }
            }
        }
    }
    drop(delete);
    if grouped {
        let mut uncount = tx.prepare(
            "UPDATE session_recency SET sessions = sessions - ?3 WHERE bits = ?1 AND bucket = ?2",
        )?;
        for ((bits, bucket), deleted) in gone {
            uncount.execute(params![bits, bucket, deleted])?;
        }
        drop(uncount);
        tx.execute_batch(RECENCY_DELETE_TRIGGER)?;
    }
    tx.commit()?;
    Ok(counts)
}

/// From how many users on a bulk delete updates the listing's counts itself, per span,
/// instead of through the delete trigger, row by row.
pub const GROUPED_COUNT_USERS: usize = 64;

/// Unexpired sessions per user among `user_ids`; users with none are left out.
fn activity_of(
    conn: &Connection,
    user_ids: &[i64],
    now: Timestamp,
) -> rusqlite::Result<BTreeMap<i64, UserActivity>> {
    let mut activity = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT COUNT(*), MAX(last_active_at) FROM sessions NOT INDEXED \
         WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 AND expires_at > ?4",
    )?;
    for &user_id in user_ids {
        let (first, last) = user_span(user_id);
        let (sessions, last_active_at) = stmt
            .query_row(params![first, last, user_id, now.0], |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, Option<i64>>(1)?))
            })?;
        if let Some(last_active_at) = last_active_at {
            let last_active_at = Timestamp(last_active_at);
            activity.insert(
                user_id,
                UserActivity {
                    sessions,
                    last_active_at,
                },
            );
        }
    }
    Ok(activity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrations::SQLITE_SESSIONS;

    /// A migration's text with its whitespace runs made single spaces.
    fn migration(name: &str) -> String {
        let migration = SQLITE_SESSIONS.iter().find(|m| m.name == name).unwrap();
        migration
            .sql
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_span_migration_spells_out_user_span() {
        let sql = migration("0004_sessions_in_user_spans");
        let first = |user_id: &str| {
            format!(
                "(({user_id} & {SPAN_USER_BITS}) << {})",
                SPAN_SESSION_BITS.count_ones()
            )
        };
        assert!(sql.contains(&format!("PARTITION BY {}", first("user_id"))));
        let trigger = format!(
            "new.rowid NOT BETWEEN {} AND {} | {SPAN_SESSION_BITS}",
            first("new.user_id"),
            first("new.user_id")
        );
        assert!(sql.contains(&trigger), "{trigger}");
        assert_eq!(user_span(3), (3 << 32, (3 << 32) | 0xFFFF_FFFF));
    }

    #[test]
    fn the_recency_triggers_count_at_every_level() {
        let delete_trigger: String = RECENCY_DELETE_TRIGGER
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for name in ["0003_recency_counts", "0004_sessions_in_user_spans"] {
            let sql = migration(name);
            assert!(sql.contains(&delete_trigger), "{name}");
            for bits in RECENCY_LEVELS {
                let added = format!(
                    "INSERT INTO session_recency VALUES ({bits}, new.last_active_at >> {bits}, 1) \
                     ON CONFLICT DO UPDATE SET sessions = sessions + 1;"
                );
                let moved = format!(
                    "AFTER UPDATE OF last_active_at ON sessions \
                     WHEN old.last_active_at >> {bits} <> new.last_active_at >> {bits} BEGIN \
                     UPDATE session_recency SET sessions = sessions - 1 \
                     WHERE bits = {bits} AND bucket = old.last_active_at >> {bits}; {added} END;"
                );
                let removed = format!(
                    "UPDATE session_recency SET sessions = sessions - 1 \
                     WHERE bits = {bits} AND bucket = old.last_active_at >> {bits};"
                );
                assert!(sql.contains(&added), "{name}: {added}");
                assert!(sql.contains(&moved), "{name}: {moved}");
                assert!(delete_trigger.contains(&removed), "{removed}");
            }
        }
        let counted = migration("0003_recency_counts");
        for bits in RECENCY_LEVELS {
            let count = format!(
                "INSERT INTO session_recency SELECT {bits}, last_active_at >> {bits}, COUNT(*) \
                 FROM sessions GROUP BY 2;"
            );
            assert!(counted.contains(&count), "{count}");
        }
    }
}
