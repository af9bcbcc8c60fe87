//! Remember-me tokens: stored with the login's audit events, marked used when taken, and
//! deleted by family, by user or on expiry.

use super::{PgDirectory, with_client, with_client_for};
use crate::domain::audit::AuditEvent;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::sql::SqlRow;
use crate::store::{RememberToken, RememberTokenStore, StoreResult, TakenRememberToken};
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
    ) -> StoreResult<Option<TakenRememberToken>> {
        with_client(&self.pool, async |client| {
            // The row lock makes a concurrent taker wait and then read it marked: of two
            // presentations of one token, the second is a reuse.
            let row = client
                .query_opt(
                    "WITH found AS (SELECT user_id, family_id, used_at FROM remember_tokens \
                     WHERE token_hash = $1 AND expires_at > $2 FOR UPDATE), \
                     marked AS (UPDATE remember_tokens SET used_at = $2 FROM found \
                     WHERE token_hash = $1 AND found.used_at IS NULL) \
                     SELECT user_id, family_id, used_at FROM found",
                    &[&hash.0.as_slice(), &now.0],
                )
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(TakenRememberToken {
                user_id: row.int(0)?,
                family_id: row.text(1)?,
                used_at: row.opt_int(2)?.map(Timestamp),
            }))
        })
        .await
    }

    async fn delete_remember_family(&self, family_id: &str) -> StoreResult<Vec<String>> {
        with_client(&self.pool, async |client| {
            let rows = client
                .query(
                    "DELETE FROM remember_tokens WHERE family_id = $1 RETURNING session_id",
                    &[&family_id],
                )
                .await?;
            let sessions = rows.iter().map(|row| row.opt_text(0));
            Ok(sessions
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect())
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
