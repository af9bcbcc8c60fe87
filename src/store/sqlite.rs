//! The embedded default: both stores in SQLite files (WAL mode, so the CLI and a running
//! server can share one file), each call run on Tokio's blocking pool.

use super::sql::{
    AUDIT_COLUMNS, AUDIT_INSERT_COLUMNS, SESSION_COLUMNS, SqlRow, SqlValue, USER_COLUMNS,
    USER_INSERT_COLUMNS, audit_from_row, audit_values, new_user_values, placeholders,
    session_from_row, session_values, user_conflict, user_from_row,
};
use super::{
    CreateOutcome, Directory, FailureRecord, LockoutPolicy, Page, SessionFilter, SessionLimit,
    SessionStore, StoreError, StoreResult,
};
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{NewUser, User, UserState};
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{
    self, Connection, ErrorCode, OptionalExtension, Row, ToSql, TransactionBehavior, params,
    params_from_iter,
};
use std::time::Duration;

type Pool = r2d2::Pool<SqliteConnectionManager>;

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn open_pool(path: &str, schema: &'static str) -> Result<Pool, String> {
    let manager = SqliteConnectionManager::file(path).with_init(|conn| {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
    });
    let pool = r2d2::Pool::builder()
        .max_size(8)
        .build(manager)
        .map_err(|e| format!("cannot open SQLite database {path:?}: {e}"))?;
    let conn = pool
        .get()
        .map_err(|e| format!("cannot open SQLite database {path:?}: {e}"))?;
    conn.execute_batch(schema)
        .map_err(|e| format!("cannot create the schema in {path:?}: {e}"))?;
    Ok(pool)
}

/// Runs `work` on a pooled connection off the async runtime.
async fn run<T, F>(pool: &Pool, work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        work(&mut conn).map_err(map_error)
    })
    .await
    .map_err(|e| StoreError::Unavailable(e.to_string()))?
}

impl SqlRow for Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        self.get(i)
    }
    fn bytes(&self, i: usize) -> rusqlite::Result<Vec<u8>> {
        self.get(i)
    }
    fn invalid(i: usize, what: String) -> rusqlite::Error {
        rusqlite::Error::InvalidColumnType(i, what, rusqlite::types::Type::Text)
    }
}

impl ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            SqlValue::Int(v) => ValueRef::Integer(v),
            SqlValue::Text(v) => ValueRef::Text(v.as_bytes()),
            SqlValue::Bytes(v) => ValueRef::Blob(v),
            SqlValue::Flag(v) => ValueRef::Integer(v.into()),
            SqlValue::Null => ValueRef::Null,
        }))
    }
}

fn map_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

const SESSIONS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    device_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    remember_me INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, last_active_at);
CREATE INDEX IF NOT EXISTS sessions_by_activity ON sessions (last_active_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
";

pub struct SqliteSessionStore {
    pool: Pool,
}

impl SqliteSessionStore {
    pub fn open(path: &str) -> Result<Self, String> {
        Ok(SqliteSessionStore {
            pool: open_pool(path, SESSIONS_SCHEMA)?,
        })
    }
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let session = session.clone();
        run(&self.pool, move |conn| {
            // IMMEDIATE takes the write lock first, so two logins cannot both pass the limit.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let active: Vec<Session> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1 AND expires_at > ?2 \
                     ORDER BY last_active_at ASC"
                ))?;
                stmt.query_map(params![session.user_id, now.0], |row| session_from_row(row))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let Some(excess) = limit.excess(active.len()) else {
                return Ok(CreateOutcome::LimitReached);
            };
            let mut evicted = Vec::new();
            for old in active.into_iter().take(excess) {
                tx.execute("DELETE FROM sessions WHERE id = ?1", [&old.id])?;
                evicted.push(old);
            }
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({})",
                    placeholders('?', 14)
                ),
                params_from_iter(session_values(&session)),
            )?;
            tx.commit()?;
            Ok(CreateOutcome::Created { evicted })
        })
        .await
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"
            ))?
            .query_row([hash.0.as_slice()], |row| session_from_row(row))
            .optional()
        })
        .await
    }

    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        run(&self.pool, move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET last_active_at = ?2, expires_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, last_active_at.0, expires_at.0])?;
            Ok(())
        })
        .await
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        run(&self.pool, move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1 AND expires_at > ?2 \
                 ORDER BY last_active_at DESC, created_at DESC"
            ))?;
            stmt.query_map(params![user_id, now.0], |row| session_from_row(row))?
                .collect()
        })
        .await
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let id = id.to_owned();
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "DELETE FROM sessions WHERE id = ?1 RETURNING {SESSION_COLUMNS}"
            ))?
            .query_row([id], |row| session_from_row(row))
            .optional()
        })
        .await
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let active: u64 = tx.query_row(
                "SELECT COUNT(*) FROM sessions WHERE user_id = ?1 AND expires_at > ?2",
                params![user_id, now.0],
                |row| row.get(0),
            )?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
            tx.commit()?;
            Ok(active)
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
        let filter = filter.clone();
        run(&self.pool, move |conn| {
            let condition = "expires_at > ?1 AND (?2 IS NULL OR user_id = ?2) \
                             AND (?3 IS NULL OR ip_address = ?3)";
            let total: u64 = conn
                .prepare_cached(&format!("SELECT COUNT(*) FROM sessions WHERE {condition}"))?
                .query_row(params![now.0, filter.user_id, filter.ip_address], |row| {
                    row.get(0)
                })?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE {condition} \
                 ORDER BY last_active_at DESC, id LIMIT ?4 OFFSET ?5"
            ))?;
            let items = stmt
                .query_map(
                    params![now.0, filter.user_id, filter.ip_address, limit, offset],
                    |row| session_from_row(row),
                )?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            Ok(conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])? as u64)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }
}

