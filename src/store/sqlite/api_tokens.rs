//! Admin API tokens, kept as hashes.

use super::{SqliteDirectory, run};
use crate::domain::api_token::ApiToken;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::sql::{API_TOKEN_COLUMNS, TOKEN_USE_WRITE_INTERVAL_MS, api_token_from_row};
use crate::store::{ApiTokenStore, StoreError, StoreResult};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl ApiTokenStore for SqliteDirectory {
    async fn create_api_token(
        &self,
        name: &str,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<ApiToken> {
        let (name, hash) = (name.to_owned(), *hash);
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!(
                    "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?1, ?2, ?3) \
                     RETURNING {API_TOKEN_COLUMNS}"
                ),
                params![name, hash.0.as_slice(), now.0],
                |row| api_token_from_row(row),
            )
        })
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => {
                StoreError::Conflict("an API token with this name already exists".into())
            }
            other => other,
        })
    }

    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<ApiToken>> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            let token = conn
                .prepare_cached(&format!(
                    "SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"
                ))?
                .query_row([hash.0.as_slice()], |row| api_token_from_row(row))
                .optional()?;
            if let Some(token) = &token {
                let stale = token
                    .last_used_at
                    .is_none_or(|t| now.0 - t.0 >= TOKEN_USE_WRITE_INTERVAL_MS);
                if stale {
                    conn.execute(
                        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                        params![token.id, now.0],
                    )?;
                }
            }
            Ok(token)
        })
        .await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        run(&self.pool, |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {API_TOKEN_COLUMNS} FROM api_tokens ORDER BY id"
            ))?;
            stmt.query_map([], |row| api_token_from_row(row))?.collect()
        })
        .await
    }

    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!("DELETE FROM api_tokens WHERE id = ?1 RETURNING {API_TOKEN_COLUMNS}"),
                [id],
                |row| api_token_from_row(row),
            )
            .optional()
        })
        .await
    }
}
