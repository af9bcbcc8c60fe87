//! Pending sign-ins (`domain::pending`) in the sessions database.

use super::{Pool, run};
use crate::domain::pending::PendingSignIn;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::StoreResult;
use crate::store::sql::{PENDING_COLUMNS, pending_from_row};
use rusqlite::{OptionalExtension, params};

pub(super) async fn put(pool: &Pool, hash: &TokenHash, pending: &PendingSignIn) -> StoreResult<()> {
    let (hash, pending) = (*hash, pending.clone());
    run(pool, move |conn| {
        conn.execute(
            "INSERT OR REPLACE INTO pending_sign_ins \
             (token_hash, user_id, purpose, remember_me, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                hash.0.as_slice(),
                pending.user_id,
                pending.purpose.as_str(),
                pending.remember_me,
                pending.expires_at.0
            ],
        )
        .map(|_| ())
    })
    .await
}

/// The unexpired pending sign-in under `hash`; with `take`, deleted in the same statement.
pub(super) async fn find(
    pool: &Pool,
    hash: &TokenHash,
    now: Timestamp,
    take: bool,
) -> StoreResult<Option<PendingSignIn>> {
    let hash = *hash;
    let sql = if take {
        format!(
            "DELETE FROM pending_sign_ins WHERE token_hash = ?1 AND expires_at > ?2 \
             RETURNING {PENDING_COLUMNS}"
        )
    } else {
        format!(
            "SELECT {PENDING_COLUMNS} FROM pending_sign_ins \
             WHERE token_hash = ?1 AND expires_at > ?2"
        )
    };
    run(pool, move |conn| {
        conn.query_row(&sql, params![hash.0.as_slice(), now.0], |row| {
            pending_from_row(row)
        })
        .optional()
    })
    .await
}

/// Removes expired pending sign-ins.
pub(super) fn purge(conn: &rusqlite::Connection, now: Timestamp) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM pending_sign_ins WHERE expires_at <= ?1",
        [now.0],
    )
}
