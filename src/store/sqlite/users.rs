//! Users: accounts, passwords and the lockout after failed logins.

use super::{SqliteDirectory, on_conflict, run};
use crate::domain::time::Timestamp;
use crate::domain::user::{NewUser, User, UserState, UserUpdate};
use crate::store::sql::{
    USER_COLUMNS, USER_INSERT_COLUMNS, USER_INSERT_VALUES, new_user_values, placeholders,
    prefix_pattern, user_from_row, user_search_condition,
};
use crate::store::{FailureRecord, LockoutPolicy, StoreResult, UserStore};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

pub(super) fn insert_user(
    conn: &Connection,
    user: &NewUser,
    now: Timestamp,
) -> rusqlite::Result<User> {
    conn.query_row(
        &format!(
            "INSERT INTO users ({USER_INSERT_COLUMNS}) VALUES ({}) RETURNING {USER_COLUMNS}",
            placeholders('?', USER_INSERT_VALUES)
        ),
        params_from_iter(new_user_values(user, now)),
        |row| user_from_row(row),
    )
    .map_err(on_conflict(|| {
        "a user with this username or e-mail already exists".into()
    }))
}

impl SqliteDirectory {
    /// The user whose `column`, a unique key, equals `value`: a point lookup, so run on the
    /// calling thread (see [`Readers::lookup`]).
    async fn user_where(
        &self,
        column: &'static str,
        value: rusqlite::types::Value,
    ) -> StoreResult<Option<User>> {
        self.readers
            .lookup(&self.pool, move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"
                ))?
                .query_row([&value], |row| user_from_row(row))
                .optional()
            })
            .await
    }
}

#[async_trait]
impl UserStore for SqliteDirectory {
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<User> {
        let user = user.clone();
        run(&self.pool, move |conn| insert_user(conn, &user, now)).await
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        self.user_where("id", id.into()).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("username", username.to_owned().into())
            .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.user_where("email", email.to_lowercase().into()).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        run(&self.pool, |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
            stmt.query_map([], |row| user_from_row(row))?.collect()
        })
        .await
    }

    async fn search_users(&self, prefix: &str) -> StoreResult<Vec<User>> {
        let pattern = prefix_pattern(prefix);
        run(&self.pool, move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE {} ORDER BY id",
                user_search_condition("?1")
            ))?;
            stmt.query_map([pattern], |row| user_from_row(row))?
                .collect()
        })
        .await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
        })
        .await
    }

    async fn set_user_state(&self, id: i64, state: UserState) -> StoreResult<()> {
        run(&self.pool, move |conn| {
            conn.execute(
                "UPDATE users SET state = ?2 WHERE id = ?1",
                params![id, state.as_str()],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_password_hash(&self, id: i64, hash: &str, must_change: bool) -> StoreResult<()> {
        let hash = hash.to_owned();
        run(&self.pool, move |conn| {
            conn.execute(
                "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
                params![id, hash, must_change],
            )?;
            Ok(())
        })
        .await
    }

    async fn update_user(&self, id: i64, update: &UserUpdate) -> StoreResult<Option<User>> {
        let email = update.email.as_ref().map(|e| e.as_str().to_owned());
        let (name, is_admin) = (update.name.clone(), update.is_admin);
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE users SET email = COALESCE(?2, email), name = COALESCE(?3, name), \
                     is_admin = COALESCE(?4, is_admin) WHERE id = ?1 RETURNING {USER_COLUMNS}"
                ),
                params![id, email, name, is_admin],
                |row| user_from_row(row),
            )
            .optional()
            .map_err(on_conflict(|| {
                "another user has this e-mail address".into()
            }))
        })
        .await
    }

    async fn delete_user(&self, id: i64, now: Timestamp) -> StoreResult<Option<User>> {
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let deleted = tx
                .query_row(
                    &format!("DELETE FROM users WHERE id = ?1 RETURNING {USER_COLUMNS}"),
                    [id],
                    |row| user_from_row(row),
                )
                .optional()?;
            if let Some(user) = &deleted {
                tx.execute(
                    "INSERT INTO deleted_usernames (username, deleted_at) VALUES (?1, ?2) \
                     ON CONFLICT (username) DO UPDATE SET deleted_at = excluded.deleted_at",
                    params![user.username.as_str(), now.0],
                )?;
            }
            tx.commit()?;
            Ok(deleted)
        })
        .await
    }

    async fn username_was_deleted(&self, username: &str) -> StoreResult<bool> {
        let username = username.to_owned();
        run(&self.pool, move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM deleted_usernames WHERE username = ?1)",
                [username],
                |row| row.get(0),
            )
        })
        .await
    }

    async fn record_login_failure(
        &self,
        id: i64,
        policy: LockoutPolicy,
        now: Timestamp,
    ) -> StoreResult<FailureRecord> {
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (failed, locked_until): (u32, Option<i64>) = tx.query_row(
                "SELECT failed_logins, locked_until FROM users WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let (record, stored_lock) =
                policy.next_failure(failed, locked_until.map(Timestamp), now);
            tx.execute(
                "UPDATE users SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
                params![id, record.failed_logins, stored_lock.map(|t| t.0)],
            )?;
            tx.commit()?;
            Ok(record)
        })
        .await
    }

    async fn clear_login_failures(&self, id: i64) -> StoreResult<()> {
        run(&self.pool, move |conn| {
            conn.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })
        .await
    }
}
