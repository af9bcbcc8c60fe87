//! The audit trail.

use super::{SqliteDirectory, run};
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::store::sql::{
    AUDIT_COLUMNS, AUDIT_INSERT_COLUMNS, audit_from_row, audit_values, placeholders,
};
use crate::store::{AuditStore, Page, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};

pub(super) fn insert_audit(conn: &Connection, events: &[AuditEvent]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
        placeholders('?', 11)
    ))?;
    for event in events {
        insert.execute(params_from_iter(audit_values(event)))?;
    }
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteDirectory {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        let events = events.to_vec();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_audit(&tx, &events)?;
            tx.commit()
        })
        .await
    }

    async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AuditEvent>> {
        let user_id = filter.user_id;
        let kind = filter.kind.map(AuditKind::as_str);
        run(&self.pool, move |conn| {
            let condition = "(?1 IS NULL OR subject_user_id = ?1) AND (?2 IS NULL OR kind = ?2)";
            let total: u64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM audit_events WHERE {condition}"),
                params![user_id, kind],
                |row| row.get(0),
            )?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events \
                 WHERE {condition} ORDER BY id DESC LIMIT ?3 OFFSET ?4"
            ))?;
            let items = stmt
                .query_map(params![user_id, kind, limit, offset], |row| {
                    audit_from_row(row)
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Page { items, total })
        })
        .await
    }
}