const DIRECTORY_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    is_owner INTEGER NOT NULL,
    password_hash TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS remember_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS remember_tokens_by_user ON remember_tokens (user_id);
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject_user_id INTEGER,
    subject_username TEXT,
    session_id TEXT,
    ip_address TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    session_count INTEGER
);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit_events (subject_user_id, id);
";

pub struct SqliteDirectory {
    pool: Pool,
}

impl SqliteDirectory {
    pub fn open(path: &str) -> Result<Self, String> {
        Ok(SqliteDirectory {
            pool: open_pool(path, DIRECTORY_SCHEMA)?,
        })
    }

    async fn user_where(&self, column: &'static str, value: String) -> StoreResult<Option<User>> {
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"
            ))?
            .query_row([value], |row| user_from_row(row))
            .optional()
        })
        .await
    }
}

#[async_trait]
impl Directory for SqliteDirectory {
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<User> {
        let user = user.clone();
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!(
                    "INSERT INTO users ({USER_INSERT_COLUMNS}) VALUES ({}) RETURNING {USER_COLUMNS}",
                    placeholders('?', 9)
                ),
                params_from_iter(new_user_values(&user, now)),
                |row| user_from_row(row),
            )
        })
        .await
        .map_err(user_conflict)
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
                .query_row([id], |row| user_from_row(row))
                .optional()
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("username", username.to_owned()).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.user_where("email", email.to_lowercase()).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        run(&self.pool, |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
            stmt.query_map([], |row| user_from_row(row))?.collect()
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

    async fn set_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        let hash = hash.to_owned();
        run(&self.pool, move |conn| {
            conn.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id, hash],
            )?;
            Ok(())
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

    async fn create_remember_token(
        &self,
        hash: &TokenHash,
        user_id: i64,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            conn.execute(
                "INSERT INTO remember_tokens (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![hash.0.as_slice(), user_id, expires_at.0],
            )?;
            Ok(())
        })
        .await
    }

    async fn take_remember_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let hash = *hash;
        run(&self.pool, move |conn| {
            conn.query_row(
                "DELETE FROM remember_tokens WHERE token_hash = ?1 RETURNING user_id, expires_at",
                [hash.0.as_slice()],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|found| found.and_then(|(user, expires)| (expires > now.0).then_some(user)))
        })
        .await
    }

    async fn revoke_remember_tokens(&self, user_id: i64) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            Ok(conn.execute("DELETE FROM remember_tokens WHERE user_id = ?1", [user_id])? as u64)
        })
        .await
    }

    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let event = event.clone();
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
                placeholders('?', 11)
            ))?
            .execute(params_from_iter(audit_values(&event)))?;
            Ok(())
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

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            Ok(conn.execute(
                "DELETE FROM remember_tokens WHERE expires_at <= ?1",
                [now.0],
            )? as u64)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }
}
