//! Alarms: at most one open per user, raised or updated in one statement.

use super::{PgDirectory, optional_row, with_client};
use crate::domain::alarm::Alarm;
use crate::domain::time::Timestamp;
use crate::store::sql::{ALARM_COLUMNS, SqlRow, alarm_from_row};
use crate::store::{AlarmStore, Page, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl AlarmStore for PgDirectory {
    async fn record_ip_spread(
        &self,
        user_id: i64,
        username: &str,
        ip_addresses: &[String],
        now: Timestamp,
    ) -> StoreResult<(Alarm, bool)> {
        // The partial unique index makes "update the open alarm, or open one" one atomic step;
        // `xmax = 0` tells a fresh insert from an update.
        let sql = format!(
            "INSERT INTO alarms (user_id, username, ip_addresses, first_seen_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (user_id) WHERE acknowledged_at IS NULL \
             DO UPDATE SET ip_addresses = EXCLUDED.ip_addresses, last_seen_at = EXCLUDED.last_seen_at \
             RETURNING {ALARM_COLUMNS}, (xmax = 0) AS inserted"
        );
        let addresses = ip_addresses.join(",");
        with_client(&self.pool, async |client| {
            let row = client
                .query_one(&sql, &[&user_id, &username, &addresses, &now.0])
                .await?;
            Ok((alarm_from_row(&row)?, row.flag(8)?))
        })
        .await
    }

    async fn list_alarms(
        &self,
        open_only: bool,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Alarm>> {
        with_client(&self.pool, async |client| {
            let condition = "(NOT $1 OR acknowledged_at IS NULL)";
            let total: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM alarms WHERE {condition}"),
                    &[&open_only],
                )
                .await?
                .try_get(0)?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {ALARM_COLUMNS} FROM alarms WHERE {condition} \
                         ORDER BY id DESC LIMIT $2 OFFSET $3"
                    ),
                    &[&open_only, &i64::from(limit), &(offset as i64)],
                )
                .await?;
            Ok(Page {
                items: rows
                    .iter()
                    .map(alarm_from_row)
                    .collect::<StoreResult<_>>()?,
                total: total as u64,
            })
        })
        .await
    }

    async fn acknowledge_alarm(
        &self,
        id: i64,
        by: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Alarm>> {
        let sql = format!(
            "UPDATE alarms SET acknowledged_at = $2, acknowledged_by = $3 \
             WHERE id = $1 AND acknowledged_at IS NULL RETURNING {ALARM_COLUMNS}"
        );
        optional_row(&self.pool, &sql, &[&id, &now.0, &by], alarm_from_row).await
    }
}
