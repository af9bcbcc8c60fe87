//! The embedded default: both stores in SQLite files (WAL mode, so the CLI and a running
//! server can share one file), each call run on Tokio's blocking pool.

use super::{
    CreateOutcome, Directory, DirectoryImport, FailureRecord, LockoutPolicy, Page, SessionFilter,
    SessionLimit, SessionStore, StoreError, StoreResult,
};
use crate::domain::alarm::Alarm;
use crate::domain::api_token::ApiToken;
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind, Outcome};
use crate::domain::group::{Group, GroupGraph, GroupPath, GroupShare, NewGroup};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{Email, NewUser, User, UserKind, UserState, Username};
use crate::domain::user_agent::DeviceType;
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{
    self, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params,
    params_from_iter,
};
use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};
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

/// Idle read-only connections kept per store; more open while more lookups run at once.
const MAX_IDLE_READERS: usize = 8;

/// Read-only connections for point lookups by key, run on the calling async thread (see
/// [`Readers::lookup`]).
struct Readers {
    path: String,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn new(path: &str) -> Readers {
        Readers {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs a point lookup right here instead of on the blocking pool: in WAL mode a read
    /// never waits for a writer and takes microseconds, less than the hop to the pool and
    /// back costs. Every call still reads the database (a revocation by another process shows
    /// at once). When SQLite is busy (e.g. recovering a log) the lookup goes to the pool,
    /// where waiting is allowed.
    async fn lookup<T, F>(&self, pool: &Pool, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        match self.try_here(&work) {
            Some(result) => result.map_err(map_error),
            None => run(pool, move |conn| work(conn)).await,
        }
    }

    /// The lookup's result, or `None` when it must wait and so belongs on the pool.
    fn try_here<T>(
        &self,
        work: &impl Fn(&Connection) -> rusqlite::Result<T>,
    ) -> Option<rusqlite::Result<T>> {
        let idle = self.idle.lock().ok()?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().ok()?,
        };
        let result = work(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        let busy = result
            .as_ref()
            .err()
            .and_then(rusqlite::Error::sqlite_error_code);
        match busy {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => None,
            _ => Some(result),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never sleep on the async thread: a busy database sends the lookup to the pool.
        conn.busy_timeout(Duration::ZERO)?;
        Ok(conn)
    }
}

fn map_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

/// A broken rule found in Rust rather than by SQLite, so it maps to `StoreError::Conflict`.
fn conflict(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
        Some(message),
    )
}

/// Replaces a constraint violation's SQLite wording with one a person can act on.
fn on_conflict(
    message: impl FnOnce() -> String,
) -> impl FnOnce(rusqlite::Error) -> rusqlite::Error {
    move |error| match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => conflict(message()),
        _ => error,
    }
}

/// Ids per `IN (...)` list, well under SQLite's bound-parameter limit.
const ID_CHUNK: usize = 500;

/// `?, ?, ?` for `n` parameters.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
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
-- The admin listing's order, with expiry, so paging walks this index alone (see `scan`).
DROP INDEX IF EXISTS sessions_by_activity;
CREATE INDEX IF NOT EXISTS sessions_by_recency ON sessions (last_active_at DESC, id, expires_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
";

const SESSION_COLUMNS: &str = "id, token_hash, user_id, username, ip_address, user_agent, browser, os, \
     device_type, created_at, last_active_at, expires_at, absolute_expires_at, remember_me";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<Session> {
    let hash: Vec<u8> = row.get(1)?;
    let token_hash = TokenHash(hash.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(1, "token_hash".into(), rusqlite::types::Type::Blob)
    })?);
    Ok(Session {
        id: row.get(0)?,
        token_hash,
        user_id: row.get(2)?,
        username: row.get(3)?,
        ip_address: row.get(4)?,
        user_agent: row.get(5)?,
        browser: row.get(6)?,
        os: row.get(7)?,
        device_type: DeviceType::parse(&row.get::<_, String>(8)?),
        created_at: Timestamp(row.get(9)?),
        last_active_at: Timestamp(row.get(10)?),
        expires_at: Timestamp(row.get(11)?),
        absolute_expires_at: Timestamp(row.get(12)?),
        remember_me: row.get(13)?,
    })
}

pub struct SqliteSessionStore {
    pool: Pool,
    readers: Readers,
}

