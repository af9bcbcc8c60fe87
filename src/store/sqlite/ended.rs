//! Why sessions ended ([`EndedSession`]), by token hash, in the sessions file.

use crate::domain::session::EndReason;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::EndedSession;
use rusqlite::{Connection, OptionalExtension, params};

/// Records `ended` in one transaction, replacing older records of the same sessions.
pub(super) fn record(conn: &mut Connection, ended: &[EndedSession]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO ended_sessions (token_hash, reason, until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (token_hash) DO UPDATE SET reason = excluded.reason, until = excluded.until",
        )?;
        for record in ended {
            insert.execute(params![
                &record.token_hash.0[..],
                record.reason.as_str(),
                record.until.0
            ])?;
        }
    }
    tx.commit()
}

/// The reason recorded for `hash`, unless its time is over at `now`.
pub(super) fn reason(
    conn: &Connection,
    hash: &TokenHash,
    now: Timestamp,
) -> rusqlite::Result<Option<EndReason>> {
    let reason: Option<String> = conn
        .prepare_cached("SELECT reason FROM ended_sessions WHERE token_hash = ?1 AND until > ?2")?
        .query_row(params![&hash.0[..], now.0], |row| row.get(0))
        .optional()?;
    Ok(reason.as_deref().and_then(EndReason::parse))
}

/// Removes the records whose time is over; how many.
pub(super) fn purge(conn: &Connection, now: Timestamp) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM ended_sessions WHERE until <= ?1", [now.0])
}
