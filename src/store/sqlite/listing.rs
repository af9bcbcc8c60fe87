//! The admin listing of sessions: all of them by recency, by address, some users'; and the
//! sweep of address entries that no session is behind any more.

use super::sessions::{RECENCY_LEVELS, active_of_user};
use crate::domain::address_filter::AddressFilter;
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::store::sql::{SESSION_COLUMNS, session_from_row};
use crate::store::{Page, SessionFilter};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

/// Address entries one purge checks at most, holding the write lock meanwhile (a random
/// rowid lookup each, ~25 ms for all of them at 1M sessions): at one purge a minute, 5.9
/// million a day, above the sessions a day that end on a store SQLite suits.
const ADDRESS_SWEEP_BATCH: i64 = 4_096;

/// Where the sweep of address entries goes on from: the last entry it checked.
pub(super) type SweepCursor = std::sync::Arc<Mutex<(String, i64)>>;

/// A cursor before every address entry.
pub(super) fn sweep_start() -> (String, i64) {
    (String::new(), i64::MIN)
}

/// Removes the entries among the next [`ADDRESS_SWEEP_BATCH`] after the cursor whose session
/// is gone or at another address, and moves the cursor on (to the start after the last
/// entry); how many it removed.
pub(super) fn sweep_addresses(conn: &Connection, cursor: &SweepCursor) -> rusqlite::Result<u64> {
    let Ok(mut cursor) = cursor.lock() else {
        return Ok(0);
    };
    let (after, after_session) = cursor.clone();
    let last: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT address, session FROM session_addresses WHERE (address, session) > (?1, ?2) \
             ORDER BY address, session LIMIT 1 OFFSET ?3",
        )?
        .query_row(
            params![after, after_session, ADDRESS_SWEEP_BATCH - 1],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let gone = "NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.rowid = session \
                AND (sessions.ip_address = address OR sessions.last_ip_address = address))";
    let swept = match &last {
        Some((address, session)) => conn
            .prepare_cached(&format!(
                "DELETE FROM session_addresses WHERE (address, session) > (?1, ?2) \
                 AND (address, session) <= (?3, ?4) AND {gone}"
            ))?
            .execute(params![after, after_session, address, session])?,
        None => conn
            .prepare_cached(&format!(
                "DELETE FROM session_addresses WHERE (address, session) > (?1, ?2) AND {gone}"
            ))?
            .execute(params![after, after_session])?,
    };
    *cursor = last.unwrap_or_else(sweep_start);
    Ok(swept as u64)
}

/// The unfiltered admin listing. `OFFSET` alone would step through every index entry it
/// skips (~50 ns each, 25 ms in the middle of 1M); instead `session_recency` is summed from
/// the newest span down to the one second holding row `offset`, and the index is walked
/// inside that second only. Exactly the page of `ORDER BY last_active_at DESC, rowid`: ties
/// in the index's own order, by user and then age, so the walk never reads the table.
pub(super) fn scan_all(
    tx: &Connection,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    // Expired sessions not yet purged are counted in their spans but not listed; the purge
    // every minute keeps them few, and the expiry index finds them.
    let expired: Vec<i64> = tx
        .prepare_cached("SELECT last_active_at FROM sessions WHERE expires_at <= ?1")?
        .query_map([now.0], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let stored: u64 = tx
        .prepare_cached("SELECT COALESCE(SUM(sessions), 0) FROM session_recency WHERE bits = ?1")?
        .query_row([RECENCY_LEVELS[0]], |row| row.get(0))?;
    let total = stored.saturating_sub(expired.len() as u64);
    if offset >= total {
        return Ok(Page {
            items: Vec::new(),
            total,
        });
    }
    // The span (first and last millisecond) holding row `offset`, and the listed rows before it.
    let (mut first, mut last, mut before) = (i64::MIN, i64::MAX, 0);
    for bits in RECENCY_LEVELS {
        let mut expired_in = BTreeMap::<i64, u64>::new();
        for at in &expired {
            *expired_in.entry(at >> bits).or_default() += 1;
        }
        let mut spans = tx.prepare_cached(
            "SELECT bucket, sessions FROM session_recency \
             WHERE bits = ?1 AND bucket BETWEEN ?2 AND ?3 ORDER BY bucket DESC",
        )?;
        let mut rows = spans.query(params![bits, first >> bits, last >> bits])?;
        while let Some(row) = rows.next()? {
            let (bucket, sessions): (i64, u64) = (row.get(0)?, row.get(1)?);
            let listed = sessions.saturating_sub(expired_in.get(&bucket).copied().unwrap_or(0));
            if before + listed > offset {
                (first, last) = (bucket << bits, (bucket << bits) | ((1 << bits) - 1));
                break;
            }
            before += listed;
        }
    }
    // The expired rowids, from the expiry index, are gathered once; only the page's rows
    // are read from the table.
    let items = tx
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE rowid IN (\
                 SELECT rowid FROM sessions INDEXED BY sessions_by_last_active \
                 WHERE last_active_at <= ?1 \
                     AND rowid NOT IN (SELECT rowid FROM sessions WHERE expires_at <= ?2) \
                 ORDER BY last_active_at DESC, rowid LIMIT ?3 OFFSET ?4) \
             ORDER BY last_active_at DESC, rowid"
        ))?
        .query_map(params![last, now.0, limit, offset - before], |row| {
            session_from_row(row)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { items, total })
}

/// The admin listing of some users' sessions, filtered by address or not: each user's span
/// read whole (a user has few sessions), then sorted and paged.
pub(super) fn scan_by_users(
    tx: &Connection,
    user_ids: &[i64],
    filter: &SessionFilter,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    let mut sessions = Vec::new();
    for &user_id in user_ids {
        sessions.extend(active_of_user(tx, user_id, now)?);
    }
    sessions.retain(|session| filter.admits(session));
    Ok(Page::of_listing(sessions, limit, offset))
}

/// The admin listing by address: the entries in `session_addresses` whose address begins with
/// the filter's text, joined to the sessions still created from or last used from it, judged
/// by the filter, sorted and paged here. O(entries in the range).
pub(super) fn scan_address(
    tx: &Connection,
    address: &AddressFilter,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    let prefix = address.text_prefix();
    // Every character of an address sorts before U+10FFFF.
    let end = format!("{prefix}\u{10FFFF}");
    // CROSS JOIN keeps the entries as the outer loop: a rowid lookup per entry.
    let found: Vec<Session> = tx
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM session_addresses \
             CROSS JOIN sessions ON sessions.rowid = session \
             WHERE address >= ?1 AND address < ?2 \
                 AND (ip_address = address OR last_ip_address = address) AND expires_at > ?3"
        ))?
        .query_map(params![prefix, end, now.0], |row| session_from_row(row))?
        .collect::<rusqlite::Result<_>>()?;
    // A session found by both its addresses is listed once.
    let mut seen = HashSet::new();
    let sessions = found
        .into_iter()
        .filter(|session| address.matches_session(session) && seen.insert(session.id.clone()))
        .collect();
    Ok(Page::of_listing(sessions, limit, offset))
}