impl SqliteSessionStore {
    pub fn open(path: &str) -> Result<Self, String> {
        Ok(SqliteSessionStore {
            pool: open_pool(path, SESSIONS_SCHEMA)?,
            readers: Readers::new(path),
        })
    }
}

/// The session check's query, built once rather than on every request.
static SESSION_BY_TOKEN: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"));

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
                stmt.query_map(params![session.user_id, now.0], session_from_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            let max = limit.max_per_user as usize;
            let mut evicted = Vec::new();
            if active.len() >= max {
                if !limit.evict_oldest {
                    return Ok(CreateOutcome::LimitReached);
                }
                let excess = active.len() + 1 - max.max(1);
                for old in active.into_iter().take(excess) {
                    tx.execute("DELETE FROM sessions WHERE id = ?1", [&old.id])?;
                    evicted.push(old);
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    session.id,
                    session.token_hash.0.as_slice(),
                    session.user_id,
                    session.username,
                    session.ip_address,
                    session.user_agent,
                    session.browser,
                    session.os,
                    session.device_type.as_str(),
                    session.created_at.0,
                    session.last_active_at.0,
                    session.expires_at.0,
                    session.absolute_expires_at.0,
                    session.remember_me,
                ],
            )?;
            tx.commit()?;
            Ok(CreateOutcome::Created { evicted })
        })
        .await
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = *hash;
        self.readers
            .lookup(&self.pool, move |conn| {
                conn.prepare_cached(&SESSION_BY_TOKEN)?
                    .query_row([hash.0.as_slice()], session_from_row)
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

    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()> {
        let (id, ip_address) = (id.to_owned(), ip_address.to_owned());
        run(&self.pool, move |conn| {
            conn.prepare_cached("UPDATE sessions SET ip_address = ?2 WHERE id = ?1")?
                .execute(params![id, ip_address])?;
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
            stmt.query_map(params![user_id, now.0], session_from_row)?
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
            .query_row([id], session_from_row)
            .optional()
        })
        .await
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let counts = self.delete_by_users(&[user_id], now).await?;
        Ok(counts.get(&user_id).copied().unwrap_or(0))
    }

    async fn count_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| count_sessions(conn, &user_ids, now)).await
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| {
            // One write transaction: the counts are exactly what the deletes removed.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let counts = count_sessions(&tx, &user_ids, now)?;
            for chunk in user_ids.chunks(ID_CHUNK) {
                tx.execute(
                    &format!(
                        "DELETE FROM sessions WHERE user_id IN ({})",
                        placeholders(chunk.len())
                    ),
                    params_from_iter(chunk),
                )?;
            }
            tx.commit()?;
            Ok(counts)
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
            // One statement per filter, so each gets its index: `?n IS NULL OR ...` would
            // hide them from the planner. Unfiltered, the planner would pick the expiry index
            // and sort every session; the recency index is in page order and covers the
            // expiry test, so an offset skips index entries without reading rows.
            let select = match (&filter.user_id, &filter.ip_address) {
                (None, None) => {
                    "FROM sessions INDEXED BY sessions_by_recency WHERE expires_at > ?1"
                }
                (Some(_), None) => "FROM sessions WHERE expires_at > ?1 AND user_id = ?2",
                (None, Some(_)) => "FROM sessions WHERE expires_at > ?1 AND ip_address = ?2",
                (Some(_), Some(_)) => {
                    "FROM sessions WHERE expires_at > ?1 AND user_id = ?2 AND ip_address = ?3"
                }
            };
            let mut values: Vec<rusqlite::types::Value> = vec![now.0.into()];
            values.extend(filter.user_id.map(Into::into));
            values.extend(filter.ip_address.clone().map(Into::into));
            let total: u64 = if values.len() == 1 {
                // A whole-table COUNT(*) only walks b-tree pages, far cheaper than testing
                // every row's expiry; the few expired rows (purged every minute) are counted
                // on the expiry index.
                conn.prepare_cached(
                    "SELECT (SELECT COUNT(*) FROM sessions) \
                     - (SELECT COUNT(*) FROM sessions WHERE expires_at <= ?1)",
                )?
                .query_row([now.0], |row| row.get(0))?
            } else {
                conn.prepare_cached(&format!("SELECT COUNT(*) {select}"))?
                    .query_row(params_from_iter(&values), |row| row.get(0))?
            };
            let paging = values.len();
            values.extend([i64::from(limit).into(), (offset as i64).into()]);
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} {select} ORDER BY last_active_at DESC, id \
                 LIMIT ?{} OFFSET ?{}",
                paging + 1,
                paging + 2
            ))?;
            let items = stmt
                .query_map(params_from_iter(&values), session_from_row)?
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

