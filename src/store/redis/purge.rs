//! The minute purge: expired admin-listing entries, and address entries of ended sessions.

use super::scripts::{PURGE_SHARD, SWEEP_ADDRESSES};
use super::{RedisSessionStore, SHARDS};
use crate::domain::time::Timestamp;
use crate::store::{StoreError, StoreResult};
use futures_util::future::try_join_all;
use redis::aio::ConnectionLike;
use redis::{Pipeline, pipe};
use std::time::Duration;

/// Entries one step of [`RedisSessionStore::sweep_addresses`] looks at, and how long one
/// call of it may go on.
const SWEEP_STEP: usize = 256;
const SWEEP_BUDGET: Duration = Duration::from_millis(100);
/// Expired listing entries removed per script call, so one call never blocks Redis for long.
pub(super) const PURGE_BATCH: usize = 1000;

/// Adds [`PURGE_SHARD`] for the shard keyed `active`/`expiry` to a pipeline. Sent as `EVAL`
/// rather than `EVALSHA`, so it can go first in a pipeline with no "script not loaded" to
/// recover from halfway.
pub(super) fn purge_shard(pipeline: &mut Pipeline, active: &str, expiry: &str, now: Timestamp) {
    pipeline.cmd("EVAL").arg(PURGE_SHARD).arg(2).arg(active);
    pipeline.arg(expiry).arg(now.0).arg(PURGE_BATCH);
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Removes expired admin-listing entries from every shard; how many. Shards go at once,
    /// so a listing waits for one round trip, not sixteen.
    pub(super) async fn purge_listing(&self, now: Timestamp) -> StoreResult<u64> {
        let purged = try_join_all((0..SHARDS).map(async |shard| {
            let (active, expiry) = self.keys.shard(shard);
            let mut purged = 0;
            loop {
                let mut pipeline = pipe();
                purge_shard(&mut pipeline, &active, &expiry, now);
                let ((removed, listed),): ((u64, u64),) = self.send(pipeline).await?;
                purged += listed;
                if removed < PURGE_BATCH as u64 {
                    return Ok::<_, StoreError>(purged);
                }
            }
        }))
        .await?;
        Ok(purged.into_iter().sum())
    }

    /// Removes the entries of sessions past their absolute expiry from the address sets,
    /// resuming where the last call stopped. One small `ZSCAN` step at a time, for at most
    /// `SWEEP_BUDGET` a call: a step of 256 entries held Redis 0.6–1.0 ms here (`SLOWLOG`),
    /// and other clients' commands run between steps (sweeping all shards at once, 16 steps
    /// of 1,000 each, put 200 ms stalls into the benchmark's logins). That is some 25,000
    /// entries a call, one a minute: an entry outlives its session's absolute lifetime by
    /// under an hour at 1M sessions.
    pub(super) async fn sweep_addresses(&self, now: Timestamp) -> StoreResult<()> {
        let (mut shard, mut cursor) = self
            .sweep_position
            .lock()
            .map_or_else(|_| (0, "0".to_owned()), |at| at.clone());
        let started = std::time::Instant::now();
        let mut finished_shards = 0;
        while started.elapsed() < SWEEP_BUDGET && finished_shards < SHARDS {
            let mut invocation = SWEEP_ADDRESSES.key(self.keys.shard_addresses(shard));
            invocation.arg(&cursor).arg(now.0).arg(SWEEP_STEP);
            cursor = self.run(invocation).await?;
            if cursor == "0" {
                shard = (shard + 1) % SHARDS;
                finished_shards += 1;
            }
        }
        if let Ok(mut at) = self.sweep_position.lock() {
            *at = (shard, cursor);
        }
        Ok(())
    }
}
