//! Why sessions ended ([`EndedSession`]): `P:e:HASH` → the reason, expiring at the record's
//! `until` (one already past is not kept). Each key is a slot of its own, so every record is
//! a command of its own.

use super::RedisSessionStore;
use crate::domain::session::EndReason;
use crate::domain::token::TokenHash;
use crate::store::{EndedSession, StoreResult};
use futures_util::future::try_join_all;
use redis::aio::ConnectionLike;
use redis::cmd;

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    pub(super) async fn record_ended_sessions(&self, ended: &[EndedSession]) -> StoreResult<()> {
        let writes = ended.iter().map(|record| {
            let mut set = cmd("SET");
            set.arg(self.keys.ended(&record.token_hash.to_hex()))
                .arg(record.reason.as_str())
                .arg("PXAT")
                .arg(record.until.0);
            async move { self.query::<()>(&set).await }
        });
        try_join_all(writes).await.map(drop)
    }

    pub(super) async fn ended_session_reason(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<EndReason>> {
        let reason: Option<String> = self
            .query(cmd("GET").arg(self.keys.ended(&hash.to_hex())))
            .await?;
        Ok(reason.as_deref().and_then(EndReason::parse))
    }
}
