//! Group revocation jobs (`domain::revocation_job`): `P:r:ID` → the job's text, which Redis
//! drops an hour after its last update.

use super::RedisSessionStore;
use crate::domain::revocation_job::RevocationJob;
use crate::domain::time::Timestamp;
use crate::store::{StoreResult, decode_revocation_job};
use redis::aio::ConnectionLike;
use redis::cmd;

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    pub(super) async fn put_job(&self, id: &str, job: &RevocationJob) -> StoreResult<()> {
        let mut command = cmd("SET");
        command
            .arg(self.keys.revocation_job(id))
            .arg(job.encode())
            .arg("PXAT")
            .arg(job.expires_at().0);
        self.query::<()>(&command).await
    }

    /// The job `id`, unless expired by `now` (though not yet by Redis's clock).
    pub(super) async fn find_job(
        &self,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<RevocationJob>> {
        let text: Option<String> = self
            .query(cmd("GET").arg(self.keys.revocation_job(id)))
            .await?;
        let job = text.as_deref().map(decode_revocation_job).transpose()?;
        Ok(job.filter(|job| job.expires_at() > now))
    }
}