/// Unexpired sessions per user among `user_ids`; users with none are left out.
fn count_sessions(
    conn: &Connection,
    user_ids: &[i64],
    now: Timestamp,
) -> rusqlite::Result<BTreeMap<i64, u64>> {
    let mut counts = BTreeMap::new();
    for chunk in user_ids.chunks(ID_CHUNK) {
        let mut stmt = conn.prepare(&format!(
            "SELECT user_id, COUNT(*) FROM sessions WHERE expires_at > ? AND user_id IN ({}) \
             GROUP BY user_id",
            placeholders(chunk.len())
        ))?;
        let values = std::iter::once(now.0).chain(chunk.iter().copied());
        let rows = stmt.query_map(params_from_iter(values), |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, u64>(1)?))
        })?;
        for row in rows {
            let (user_id, count) = row?;
            counts.insert(user_id, count);
        }
    }
    Ok(counts)
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
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER REFERENCES groups (id),
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE IF NOT EXISTS group_shares (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    shared_with_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, shared_with_id),
    CHECK (group_id <> shared_with_id)
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    ip_addresses TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_open_per_user ON alarms (user_id)
    WHERE acknowledged_at IS NULL;
";

const API_TOKEN_COLUMNS: &str = "id, name, created_at, last_used_at";

fn api_token_from_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: Timestamp(row.get(2)?),
        last_used_at: row.get::<_, Option<i64>>(3)?.map(Timestamp),
    })
}

const ALARM_COLUMNS: &str = "id, user_id, username, ip_addresses, first_seen_at, last_seen_at, \
     acknowledged_at, acknowledged_by";

fn alarm_from_row(row: &Row<'_>) -> rusqlite::Result<Alarm> {
    let addresses: String = row.get(3)?;
    Ok(Alarm {
        id: row.get(0)?,
        user_id: row.get(1)?,
        username: row.get(2)?,
        ip_addresses: addresses.split(',').map(str::to_owned).collect(),
        first_seen_at: Timestamp(row.get(4)?),
        last_seen_at: Timestamp(row.get(5)?),
        acknowledged_at: row.get::<_, Option<i64>>(6)?.map(Timestamp),
        acknowledged_by: row.get(7)?,
    })
}

/// How often a token's last use is written, at most.
const TOKEN_USE_WRITE_INTERVAL_MS: i64 = 60_000;

const USER_COLUMNS: &str = "id, username, name, email, state, kind, is_admin, is_owner, \
     password_hash, failed_logins, locked_until, created_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let text = |i: usize| row.get::<_, String>(i);
    let invalid = |i: usize| {
        move |_| rusqlite::Error::InvalidColumnType(i, "users".into(), rusqlite::types::Type::Text)
    };
    Ok(User {
        id: row.get(0)?,
        username: Username::parse(&text(1)?).map_err(invalid(1))?,
        name: text(2)?,
        email: Email::parse(&text(3)?).map_err(invalid(3))?,
        state: UserState::parse(&text(4)?),
        kind: UserKind::parse(&text(5)?),
        is_admin: row.get(6)?,
        is_owner: row.get(7)?,
        password_hash: row.get(8)?,
        failed_logins: row.get(9)?,
        locked_until: row.get::<_, Option<i64>>(10)?.map(Timestamp),
        created_at: Timestamp(row.get(11)?),
    })
}

fn insert_user(conn: &Connection, user: &NewUser, now: Timestamp) -> rusqlite::Result<User> {
    conn.query_row(
        &format!(
            "INSERT INTO users (username, name, email, state, kind, is_admin, is_owner, \
             password_hash, created_at) VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6, ?7, ?8) \
             RETURNING {USER_COLUMNS}"
        ),
        params![
            user.username.as_str(),
            user.name,
            user.email.as_str(),
            user.kind.as_str(),
            user.is_admin,
            user.is_owner,
            user.password_hash,
            now.0
        ],
        user_from_row,
    )
    .map_err(on_conflict(|| {
        "a user with this username or e-mail already exists".into()
    }))
}

