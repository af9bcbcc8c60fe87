//! IP-spread alarms.

use super::{SqliteDirectory, run};
use crate::domain::alarm::Alarm;
use crate::domain::time::Timestamp;
use crate::store::sql::{ALARM_COLUMNS, alarm_from_row};
use crate::store::{AlarmStore, Page, StoreResult};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

#[async_trait]
impl AlarmStore for SqliteDirectory {
    async fn record_ip_spread(
        &self,
        user_id: i64,
        username: &str,
        ip_addresses: &[String],
        now: Timestamp,
    ) -> StoreResult<(Alarm, bool)> {
        let username = username.to_owned();
        let addresses = ip_addresses.join(",");
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let updated = tx
                .query_row(
                    &format!(
                        "UPDATE alarms SET ip_addresses = ?2, last_seen_at = ?3 \
                         WHERE user_id = ?1 AND acknowledged_at IS NULL RETURNING {ALARM_COLUMNS}"
                    ),
                    params![user_id, addresses, now.0],
                    |row| alarm_from_row(row),
                )
                .optional()?;
            let result = match updated {
                Some(alarm) => (alarm, false),
                None => {
                    let alarm = tx.query_row(
                        &format!(
                            "INSERT INTO alarms (user_id, username, ip_addresses, first_seen_at, \
                             last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4) RETURNING {ALARM_COLUMNS}"
                        ),
                        params![user_id, username, addresses, now.0],
                        |row| alarm_from_row(row),
                    )?;
                    (alarm, true)
                }
            };
            tx.commit()?;
            Ok(result)
        })
        .await
    }

    async fn list_alarms(
        &self,
        open_only: bool,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Alarm>> {
        run(&self.pool, move |conn| {
            let condition = "(?1 = 0 OR acknowledged_at IS NULL)";
            let total: u64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM alarms WHERE {condition}"),
                [open_only],
                |row| row.get(0),
            )?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ALARM_COLUMNS} FROM alarms WHERE {condition} \
                 ORDER BY id DESC LIMIT ?2 OFFSET ?3"
            ))?;
            let items = stmt
                .query_map(params![open_only, limit, offset], |row| alarm_from_row(row))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn acknowledge_alarm(
        &self,
        id: i64,
        by: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Alarm>> {
        let by = by.to_owned();
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE alarms SET acknowledged_at = ?2, acknowledged_by = ?3 \
                     WHERE id = ?1 AND acknowledged_at IS NULL RETURNING {ALARM_COLUMNS}"
                ),
                params![id, now.0, by],
                |row| alarm_from_row(row),
            )
            .optional()
        })
        .await
    }
}
