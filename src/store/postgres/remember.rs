//! Remember-me tokens: stored with the login's audit events, taken (deleted) on use.

use super::{PgDirectory, with_client, with_client_for};
use crate::domain::audit::AuditEvent;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::sql::SqlRow;
use crate::store::{RememberToken, RememberTokenStore, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl RememberTokenStore for PgDirectory {
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        self.write_audit(remember, events).await
    }

    async fn take_remember_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        with_client(&self.pool, async |client| {
            let row = client
                .query_opt(
                    "DELETE FROM remember_tokens WHERE token_hash = $1 \
                     RETURNING user_id, expires_at",
                    &[&hash.0.as_slice()],
                )
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok((row.int(1)? > now.0).then_some(row.int(0)?))
        })
        .await
    }

    async fn revoke_remember_tokens(&self, user_ids: &[i64]) -> StoreResult<u64> {
        with_client_for(&self.pool, user_ids.len(), async |client| {
            let sql = "DELETE FROM remember_tokens WHERE user_id = ANY($1)";
            Ok(client.execute(sql, &[&user_ids]).await?)
        })
        .await
    }

    async fn purge_expired_remember_tokens(&self, now: Timestamp) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM remember_tokens WHERE expires_at <= $1",
            &[&now.0],
        )
        .await
    }
}
