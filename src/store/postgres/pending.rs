//! Pending sign-ins (`domain::pending`) in the sessions database.

use super::{optional_row, with_client};
use crate::domain::pending::PendingSignIn;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::StoreResult;
use crate::store::sql::{PENDING_COLUMNS, pending_from_row};
use deadpool_postgres::Pool;

pub(super) async fn put(pool: &Pool, hash: &TokenHash, pending: &PendingSignIn) -> StoreResult<()> {
    with_client(pool, async |client| {
        client
            .execute(
                "INSERT INTO pending_sign_ins \
                 (token_hash, user_id, purpose, remember_me, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO UPDATE SET \
                 user_id = $2, purpose = $3, remember_me = $4, expires_at = $5",
                &[
                    &hash.0.as_slice(),
                    &pending.user_id,
                    &pending.purpose.as_str(),
                    &pending.remember_me,
                    &pending.expires_at.0,
                ],
            )
            .await?;
        Ok(())
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
    let sql = if take {
        format!(
            "DELETE FROM pending_sign_ins WHERE token_hash = $1 AND expires_at > $2 \
             RETURNING {PENDING_COLUMNS}"
        )
    } else {
        format!(
            "SELECT {PENDING_COLUMNS} FROM pending_sign_ins \
             WHERE token_hash = $1 AND expires_at > $2"
        )
    };
    optional_row(pool, &sql, &[&hash.0.as_slice(), &now.0], |row| {
        pending_from_row(row)
    })
    .await
}

/// Removes expired pending sign-ins.
pub(super) async fn purge(pool: &Pool, now: Timestamp) -> StoreResult<u64> {
    with_client(pool, async |client| {
        Ok(client
            .execute(
                "DELETE FROM pending_sign_ins WHERE expires_at <= $1",
                &[&now.0],
            )
            .await?)
    })
    .await
}
