//! Remember-me tokens, kept as hashes.

use super::audit::insert_audit;
use super::{SqliteDirectory, run};
use crate::domain::audit::AuditEvent;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::{RememberToken, RememberTokenStore, StoreResult, TakenRememberToken};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

#[async_trait]
impl RememberTokenStore for SqliteDirectory {
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let (remember, events) = (remember.cloned(), events.to_vec());
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(token) = remember {
                tx.prepare_cached(
                    "INSERT INTO remember_tokens \
                     (token_hash, user_id, family_id, session_id, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    token.hash.0.as_slice(),
                    token.user_id,
                    token.family_id,
                    token.session_id,
                    token.expires_at.0
                ])?;
                tx.prepare_cached(
                    "UPDATE remember_tokens SET expires_at = ?2 WHERE family_id = ?1",
                )?
                .execute(params![token.family_id, token.expires_at.0])?;
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
    ) -> StoreResult<Option<TakenRememberToken>> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .query_row(
                    "SELECT user_id, family_id, used_at FROM remember_tokens \
                     WHERE token_hash = ?1 AND expires_at > ?2",
                    params![hash.0.as_slice(), now.0],
                    |row| {
                        Ok(TakenRememberToken {
                            user_id: row.get(0)?,
                            family_id: row.get(1)?,
                            used_at: row.get::<_, Option<i64>>(2)?.map(Timestamp),
                        })
                    },
                )
                .optional()?;
            if found.as_ref().is_some_and(|taken| taken.used_at.is_none()) {
                tx.execute(
                    "UPDATE remember_tokens SET used_at = ?2 WHERE token_hash = ?1",
                    params![hash.0.as_slice(), now.0],
                )?;
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    async fn delete_remember_family(&self, family_id: &str) -> StoreResult<Vec<String>> {
        let family_id = family_id.to_owned();
        run(&self.pool, move |conn| {
            conn.prepare_cached(
                "DELETE FROM remember_tokens WHERE family_id = ?1 RETURNING session_id",
            )?
            .query_map([family_id], |row| row.get::<_, Option<String>>(0))?
            .filter_map(Result::transpose)
            .collect()
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
