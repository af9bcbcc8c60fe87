//! Sessions on PostgreSQL: each user's limit enforced in one transaction under a per-user
//! advisory lock.

use super::{all_rows, as_params, open_pool, optional_row, ping, with_client, with_client_for};
use crate::domain::address_filter::AddressFilter;
use crate::domain::pending::PendingSignIn;
use crate::domain::revocation_job::RevocationJob;
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::migrations::POSTGRES_SESSIONS;
use crate::store::sql::{SESSION_COLUMNS, SqlRow, placeholders, session_from_row, session_values};
use crate::store::{
    CreateOutcome, EndedSession, Page, SessionFilter, SessionLimit, SessionStore, StoreResult,
    UserActivity,
};
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool};
use std::collections::BTreeMap;
use tokio_postgres::Row;

fn sessions_from(rows: Vec<Row>) -> StoreResult<Vec<Session>> {
    rows.iter().map(session_from_row).collect()
}

pub struct PgSessionStore {
    pool: Pool,
}

impl PgSessionStore {
    pub async fn open(url: &str) -> Result<Self, String> {
        Ok(PgSessionStore {
            pool: open_pool(url, "sessions", POSTGRES_SESSIONS).await?,
        })
    }
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        with_client(&self.pool, async |mut client| {
            let tx = client.transaction().await?;
            // Serialises one user's logins so two cannot both pass the limit.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&session.user_id])
                .await?;
            let mut active = sessions_from(
                tx.query(
                    &format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 \
                         AND expires_at > $2 ORDER BY last_active_at ASC"
                    ),
                    &[&session.user_id, &now.0],
                )
                .await?,
            )?;
            let Some(excess) = limit.excess(active.len()) else {
                return Ok(CreateOutcome::LimitReached);
            };
            let evicted_ids: Vec<&str> =
                active.iter().take(excess).map(|s| s.id.as_str()).collect();
            tx.execute("DELETE FROM sessions WHERE id = ANY($1)", &[&evicted_ids])
                .await?;
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({})",
                    placeholders('$', 15)
                ),
                &as_params(&session_values(session)),
            )
            .await?;
            tx.commit().await?;
            let kept = active.split_off(excess);
            Ok(CreateOutcome::created(
                active,
                kept.iter()
                    .flat_map(|s| s.addresses().map(str::to_owned))
                    .collect::<Vec<_>>(),
                session,
            ))
        })
        .await
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        optional_row(&self.pool, &sql, &[&hash.0.as_slice()], session_from_row).await
    }

    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        with_client(&self.pool, async |client| {
            client
                .execute(
                    "UPDATE sessions SET last_active_at = $2, expires_at = $3 WHERE id = $1",
                    &[&id, &last_active_at.0, &expires_at.0],
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()> {
        with_client(&self.pool, async |client| {
            client
                .execute(
                    "UPDATE sessions SET last_ip_address = $2 WHERE id = $1",
                    &[&id, &ip_address],
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>> {
        with_client_for(&self.pool, user_ids.len(), async |client| {
            activity_of(&client, user_ids, now).await
        })
        .await
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        with_client_for(&self.pool, user_ids.len(), async |mut client| {
            // One transaction: the counts are exactly what the delete removed.
            let tx = client.transaction().await?;
            let counts = activity_of(&tx, user_ids, now).await?;
            tx.execute("DELETE FROM sessions WHERE user_id = ANY($1)", &[&user_ids])
                .await?;
            tx.commit().await?;
            Ok(UserActivity::counts(counts))
        })
        .await
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY last_active_at DESC, created_at DESC"
        );
        all_rows(&self.pool, &sql, &[&user_id, &now.0], session_from_row).await
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let sql = format!("DELETE FROM sessions WHERE id = $1 RETURNING {SESSION_COLUMNS}");
        optional_row(&self.pool, &sql, &[&id], session_from_row).await
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        with_client(&self.pool, async |client| {
            let row = client
                .query_one(
                    "WITH gone AS (DELETE FROM sessions WHERE user_id = $1 RETURNING expires_at) \
                     SELECT COUNT(*) FILTER (WHERE expires_at > $2) FROM gone",
                    &[&user_id, &now.0],
                )
                .await?;
            Ok(row.try_get::<_, i64>(0)? as u64)
        })
        .await
    }

    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        let users = &filter.users;
        let Some(address) = &filter.address else {
            return with_client(&self.pool, async |client| {
                let condition = "expires_at > $1 AND ($2::BIGINT[] IS NULL OR user_id = ANY($2))";
                let (limit, offset) = (i64::from(limit), offset as i64);
                let total: i64 = client
                    .query_one(
                        &format!("SELECT COUNT(*) FROM sessions WHERE {condition}"),
                        &[&now.0, users],
                    )
                    .await?
                    .try_get(0)?;
                let rows = client
                    .query(
                        &format!(
                            "SELECT {SESSION_COLUMNS} FROM sessions WHERE {condition} \
                             ORDER BY last_active_at DESC, id LIMIT $3 OFFSET $4"
                        ),
                        &[&now.0, users, &limit, &offset],
                    )
                    .await?;
                Ok(Page {
                    items: sessions_from(rows)?,
                    total: total as u64,
                })
            })
            .await;
        };
        // The sessions at an address that begins with the filter's text, by either index; the
        // filter judges each (a network's), and the page is cut here.
        let at = match address {
            AddressFilter::Exact(_) => "(ip_address = $3 OR last_ip_address = $3)",
            _ => "(starts_with(ip_address, $3) OR starts_with(last_ip_address, $3))",
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE expires_at > $1 \
             AND ($2::BIGINT[] IS NULL OR user_id = ANY($2)) AND {at}"
        );
        let prefix = address.text_prefix();
        let mut found = all_rows(
            &self.pool,
            &sql,
            &[&now.0, users, &prefix],
            session_from_row,
        )
        .await?;
        found.retain(|session| filter.admits(session));
        Ok(Page::of_listing(found, limit, offset))
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        let purged = with_client(&self.pool, async |client| {
            client
                .execute("DELETE FROM ended_sessions WHERE until <= $1", &[&now.0])
                .await?;
            Ok(client
                .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now.0])
                .await?)
        })
        .await?;
        super::pending::purge(&self.pool, now).await?;
        super::revocation_jobs::purge(&self.pool, now).await?;
        Ok(purged)
    }

    async fn put_pending_sign_in(
        &self,
        hash: &TokenHash,
        pending: &PendingSignIn,
    ) -> StoreResult<()> {
        super::pending::put(&self.pool, hash, pending).await
    }

    async fn pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        super::pending::find(&self.pool, hash, now, false).await
    }

    async fn take_pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        super::pending::find(&self.pool, hash, now, true).await
    }

    async fn put_revocation_job(&self, id: &str, job: &RevocationJob) -> StoreResult<()> {
        super::revocation_jobs::put(&self.pool, id, job).await
    }

    async fn revocation_job(&self, id: &str, now: Timestamp) -> StoreResult<Option<RevocationJob>> {
        super::revocation_jobs::find(&self.pool, id, now).await
    }

    async fn record_ended(&self, ended: &[EndedSession]) -> StoreResult<()> {
        let hashes: Vec<&[u8]> = ended.iter().map(|e| &e.token_hash.0[..]).collect();
        let reasons: Vec<&str> = ended.iter().map(|e| e.reason.as_str()).collect();
        let until: Vec<i64> = ended.iter().map(|e| e.until.0).collect();
        with_client_for(&self.pool, ended.len(), async |client| {
            // DISTINCT ON: one row per session, the last given, as an upsert takes only one.
            client
                .execute(
                    "INSERT INTO ended_sessions (token_hash, reason, until) \
                     SELECT DISTINCT ON (h) h, r, u \
                     FROM unnest($1::bytea[], $2::text[], $3::bigint[]) WITH ORDINALITY AS e (h, r, u, n) \
                     ORDER BY h, n DESC \
                     ON CONFLICT (token_hash) DO UPDATE SET reason = excluded.reason, until = excluded.until",
                    &[&hashes, &reasons, &until],
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn ended_reason(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<EndReason>> {
        let reason = optional_row(
            &self.pool,
            "SELECT reason FROM ended_sessions WHERE token_hash = $1 AND until > $2",
            &[&&hash.0[..], &now.0],
            |row| row.text(0),
        )
        .await?;
        Ok(reason.as_deref().and_then(EndReason::parse))
    }

    async fn ping(&self) -> StoreResult<()> {
        ping(&self.pool).await
    }
}

/// Unexpired sessions per user, for the users that have any.
async fn activity_of(
    client: &impl GenericClient,
    user_ids: &[i64],
    now: Timestamp,
) -> StoreResult<BTreeMap<i64, UserActivity>> {
    let rows = client
        .query(
            "SELECT user_id, COUNT(*), MAX(last_active_at) FROM sessions \
             WHERE user_id = ANY($1) AND expires_at > $2 GROUP BY user_id",
            &[&user_ids, &now.0],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let found = UserActivity {
                sessions: row.int(1)? as u64,
                last_active_at: Timestamp(row.int(2)?),
            };
            Ok((row.int(0)?, found))
        })
        .collect()
}
