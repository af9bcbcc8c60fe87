//! API tokens: named, stored by hash, their last use noted at most once per interval.

use super::{PgDirectory, all_rows, optional_row, reword_conflict, with_client};
use crate::domain::api_token::ApiToken;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::sql::{API_TOKEN_COLUMNS, TOKEN_USE_WRITE_INTERVAL_MS, api_token_from_row};
use crate::store::{ApiTokenStore, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl ApiTokenStore for PgDirectory {
    async fn create_api_token(
        &self,
        name: &str,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<ApiToken> {
        let sql = format!(
            "INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) \
             RETURNING {API_TOKEN_COLUMNS}"
        );
        with_client(&self.pool, async |client| {
            let row = client
                .query_one(&sql, &[&name, &hash.0.as_slice(), &now.0])
                .await?;
            api_token_from_row(&row)
        })
        .await
        .map_err(reword_conflict(|| {
            "an API token with this name already exists".into()
        }))
    }

    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<ApiToken>> {
        // Notes the use only when the last one is older than the write interval.
        let sql = format!(
            "WITH found AS (SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1), \
             noted AS (UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
                 AND (last_used_at IS NULL OR last_used_at <= $2::BIGINT - $3::BIGINT)) \
             SELECT {API_TOKEN_COLUMNS} FROM found"
        );
        optional_row(
            &self.pool,
            &sql,
            &[&hash.0.as_slice(), &now.0, &TOKEN_USE_WRITE_INTERVAL_MS],
            api_token_from_row,
        )
        .await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        all_rows(&self.pool, &sql, &[], api_token_from_row).await
    }

    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        let sql = format!("DELETE FROM api_tokens WHERE id = $1 RETURNING {API_TOKEN_COLUMNS}");
        optional_row(&self.pool, &sql, &[&id], api_token_from_row).await
    }
}