const GROUP_COLUMNS: &str = "id, parent_id, path, name, created_at";

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    let path: String = row.get(2)?;
    Ok(Group {
        id: row.get(0)?,
        parent_id: row.get(1)?,
        path: GroupPath::parse(&path).map_err(|_| {
            rusqlite::Error::InvalidColumnType(2, "groups".into(), rusqlite::types::Type::Text)
        })?,
        name: row.get(3)?,
        created_at: Timestamp(row.get(4)?),
    })
}

fn group_id(conn: &Connection, path: &GroupPath) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM groups WHERE path = ?1")?
        .query_row([path.as_str()], |row| row.get(0))
        .optional()
}

fn insert_group(conn: &Connection, group: &NewGroup, now: Timestamp) -> rusqlite::Result<Group> {
    let parent_id = match group.path.parent() {
        None => None,
        Some(parent) => Some(
            group_id(conn, &parent)?
                .ok_or_else(|| conflict(format!("the parent group '{parent}' does not exist")))?,
        ),
    };
    conn.query_row(
        &format!(
            "INSERT INTO groups (parent_id, path, name, created_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING {GROUP_COLUMNS}"
        ),
        params![parent_id, group.path.as_str(), group.name, now.0],
        group_from_row,
    )
    .map_err(on_conflict(|| {
        format!("the group '{}' already exists", group.path)
    }))
}

const ADD_MEMBER: &str = "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)";
const ADD_SHARE: &str =
    "INSERT OR IGNORE INTO group_shares (group_id, shared_with_id) VALUES (?1, ?2)";

/// Runs `ADD_MEMBER` or `ADD_SHARE`; false if the pair was already there.
fn insert_pair(conn: &Connection, sql: &str, first: i64, second: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached(sql)?.execute([first, second])? == 1)
}

fn audit_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let kind: String = row.get(2)?;
    let outcome: String = row.get(9)?;
    Ok(AuditEvent {
        id: row.get(0)?,
        at: Timestamp(row.get(1)?),
        kind: AuditKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(2, kind, rusqlite::types::Type::Text)
        })?,
        actor: row.get(3)?,
        subject_user_id: row.get(4)?,
        subject_username: row.get(5)?,
        session_id: row.get(6)?,
        ip_address: row.get(7)?,
        user_agent: row.get(8)?,
        outcome: if outcome == "success" {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        reason: row.get(10)?,
        session_count: row.get(11)?,
    })
}

pub struct SqliteDirectory {
    pool: Pool,
    readers: Readers,
}

/// The session check's user query, built once rather than on every request.
static USER_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"));

impl SqliteDirectory {
    pub fn open(path: &str) -> Result<Self, String> {
        Ok(SqliteDirectory {
            pool: open_pool(path, DIRECTORY_SCHEMA)?,
            readers: Readers::new(path),
        })
    }

    async fn user_where(&self, column: &'static str, value: String) -> StoreResult<Option<User>> {
        run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"
            ))?
            .query_row([value], user_from_row)
            .optional()
        })
        .await
    }
}

