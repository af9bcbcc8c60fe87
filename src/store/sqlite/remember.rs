//! Remember-me tokens, kept as hashes.

use super::audit::insert_audit;
use super::{SqliteDirectory, run};
use crate::domain::audit::AuditEvent;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::{RememberToken, RememberTokenStore, StoreResult};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

#[async_trait]
impl RememberTokenStore for SqliteDirectory {
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let (remember, events) = (remember.copied(), events.to_vec());
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(token) = remember {
                tx.prepare_cached(
                    "INSERT INTO remember_tokens (token_hash, user_id, expires_at) \
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    token.hash.0.as_slice(),
                    token.user_id,
                    token.expires_at.0
                ])?;
            }
            insert_audit(&tx, &events)?;
            tx.commit()
        })
        .await
    }

    async fn take_remember_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            conn.query_row(
                "DELETE FROM remember_tokens WHERE token_hash = ?1 RETURNING user_id, expires_at",
                [hash.0.as_slice()],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|found| found.and_then(|(user, expires)| (expires > now.0).then_some(user)))
        })
        .await
    }

    async fn revoke_remember_tokens(&self, user_ids: &[i64]) -> StoreResult<u64> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut revoked = 0;
            {
                let mut delete =
                    tx.prepare_cached("DELETE FROM remember_tokens WHERE user_id = ?1")?;
                for user_id in &user_ids {
                    revoked += delete.execute([user_id])? as u64;
                }
            }
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    async fn purge_expired_remember_tokens(&self, now: Timestamp) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            Ok(conn.execute(
                "DELETE FROM remember_tokens WHERE expires_at <= ?1",
                [now.0],
            )? as u64)
        })
        .await
    }
}
