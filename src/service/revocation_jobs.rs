//! Group revocations the console runs in the background, kept in the session store at every
//! step so that any node can show how far one has got and how it ended.

use super::{Progress, Service, ServiceResult};
use crate::domain::revocation_job::{RevocationJob, RevocationOutcome};
use std::sync::{Arc, Mutex, PoisonError};

impl Service {
    /// The unexpired revocation job `id`, if the session `session_id` started it.
    pub async fn revocation_job(
        &self,
        id: &str,
        session_id: &str,
    ) -> ServiceResult<Option<RevocationJob>> {
        let job = self.sessions.revocation_job(id, self.now()).await?;
        Ok(job.filter(|job| job.session_id == session_id))
    }
}

/// A revocation job as its run advances, written to the session store once per step.
pub struct StoredJob {
    service: Arc<Service>,
    id: String,
    job: Mutex<RevocationJob>,
}

impl StoredJob {
    /// Keeps a new job `id` of the session `session_id` over `group`.
    pub async fn create(
        service: Arc<Service>,
        id: String,
        session_id: &str,
        group: &str,
    ) -> ServiceResult<StoredJob> {
        let job = RevocationJob::new(session_id, group, service.now());
        service.sessions.put_revocation_job(&id, &job).await?;
        Ok(StoredJob {
            service,
            id,
            job: Mutex::new(job),
        })
    }

    /// Changes the job and keeps it, stamped with the time.
    async fn record(&self, change: impl FnOnce(&mut RevocationJob)) -> ServiceResult<()> {
        let job = {
            // A poisoned lock only means a panic elsewhere; the job itself is always whole.
            let mut job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut job);
            job.updated_at = self.service.now();
            job.clone()
        };
        Ok(self
            .service
            .sessions
            .put_revocation_job(&self.id, &job)
            .await?)
    }

    /// Records how the revocation ended.
    pub async fn end(&self, outcome: RevocationOutcome) -> ServiceResult<()> {
        self.record(|job| job.outcome = Some(outcome)).await
    }

    /// Records a step; one the store missed is only logged, as the revocation goes on and its
    /// next step or its end is recorded all the same.
    async fn step(&self, change: impl FnOnce(&mut RevocationJob)) {
        if let Err(error) = self.record(change).await {
            tracing::warn!(%error, "could not record a group revocation's progress");
        }
    }
}

#[async_trait::async_trait]
impl Progress for StoredJob {
    async fn begin(&self, total: u64) {
        self.step(|job| job.total = total).await;
    }

    async fn advance(&self, steps: u64) {
        self.step(|job| job.done += steps).await;
    }
}
