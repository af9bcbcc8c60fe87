//! Users: accounts, their state and password, and the failed-login count behind lockout.

use super::{PgDirectory, all_rows, as_params, optional_row, reword_conflict, with_client};
use crate::domain::time::Timestamp;
use crate::domain::user::{NewUser, User, UserState, UserUpdate};
use crate::store::sql::{
    SqlRow, USER_COLUMNS, USER_INSERT_COLUMNS, USER_INSERT_VALUES, new_user_values, placeholders,
    prefix_pattern, user_conflict, user_from_row, user_search_condition,
};
use crate::store::{FailureRecord, LockoutPolicy, StoreError, StoreResult, UserStore};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

/// Inserts one user; a taken username or email is a conflict that says which.
pub(super) async fn insert_user(
    client: &impl GenericClient,
    user: &NewUser,
    now: Timestamp,
) -> StoreResult<User> {
    let row = client
        .query_one(
            &format!(
                "INSERT INTO users ({USER_INSERT_COLUMNS}) VALUES ({}) RETURNING {USER_COLUMNS}",
                placeholders('$', USER_INSERT_VALUES)
            ),
            &as_params(&new_user_values(user, now)),
        )
        .await
        .map_err(StoreError::from)
        .map_err(user_conflict)?;
    user_from_row(&row)
}

impl PgDirectory {
    async fn user_where(
        &self,
        column: &'static str,
        value: &(dyn ToSql + Sync),
    ) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        optional_row(&self.pool, &sql, &[value], user_from_row).await
    }
}

#[async_trait]
impl UserStore for PgDirectory {
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<User> {
        with_client(&self.pool, async |client| {
            insert_user(&client, user, now).await
        })
        .await
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        self.user_where("id", &id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("username", &username).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.user_where("email", &email.to_lowercase()).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        all_rows(&self.pool, &sql, &[], user_from_row).await
    }

    async fn search_users(&self, prefix: &str) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {} ORDER BY id",
            user_search_condition("$1")
        );
        all_rows(&self.pool, &sql, &[&prefix_pattern(prefix)], user_from_row).await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        with_client(&self.pool, async |client| {
            let count: i64 = client
                .query_one("SELECT COUNT(*) FROM users", &[])
                .await?
                .try_get(0)?;
            Ok(count as u64)
        })
        .await
    }

    async fn set_user_state(&self, id: i64, state: UserState) -> StoreResult<()> {
        self.execute(
            "UPDATE users SET state = $2 WHERE id = $1",
            &[&id, &state.as_str()],
        )
        .await
        .map(drop)
    }

    async fn set_password_hash(&self, id: i64, hash: &str, must_change: bool) -> StoreResult<()> {
        self.execute(
            "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
            &[&id, &hash, &must_change],
        )
        .await
        .map(drop)
    }

    async fn update_user(&self, id: i64, update: &UserUpdate) -> StoreResult<Option<User>> {
        let sql = format!(
            "UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), \
             is_admin = COALESCE($4, is_admin) WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let email = update.email.as_ref().map(|e| e.as_str());
        optional_row(
            &self.pool,
            &sql,
            &[&id, &email, &update.name, &update.is_admin],
            user_from_row,
        )
        .await
        .map_err(reword_conflict(|| {
            "another user has this e-mail address".into()
        }))
    }

    async fn delete_user(&self, id: i64, now: Timestamp) -> StoreResult<Option<User>> {
        with_client(&self.pool, async |mut client| {
            let tx = client.transaction().await?;
            let sql = format!("DELETE FROM users WHERE id = $1 RETURNING {USER_COLUMNS}");
            let deleted = match tx.query_opt(&sql, &[&id]).await? {
                Some(row) => Some(user_from_row(&row)?),
                None => None,
            };
            if let Some(user) = &deleted {
                tx.execute(
                    "INSERT INTO deleted_usernames (username, deleted_at) VALUES ($1, $2) \
                     ON CONFLICT (username) DO UPDATE SET deleted_at = excluded.deleted_at",
                    &[&user.username.as_str(), &now.0],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(deleted)
        })
        .await
    }

    async fn username_was_deleted(&self, username: &str) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            Ok(client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM deleted_usernames WHERE username = $1)",
                    &[&username],
                )
                .await?
                .try_get(0)?)
        })
        .await
    }

    async fn record_login_failure(
        &self,
        id: i64,
        policy: LockoutPolicy,
        now: Timestamp,
    ) -> StoreResult<FailureRecord> {
        with_client(&self.pool, async |mut client| {
            let tx = client.transaction().await?;
            let row = tx
                .query_one(
                    "SELECT failed_logins, locked_until FROM users WHERE id = $1 FOR UPDATE",
                    &[&id],
                )
                .await?;
            let failed = u32::try_from(row.int(0)?).unwrap_or(u32::MAX);
            let (record, stored_lock) =
                policy.next_failure(failed, row.opt_int(1)?.map(Timestamp), now);
            tx.execute(
                "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1",
                &[
                    &id,
                    &i64::from(record.failed_logins),
                    &stored_lock.map(|t| t.0),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(record)
        })
        .await
    }

    async fn clear_login_failures(&self, id: i64) -> StoreResult<()> {
        self.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
            &[&id],
        )
        .await
        .map(drop)
    }
}
