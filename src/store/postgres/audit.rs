//! The audit log: events appended in one statement, whatever their number, and listed
//! newest first.

use super::{PgDirectory, with_client, with_client_for};
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::store::sql::{AUDIT_COLUMNS, AUDIT_INSERT_COLUMNS, audit_from_row};
use crate::store::{AuditStore, Page, RememberToken, StoreResult};
use async_trait::async_trait;
use std::sync::LazyLock;
use tokio_postgres::types::ToSql;

/// [`PgDirectory::write_audit`]'s one statement, so one round trip and an implicit
/// transaction: the remember-me token ($12–$16, skipped when NULL) and its family's new
/// expiry in data-modifying WITHs, and any number of events, their order kept, from arrays
/// ($1–$11): a group revocation's thousands cost one insert, not one each.
static WRITE_AUDIT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH token AS (INSERT INTO remember_tokens \
         (token_hash, user_id, family_id, session_id, expires_at) \
         SELECT $12::BYTEA, $13::BIGINT, $15::TEXT, $16::TEXT, $14::BIGINT \
         WHERE $12::BYTEA IS NOT NULL), \
         family AS (UPDATE remember_tokens SET expires_at = $14::BIGINT \
         WHERE family_id = $15::TEXT) \
         INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) \
         SELECT {AUDIT_INSERT_COLUMNS} FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], \
         $4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], \
         $10::TEXT[], $11::BIGINT[]) WITH ORDINALITY AS e({AUDIT_INSERT_COLUMNS}, position) \
         ORDER BY position"
    )
});

impl PgDirectory {
    /// Appends audit events, and stores a remember-me token if given, all or nothing.
    pub(super) async fn write_audit(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let texts = |field: fn(&AuditEvent) -> Option<&str>| -> Vec<Option<&str>> {
            events.iter().map(field).collect()
        };
        let at: Vec<i64> = events.iter().map(|e| e.at.0).collect();
        let kind = texts(|e| Some(e.kind.as_str()));
        let actor = texts(|e| Some(&e.actor));
        let subject: Vec<Option<i64>> = events.iter().map(|e| e.subject_user_id).collect();
        let username = texts(|e| e.subject_username.as_deref());
        let session = texts(|e| e.session_id.as_deref());
        let ip = texts(|e| e.ip_address.as_deref());
        let agent = texts(|e| e.user_agent.as_deref());
        let outcome = texts(|e| Some(e.outcome.as_str()));
        let reason = texts(|e| e.reason.as_deref());
        let count: Vec<Option<i64>> = events
            .iter()
            .map(|e| e.session_count.map(|n| n as i64))
            .collect();
        let token_hash = remember.map(|t| t.hash.0.as_slice());
        let token_user = remember.map(|t| t.user_id);
        let token_expiry = remember.map(|t| t.expires_at.0);
        let token_family = remember.map(|t| t.family_id.as_str());
        let token_session = remember.map(|t| t.session_id.as_str());
        with_client_for(&self.pool, events.len(), async |client| {
            let statement = client.prepare_cached(&WRITE_AUDIT).await?;
            let params: [&(dyn ToSql + Sync); 16] = [
                &at,
                &kind,
                &actor,
                &subject,
                &username,
                &session,
                &ip,
                &agent,
                &outcome,
                &reason,
                &count,
                &token_hash,
                &token_user,
                &token_expiry,
                &token_family,
                &token_session,
            ];
            client.execute(&statement, &params).await?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl AuditStore for PgDirectory {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        self.write_audit(None, events).await
    }

    async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AuditEvent>> {
        let kind = filter.kind.map(AuditKind::as_str);
        with_client(&self.pool, async |client| {
            let condition =
                "($1::BIGINT IS NULL OR subject_user_id = $1) AND ($2::TEXT IS NULL OR kind = $2)";
            let total: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM audit_events WHERE {condition}"),
                    &[&filter.user_id, &kind],
                )
                .await?
                .try_get(0)?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE {condition} \
                         ORDER BY id DESC LIMIT $3 OFFSET $4"
                    ),
                    &[&filter.user_id, &kind, &i64::from(limit), &(offset as i64)],
                )
                .await?;
            Ok(Page {
                items: rows
                    .iter()
                    .map(audit_from_row)
                    .collect::<StoreResult<_>>()?,
                total: total as u64,
            })
        })
        .await
    }
}