#[async_trait]
impl Directory for SqliteDirectory {
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<User> {
        let user = user.clone();
        run(&self.pool, move |conn| insert_user(conn, &user, now)).await
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        self.readers
            .lookup(&self.pool, move |conn| {
                conn.prepare_cached(&USER_BY_ID)?
                    .query_row([id], user_from_row)
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
            stmt.query_map([], user_from_row)?.collect()
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
            let lock_expired = locked_until.is_some_and(|until| until <= now.0);
            let failed = if lock_expired { 1 } else { failed + 1 };
            let new_lock = (failed >= policy.threshold).then(|| now.plus(policy.duration));
            let stored_lock =
                new_lock
                    .map(|t| t.0)
                    .or(if lock_expired { None } else { locked_until });
            tx.execute(
                "UPDATE users SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
                params![id, failed, stored_lock],
            )?;
            tx.commit()?;
            Ok(FailureRecord {
                failed_logins: failed,
                locked_until: new_lock,
            })
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
            conn.prepare_cached(
                "INSERT INTO audit_events (at, kind, actor, subject_user_id, subject_username, \
                 session_id, ip_address, user_agent, outcome, reason, session_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                event.at.0,
                event.kind.as_str(),
                event.actor,
                event.subject_user_id,
                event.subject_username,
                event.session_id,
                event.ip_address,
                event.user_agent,
                event.outcome.as_str(),
                event.reason,
                event.session_count,
            ])?;
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
                "SELECT id, at, kind, actor, subject_user_id, subject_username, session_id, \
                 ip_address, user_agent, outcome, reason, session_count FROM audit_events \
                 WHERE {condition} ORDER BY id DESC LIMIT ?3 OFFSET ?4"
            ))?;
            let items = stmt
                .query_map(params![user_id, kind, limit, offset], audit_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Page { items, total })
        })
        .await
    }

    async fn create_group(&self, group: &NewGroup, now: Timestamp) -> StoreResult<Group> {
        let group = group.clone();
        run(&self.pool, move |conn| insert_group(conn, &group, now)).await
    }

    async fn group_graph(&self) -> StoreResult<GroupGraph> {
        run(&self.pool, |conn| {
            // One read transaction, so groups and shares are of the same moment.
            let tx = conn.transaction()?;
            let groups = tx
                .prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups ORDER BY path"))?
                .query_map([], group_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            let shares = tx
                .prepare_cached(
                    "SELECT group_id, shared_with_id FROM group_shares \
                     ORDER BY group_id, shared_with_id",
                )?
                .query_map([], |row| {
                    Ok(GroupShare {
                        group_id: row.get(0)?,
                        shared_with_id: row.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(GroupGraph { groups, shares })
        })
        .await
    }

    async fn add_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            insert_pair(conn, ADD_MEMBER, group_id, user_id)
        })
        .await
    }

    async fn share_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            insert_pair(conn, ADD_SHARE, group_id, shared_with_id)
        })
        .await
    }

    async fn direct_members(&self, group_ids: &[i64]) -> StoreResult<Vec<(i64, User)>> {
        let group_ids = group_ids.to_vec();
        run(&self.pool, move |conn| {
            let mut members = Vec::new();
            for chunk in group_ids.chunks(ID_CHUNK) {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {USER_COLUMNS}, group_id FROM group_members \
                     JOIN users ON users.id = group_members.user_id \
                     WHERE group_id IN ({}) ORDER BY group_id, username",
                    placeholders(chunk.len())
                ))?;
                let rows = stmt.query_map(params_from_iter(chunk), |row| {
                    Ok((row.get(12)?, user_from_row(row)?))
                })?;
                for row in rows {
                    members.push(row?);
                }
            }
            Ok(members)
        })
        .await
    }

    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Vec<User>> {
        let import = import.clone();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let users = import
                .users
                .iter()
                .map(|user| insert_user(&tx, user, now))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for group in &import.groups {
                insert_group(&tx, group, now)?;
            }
            let group = |path: &GroupPath| {
                group_id(&tx, path)?
                    .ok_or_else(|| conflict(format!("the group '{path}' does not exist")))
            };
            for (path, username) in &import.memberships {
                let user_id: i64 = tx
                    .query_row(
                        "SELECT id FROM users WHERE username = ?1",
                        [username.as_str()],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| conflict(format!("the user '{username}' does not exist")))?;
                insert_pair(&tx, ADD_MEMBER, group(path)?, user_id)?;
            }
            for (path, with) in &import.shares {
                insert_pair(&tx, ADD_SHARE, group(path)?, group(with)?)?;
            }
            tx.commit()?;
            Ok(users)
        })
        .await
    }

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
                api_token_from_row,
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
                .query_row([hash.0.as_slice()], api_token_from_row)
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
            stmt.query_map([], api_token_from_row)?.collect()
        })
        .await
    }

    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!("DELETE FROM api_tokens WHERE id = ?1 RETURNING {API_TOKEN_COLUMNS}"),
                [id],
                api_token_from_row,
            )
            .optional()
        })
        .await
    }

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
                    alarm_from_row,
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
                        alarm_from_row,
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
                .query_map(params![open_only, limit, offset], alarm_from_row)?
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
                alarm_from_row,
            )
            .optional()
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
