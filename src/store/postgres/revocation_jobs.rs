//! Group revocation jobs (`domain::revocation_job`) in the sessions database.

use super::{optional_row, with_client};
use crate::domain::revocation_job::RevocationJob;
use crate::domain::time::Timestamp;
use crate::store::sql::SqlRow;
use crate::store::{StoreResult, decode_revocation_job};
use deadpool_postgres::Pool;

pub(super) async fn put(pool: &Pool, id: &str, job: &RevocationJob) -> StoreResult<()> {
    with_client(pool, async |client| {
        client
            .execute(
                "INSERT INTO revocation_jobs (id, job, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET job = $2, expires_at = $3",
                &[&id, &job.encode(), &job.expires_at().0],
            )
            .await?;
        Ok(())
    })
    .await
}

pub(super) async fn find(
    pool: &Pool,
    id: &str,
    now: Timestamp,
) -> StoreResult<Option<RevocationJob>> {
    let text = optional_row(
        pool,
        "SELECT job FROM revocation_jobs WHERE id = $1 AND expires_at > $2",
        &[&id, &now.0],
        |row| row.text(0),
    )
    .await?;
    text.as_deref().map(decode_revocation_job).transpose()
}

/// Removes the jobs past their time.
pub(super) async fn purge(pool: &Pool, now: Timestamp) -> StoreResult<u64> {
    with_client(pool, async |client| {
        Ok(client
            .execute(
                "DELETE FROM revocation_jobs WHERE expires_at <= $1",
                &[&now.0],
            )
            .await?)
    })
    .await
}
