//! Group revocation jobs (`domain::revocation_job`) in the sessions database.

use super::{Pool, run};
use crate::domain::revocation_job::RevocationJob;
use crate::domain::time::Timestamp;
use crate::store::{StoreResult, decode_revocation_job};
use rusqlite::{OptionalExtension, params};

pub(super) async fn put(pool: &Pool, id: &str, job: &RevocationJob) -> StoreResult<()> {
    let (id, text, expires_at) = (id.to_owned(), job.encode(), job.expires_at());
    run(pool, move |conn| {
        conn.execute(
            "INSERT OR REPLACE INTO revocation_jobs (id, job, expires_at) VALUES (?1, ?2, ?3)",
            params![id, text, expires_at.0],
        )
        .map(|_| ())
    })
    .await
}

pub(super) async fn find(
    pool: &Pool,
    id: &str,
    now: Timestamp,
) -> StoreResult<Option<RevocationJob>> {
    let id = id.to_owned();
    let text: Option<String> = run(pool, move |conn| {
        conn.query_row(
            "SELECT job FROM revocation_jobs WHERE id = ?1 AND expires_at > ?2",
            params![id, now.0],
            |row| row.get(0),
        )
        .optional()
    })
    .await?;
    text.as_deref().map(decode_revocation_job).transpose()
}

/// Removes the jobs past their time.
pub(super) fn purge(conn: &rusqlite::Connection, now: Timestamp) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM revocation_jobs WHERE expires_at <= ?1",
        [now.0],
    )
}
