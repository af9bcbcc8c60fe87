//! The embedded default: both stores in SQLite files (WAL mode, so the CLI and a running
//! server can share one file), each call run as blocking work (see [`run_blocking`]).

use super::sql::{
    ALARM_COLUMNS, API_TOKEN_COLUMNS, AUDIT_COLUMNS, AUDIT_INSERT_COLUMNS, GROUP_COLUMNS,
    SESSION_COLUMNS, SqlRow, SqlValue, TOKEN_USE_WRITE_INTERVAL_MS, USER_COLUMNS,
    USER_INSERT_COLUMNS, alarm_from_row, api_token_from_row, audit_from_row, audit_values,
    group_from_row, new_user_values, placeholders, session_from_row, session_values, user_from_row,
};
use super::stamp_file::StampFile;
use super::{
    AlarmStore, ApiTokenStore, AuditStore, CreateOutcome, Directory, DirectoryImport,
    FailureRecord, GroupStore, Imported, LockoutPolicy, Page, RememberToken, RememberTokenStore,
    SessionFilter, SessionLimit, SessionStore, StoreError, StoreResult, UserActivity, UserStore,
    sort_for_user,
};
use crate::blocking::run_blocking;
use crate::domain::alarm::Alarm;
use crate::domain::api_token::ApiToken;
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::domain::group::{Group, GroupGraph, GroupPath, GroupShare, NewGroup};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{NewUser, User, UserState};
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{
    self, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, ToSql, TransactionBehavior,
    params, params_from_iter,
};
use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError};
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
        )?;
        // A bulk revocation rewrites pages of four indexes: read them through the memory map,
        // and keep the changed ones in a cache big enough not to spill mid-transaction.
        conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Commits leave the log to the store's checkpointer (see `Checkpointer`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
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

/// Runs `work` on a pooled connection, as blocking work run in place (see [`run_blocking`]).
async fn run<T, F>(pool: &Pool, work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
{
    joined(run_blocking(on_connection(pool, work)).await)
}

/// [`run`] on Tokio's blocking pool, for the session check's writes. They come in a steady
/// stream (every session in use writes its activity once a minute), and each run in place
/// would hand the request's worker thread on to another: the requests' allocations, the
/// check cache's entries among them, would be spread over many threads' memory arenas
/// (~60 MiB more heap after 10,000 such writes, docs/benchmarks.md).
async fn run_on_pool<T, F>(pool: &Pool, work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
{
    joined(tokio::task::spawn_blocking(on_connection(pool, work)).await)
}

/// `work` on a connection taken from `pool`, as a blocking job.
fn on_connection<T, F>(pool: &Pool, work: F) -> impl FnOnce() -> StoreResult<T> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let pool = pool.clone();
    move || {
        let mut conn = pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        work(&mut conn).map_err(map_error)
    }
}

/// The result of a blocking job, whose task may have failed (panicked or been cancelled).
fn joined<T>(job: Result<StoreResult<T>, tokio::task::JoinError>) -> StoreResult<T> {
    job.map_err(|e| StoreError::Unavailable(e.to_string()))?
}

/// How much of the database file connections map into memory (address space, not resident
/// memory: the kernel's page cache backs it).
const MMAP_SIZE: i64 = 1 << 30;

/// Page cache of a pooled connection, in KiB as a negative `cache_size` (SQLite's default
/// is 2 MiB); memory is only taken as pages are used.
const WRITER_CACHE_KIB: i64 = -64 * 1024;

/// Page cache for the length of a bulk delete: 100k sessions dirty about 360 MiB of pages.
const BULK_CACHE_KIB: i64 = -1024 * 1024;

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

    /// Runs a point lookup right here as plain async work, without even handing the
    /// worker's other tasks on as [`run`] does: in WAL mode a read never waits for a writer
    /// and takes microseconds. Every call still reads the database (a revocation by another
    /// process shows at once). When SQLite is busy (e.g. recovering a log) the lookup goes
    /// to the pool's connections through [`run`], where waiting is allowed.
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
        // Pages read through a memory map cost no system call each; lookups land on random
        // pages of the token index, so most would otherwise be a `pread`.
        conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        Ok(conn)
    }
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

/// How often a store folds its write-ahead log back into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Folds the write-ahead log into the database from a thread of its own, every
/// `CHECKPOINT_INTERVAL`, instead of SQLite's default of doing it inside whichever commit
/// finds the log long: that commit (a login, a revocation) would wait for hundreds of MiB to
/// be copied. Dropped with its store, it stops at once, so the last connection to close
/// still checkpoints as usual.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(pool: &Pool) -> Checkpointer {
        let (stop, stopped) = mpsc::channel::<()>();
        let pool = pool.clone();
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                // PASSIVE never waits for readers or writers; what it cannot copy now, the
                // next round does.
                if let Ok(conn) = pool.get()
                    && let Err(error) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%error, "SQLite checkpoint failed");
                }
            }
        });
        Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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

/// The sessions table's columns, for [`SESSIONS_SCHEMA`] and for [`place_sessions_by_user`].
const SESSIONS_TABLE_COLUMNS: &str = "(
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
)";

/// Each user's sessions are stored in the user's own span of rowids ([`user_span`]), so a
/// user's rows are neighbours: revoking users deletes runs of rows instead of rows all over
/// the table (a tenth to a sixth less time for 100k sessions, docs/benchmarks.md, change
/// 31), and no index by user is needed. The trigger refuses a session stored elsewhere, say by an
/// older build, which would otherwise escape its user's listing and revocation.
static SESSIONS_INDEXES: LazyLock<String> = LazyLock::new(|| {
    let first = span_first_sql("new.user_id");
    format!(
        "
-- The listing index before `sessions_by_recency` (see `add_listing_index`).
DROP INDEX IF EXISTS sessions_by_activity;
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TRIGGER IF NOT EXISTS sessions_in_user_span AFTER INSERT ON sessions
WHEN new.rowid NOT BETWEEN {first} AND {first} | {SPAN_SESSION_BITS}
BEGIN
    SELECT RAISE(ABORT, 'a session must be stored in its user''s span of rowids; this sessiond is older than the database');
END;
"
    )
});

static SESSIONS_SCHEMA: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CREATE TABLE IF NOT EXISTS sessions {SESSIONS_TABLE_COLUMNS}; {}",
        *SESSIONS_INDEXES
    )
});

/// The low bits of a user id that choose its span: ids agreeing in them share one.
const SPAN_USER_BITS: i64 = 0x7FFF_FFFF;
/// The low bits of a rowid that number the sessions within a span (2^32 of them).
const SPAN_SESSION_BITS: i64 = 0xFFFF_FFFF;

/// The first and last rowid of `user_id`'s sessions. Users sharing a span are told apart
/// by every query by span, which also matches the user's id.
fn user_span(user_id: i64) -> (i64, i64) {
    let first = (user_id & SPAN_USER_BITS) << SPAN_SESSION_BITS.count_ones();
    (first, first | SPAN_SESSION_BITS)
}

/// [`user_span`]'s first rowid in SQL, for the user id the expression `user_id` gives.
fn span_first_sql(user_id: &str) -> String {
    format!(
        "(({user_id} & {SPAN_USER_BITS}) << {})",
        SPAN_SESSION_BITS.count_ones()
    )
}

/// Whether the schema holds an object of this name.
fn has(name: &str) -> String {
    format!("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = '{name}')")
}

/// Makes `change` in one write transaction unless `done` (a query answering whether the
/// database has it already) says so, asked again once the lock is held: another process may
/// have made it while this one waited. Whether this call made it.
fn change_once(
    conn: &mut Connection,
    done: &str,
    change: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<bool> {
    if conn.query_row(done, [], |row| row.get::<_, bool>(0))? {
        return Ok(false);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if tx.query_row(done, [], |row| row.get::<_, bool>(0))? {
        return Ok(false);
    }
    change(&tx)?;
    tx.commit()?;
    Ok(true)
}

/// Moves the sessions of a database written by a build before [`user_span`] (it still has
/// the index by user) into their users' spans, once, in one write transaction.
fn place_sessions_by_user(conn: &mut Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    let placed = change_once(
        conn,
        &format!("SELECT NOT ({})", has("sessions_by_user")),
        |tx| {
            // Dropping the table drops its indexes and triggers; the schema then makes them
            // again. The address entries name the old rowids: they are made afresh.
            let first = span_first_sql("user_id");
            tx.execute_batch(&format!(
                "CREATE TABLE sessions_placed {SESSIONS_TABLE_COLUMNS};
                 INSERT INTO sessions_placed (rowid, {SESSION_COLUMNS})
                     SELECT {first} - 1 + ROW_NUMBER() OVER (
                                PARTITION BY {first} ORDER BY created_at, id),
                            {SESSION_COLUMNS}
                     FROM sessions;
                 DROP TABLE sessions;
                 ALTER TABLE sessions_placed RENAME TO sessions;
                 DROP TABLE IF EXISTS session_addresses;
                 {}",
                *SESSIONS_INDEXES
            ))?;
            if tx.query_row(&has("session_recency"), [], |row| row.get::<_, bool>(0))? {
                tx.execute_batch(&RECENCY_TRIGGERS)?;
            }
            Ok(())
        },
    )?;
    if placed {
        log_upgrade(started, "placed the stored sessions by user");
    }
    Ok(())
}

/// Logs a change made once to a database of an older sessiond, and the time it took.
fn log_upgrade(started: std::time::Instant, done: &str) {
    tracing::info!(
        took_ms = started.elapsed().as_millis() as u64,
        "{done} (once, for a database of an older sessiond)"
    );
}

/// Gives the admin listing its index (see `scan_all`): the time of last activity alone, ties
/// in rowid order. Builds before change 45 kept a wider one, `sessions_by_recency`, that
/// also held the public id and the expiry: three times the size, and changed all over by
/// every bulk delete (docs/benchmarks.md). It is replaced in one write transaction, and the
/// time it took is logged; so again if an older build has made it since.
fn add_listing_index(conn: &mut Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    let (narrow, wide) = ("sessions_by_last_active", "sessions_by_recency");
    let mut replaced = false;
    change_once(
        conn,
        &format!("SELECT ({}) AND NOT ({})", has(narrow), has(wide)),
        |tx| {
            replaced = tx.query_row(&has(wide), [], |row| row.get(0))?;
            tx.execute_batch(&format!(
                "DROP INDEX IF EXISTS {wide};
                 CREATE INDEX IF NOT EXISTS {narrow} ON sessions (last_active_at DESC);"
            ))
        },
    )?;
    if replaced {
        log_upgrade(
            started,
            "replaced the admin listing's index with a narrower one",
        );
    }
    Ok(())
}

/// The highest rowid taken in a user's span.
const HIGHEST_IN_SPAN: &str = "SELECT MAX(rowid) FROM sessions WHERE rowid BETWEEN ?1 AND ?2";

static INSERT_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}, rowid) VALUES ({})",
        placeholders('?', 15)
    )
});

/// Stores a new session in its user's span, after the user's others; inside a write
/// transaction, so no two writers take the same rowid.
pub fn insert_session(conn: &Connection, session: &Session) -> rusqlite::Result<()> {
    let (first, last) = user_span(session.user_id);
    let highest: Option<i64> = conn
        .prepare_cached(HIGHEST_IN_SPAN)?
        .query_row(params![first, last], |row| row.get(0))?;
    let rowid = match highest {
        None => first,
        Some(highest) if highest < last => highest + 1,
        Some(_) => {
            return Err(conflict(format!(
                "user {} has used up the 2^32 session numbers of their span",
                session.user_id
            )));
        }
    };
    let values = session_values(session)
        .into_iter()
        .chain(std::iter::once(SqlValue::Int(rowid)));
    conn.prepare_cached(&INSERT_SESSION)?
        .execute(params_from_iter(values))?;
    Ok(())
}

/// Spans of `last_active_at` the admin listing counts sessions in, coarsest first: 2^18 ms
/// (~4.4 minutes), each split into 256 of 2^10 ms (~1 second). Finding offset N sums at most a
/// few hundred counts per level and then walks the index inside one second only.
const RECENCY_LEVELS: [u32; 2] = [18, 10];

/// The order-statistic aid of the admin listing: stored sessions (expired ones included) per
/// span of `last_active_at`, at each of `RECENCY_LEVELS`. Spans emptied keep a zero row until
/// the next purge.
const RECENCY_TABLE: &str = "
CREATE TABLE session_recency (
    bits INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (bits, bucket)
) WITHOUT ROWID;
";

/// Counts a row into, or out of, its spans at `levels` (`row` is `new` or `old` in a trigger).
fn recency_change(row: &str, added: bool, levels: &[u32]) -> String {
    levels
        .iter()
        .map(|bits| {
            if added {
                format!(
                    "INSERT INTO session_recency VALUES ({bits}, {row}.last_active_at >> {bits}, 1) \
                     ON CONFLICT DO UPDATE SET sessions = sessions + 1;"
                )
            } else {
                format!(
                    "UPDATE session_recency SET sessions = sessions - 1 \
                     WHERE bits = {bits} AND bucket = {row}.last_active_at >> {bits};"
                )
            }
        })
        .collect()
}

/// The trigger that counts deleted sessions out; a bulk delete replaces it (see
/// `delete_sessions_of`).
static RECENCY_DELETE_TRIGGER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CREATE TRIGGER IF NOT EXISTS session_recency_delete AFTER DELETE ON sessions \
         BEGIN {} END;",
        recency_change("old", false, &RECENCY_LEVELS)
    )
});

/// Triggers keep `session_recency` exact whoever writes the file: this server, the CLI, an
/// older build, a person with `sqlite3`.
static RECENCY_TRIGGERS: LazyLock<String> = LazyLock::new(|| {
    // One update trigger per level: an activity write (once a minute) moves a session to
    // another second, but seldom to another 4.4-minute span.
    let moves: String = RECENCY_LEVELS
        .iter()
        .map(|&bits| {
            format!(
                "CREATE TRIGGER IF NOT EXISTS session_recency_update_{bits} \
                 AFTER UPDATE OF last_active_at ON sessions \
                 WHEN old.last_active_at >> {bits} <> new.last_active_at >> {bits} \
                 BEGIN {} {} END;",
                recency_change("old", false, &[bits]),
                recency_change("new", true, &[bits]),
            )
        })
        .collect();
    format!(
        "CREATE TRIGGER IF NOT EXISTS session_recency_insert AFTER INSERT ON sessions \
         BEGIN {} END; {moves} {}",
        recency_change("new", true, &RECENCY_LEVELS),
        *RECENCY_DELETE_TRIGGER
    )
});

/// Adds the listing's aid to a database that lacks it (new, or written by an older build),
/// counting the sessions already stored, in the same write transaction as its triggers so no
/// write falls between.
fn add_recency_counts(conn: &mut Connection) -> rusqlite::Result<()> {
    change_once(conn, &has("session_recency"), |tx| {
        tx.execute_batch(RECENCY_TABLE)?;
        for bits in RECENCY_LEVELS {
            tx.execute(
                &format!(
                    "INSERT INTO session_recency \
                     SELECT {bits}, last_active_at >> {bits}, COUNT(*) FROM sessions GROUP BY 2"
                ),
                [],
            )?;
        }
        tx.execute_batch(&RECENCY_TRIGGERS)
    })?;
    Ok(())
}

/// Sessions by address, for the admin listing's filter: `(address, session)`, `session` a
/// rowid of `sessions`. Triggers add an entry when a session is stored or moves to another
/// address; nothing removes one when a session goes, so deleting sessions, a bulk
/// revocation above all, costs nothing more (an index on the address made that a fifth
/// slower, docs/benchmarks.md, change 27). The filter joins the entries to the sessions
/// still at their address, and the purge sweeps the others away ([`sweep_addresses`]).
const ADDRESS_TABLE: &str = "
CREATE TABLE session_addresses (
    address TEXT NOT NULL,
    session INTEGER NOT NULL,
    PRIMARY KEY (address, session)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS session_address_insert AFTER INSERT ON sessions
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.ip_address, new.rowid); END;
CREATE TRIGGER IF NOT EXISTS session_address_update AFTER UPDATE OF ip_address ON sessions
BEGIN INSERT OR IGNORE INTO session_addresses VALUES (new.ip_address, new.rowid); END;
";

/// Adds the address entries to a database that lacks them (new, written by an older build,
/// or just placed by user), one for each stored session.
fn add_address_entries(conn: &mut Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    let mut entries = 0;
    change_once(conn, &has("session_addresses"), |tx| {
        tx.execute_batch(ADDRESS_TABLE)?;
        entries = tx.execute(
            "INSERT INTO session_addresses SELECT ip_address, rowid FROM sessions",
            [],
        )?;
        Ok(())
    })?;
    if entries > 0 {
        tracing::info!(
            entries,
            took_ms = started.elapsed().as_millis() as u64,
            "indexed the stored sessions by address (once, for a database of an older sessiond)"
        );
    }
    Ok(())
}

/// Address entries one purge checks at most, holding the write lock meanwhile (a random
/// rowid lookup each, ~25 ms for all of them at 1M sessions): at one purge a minute, 5.9
/// million a day, above the sessions a day that end on a store SQLite suits.
const ADDRESS_SWEEP_BATCH: i64 = 4_096;

/// Where the sweep of address entries goes on from: the last entry it checked.
type SweepCursor = std::sync::Arc<Mutex<(String, i64)>>;

/// A cursor before every address entry.
fn sweep_start() -> (String, i64) {
    (String::new(), i64::MIN)
}

/// Removes the entries among the next [`ADDRESS_SWEEP_BATCH`] after the cursor whose session
/// is gone or at another address, and moves the cursor on (to the start after the last
/// entry); how many it removed.
fn sweep_addresses(conn: &Connection, cursor: &SweepCursor) -> rusqlite::Result<u64> {
    let Ok(mut cursor) = cursor.lock() else {
        return Ok(0);
    };
    let (after, after_session) = cursor.clone();
    let last: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT address, session FROM session_addresses WHERE (address, session) > (?1, ?2) \
             ORDER BY address, session LIMIT 1 OFFSET ?3",
        )?
        .query_row(
            params![after, after_session, ADDRESS_SWEEP_BATCH - 1],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let gone = "NOT EXISTS (SELECT 1 FROM sessions \
                WHERE sessions.rowid = session AND sessions.ip_address = address)";
    let swept = match &last {
        Some((address, session)) => conn
            .prepare_cached(&format!(
                "DELETE FROM session_addresses WHERE (address, session) > (?1, ?2) \
                 AND (address, session) <= (?3, ?4) AND {gone}"
            ))?
            .execute(params![after, after_session, address, session])?,
        None => conn
            .prepare_cached(&format!(
                "DELETE FROM session_addresses WHERE (address, session) > (?1, ?2) AND {gone}"
            ))?
            .execute(params![after, after_session])?,
    };
    *cursor = last.unwrap_or_else(sweep_start);
    Ok(swept as u64)
}

pub struct SqliteSessionStore {
    pool: Pool,
    readers: Readers,
    stamps: StampFile,
    address_sweep: SweepCursor,
    _checkpointer: Checkpointer,
}

impl SqliteSessionStore {
    pub fn open(path: &str) -> Result<Self, String> {
        let pool = open_pool(path, SESSIONS_SCHEMA.as_str())?;
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        place_sessions_by_user(&mut conn)
            .map_err(|e| format!("cannot place the sessions in {path:?} by user: {e}"))?;
        add_listing_index(&mut conn)
            .map_err(|e| format!("cannot index the sessions in {path:?} by activity: {e}"))?;
        add_recency_counts(&mut conn)
            .map_err(|e| format!("cannot add the listing counts to {path:?}: {e}"))?;
        add_address_entries(&mut conn)
            .map_err(|e| format!("cannot index the sessions in {path:?} by address: {e}"))?;
        drop(conn);
        Ok(SqliteSessionStore {
            _checkpointer: Checkpointer::start(&pool),
            stamps: StampFile::open(path)?,
            address_sweep: std::sync::Arc::new(Mutex::new(sweep_start())),
            pool,
            readers: Readers::new(path),
        })
    }

    /// New stamps for users whose sessions a committed change deleted or altered.
    fn bump(&self, user_ids: impl IntoIterator<Item = i64>) -> StoreResult<()> {
        self.stamps
            .bump(user_ids)
            .map_err(|e| StoreError::Unavailable(format!("cannot write the stamp file: {e}")))
    }
}

/// The session check's query, built once rather than on every request.
static SESSION_BY_TOKEN: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"));

/// A user's unexpired sessions, least recently active first: read along the user's span
/// (`NOT INDEXED` keeps the planner from the expiry index, which would visit every user's).
static ACTIVE_OF_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions NOT INDEXED \
         WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 AND expires_at > ?4 \
         ORDER BY last_active_at ASC"
    )
});

/// The unexpired sessions of `user_id`, least recently active first.
fn active_of_user(
    conn: &Connection,
    user_id: i64,
    now: Timestamp,
) -> rusqlite::Result<Vec<Session>> {
    let (first, last) = user_span(user_id);
    conn.prepare_cached(&ACTIVE_OF_USER)?
        .query_map(params![first, last, user_id, now.0], |row| {
            session_from_row(row)
        })?
        .collect()
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let user_id = session.user_id;
        let session = session.clone();
        let outcome = run(&self.pool, move |conn| {
            // IMMEDIATE takes the write lock first, so two logins cannot both pass the limit.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut active = active_of_user(&tx, session.user_id, now)?;
            let Some(excess) = limit.excess(active.len()) else {
                return Ok(CreateOutcome::LimitReached);
            };
            for old in active.iter().take(excess) {
                tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                    .execute([&old.id])?;
            }
            insert_session(&tx, &session)?;
            tx.commit()?;
            let kept = active.split_off(excess);
            Ok(CreateOutcome::created(
                active,
                kept.into_iter().map(|s| s.ip_address),
                &session,
            ))
        })
        .await?;
        if matches!(&outcome, CreateOutcome::Created { evicted, .. } if !evicted.is_empty()) {
            self.bump([user_id])?;
        }
        Ok(outcome)
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = *hash;
        self.readers
            .lookup(&self.pool, move |conn| {
                conn.prepare_cached(&SESSION_BY_TOKEN)?
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
        run_on_pool(&self.pool, move |conn| {
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
        let user_id = run_on_pool(&self.pool, move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET ip_address = ?2 WHERE id = ?1 RETURNING user_id",
            )?
            .query_row(params![id, ip_address], |row| row.get::<_, i64>(0))
            .optional()
        })
        .await?;
        self.bump(user_id)
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut sessions = run(&self.pool, move |conn| active_of_user(conn, user_id, now)).await?;
        sort_for_user(&mut sessions);
        Ok(sessions)
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let id = id.to_owned();
        let deleted = run(&self.pool, move |conn| {
            conn.prepare_cached(&format!(
                "DELETE FROM sessions WHERE id = ?1 RETURNING {SESSION_COLUMNS}"
            ))?
            .query_row([id], |row| session_from_row(row))
            .optional()
        })
        .await?;
        self.bump(deleted.iter().map(|s| s.user_id))?;
        Ok(deleted)
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let counts = self.delete_by_users(&[user_id], now).await?;
        Ok(counts.get(&user_id).copied().unwrap_or(0))
    }

    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| activity_of(conn, &user_ids, now)).await
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        let owned = user_ids.to_vec();
        let counts = run(&self.pool, move |conn| {
            // Deleting many users' sessions changes pages all over four indexes:
            // with room for all of them none is written to the log half-done and then again.
            // The memory is handed back afterwards.
            conn.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
            let deleted = delete_sessions_of(conn, &owned, now);
            conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
            conn.execute_batch("PRAGMA shrink_memory")?;
            deleted
        })
        .await?;
        self.bump(user_ids.iter().copied())?;
        Ok(counts)
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
            // One read transaction, so the total and the page are of the same moment.
            let tx = conn.transaction()?;
            match (filter.user_id, &filter.ip_address) {
                (None, None) => scan_all(&tx, now, limit, offset),
                (None, Some(address)) => scan_address(&tx, address, now, limit, offset),
                (Some(user_id), address) => {
                    scan_by_user(&tx, user_id, address.as_deref(), now, limit, offset)
                }
            }
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        let cursor = self.address_sweep.clone();
        run(&self.pool, move |conn| {
            let purged = conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])?;
            conn.execute("DELETE FROM session_recency WHERE sessions = 0", [])?;
            let swept = sweep_addresses(conn, &cursor)?;
            tracing::debug!(swept, "removed the address entries of ended sessions");
            Ok(purged as u64)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }

    fn keeps_stamps(&self) -> bool {
        true
    }

    async fn user_stamp(&self, user_id: i64) -> StoreResult<Option<u64>> {
        Ok(Some(self.stamps.read(user_id)))
    }

    async fn invalidate_user(&self, user_id: i64) -> StoreResult<()> {
        self.bump([user_id])
    }
}

/// The unfiltered admin listing. `OFFSET` alone would step through every index entry it
/// skips (~50 ns each, 25 ms in the middle of 1M); instead `session_recency` is summed from
/// the newest span down to the one second holding row `offset`, and the index is walked
/// inside that second only. Exactly the page of `ORDER BY last_active_at DESC, rowid`: ties
/// in the index's own order, by user and then age, so the walk never reads the table.
fn scan_all(
    tx: &Connection,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    // Expired sessions not yet purged are counted in their spans but not listed; the purge
    // every minute keeps them few, and the expiry index finds them.
    let expired: Vec<i64> = tx
        .prepare_cached("SELECT last_active_at FROM sessions WHERE expires_at <= ?1")?
        .query_map([now.0], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let stored: u64 = tx
        .prepare_cached("SELECT COALESCE(SUM(sessions), 0) FROM session_recency WHERE bits = ?1")?
        .query_row([RECENCY_LEVELS[0]], |row| row.get(0))?;
    let total = stored.saturating_sub(expired.len() as u64);
    if offset >= total {
        return Ok(Page {
            items: Vec::new(),
            total,
        });
    }
    // The span (first and last millisecond) holding row `offset`, and the listed rows before it.
    let (mut first, mut last, mut before) = (i64::MIN, i64::MAX, 0);
    for bits in RECENCY_LEVELS {
        let mut expired_in = BTreeMap::<i64, u64>::new();
        for at in &expired {
            *expired_in.entry(at >> bits).or_default() += 1;
        }
        let mut spans = tx.prepare_cached(
            "SELECT bucket, sessions FROM session_recency \
             WHERE bits = ?1 AND bucket BETWEEN ?2 AND ?3 ORDER BY bucket DESC",
        )?;
        let mut rows = spans.query(params![bits, first >> bits, last >> bits])?;
        while let Some(row) = rows.next()? {
            let (bucket, sessions): (i64, u64) = (row.get(0)?, row.get(1)?);
            let listed = sessions.saturating_sub(expired_in.get(&bucket).copied().unwrap_or(0));
            if before + listed > offset {
                (first, last) = (bucket << bits, (bucket << bits) | ((1 << bits) - 1));
                break;
            }
            before += listed;
        }
    }
    // The expired rowids, from the expiry index, are gathered once; only the page's rows
    // are read from the table.
    let items = tx
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE rowid IN (\
                 SELECT rowid FROM sessions INDEXED BY sessions_by_last_active \
                 WHERE last_active_at <= ?1 \
                     AND rowid NOT IN (SELECT rowid FROM sessions WHERE expires_at <= ?2) \
                 ORDER BY last_active_at DESC, rowid LIMIT ?3 OFFSET ?4) \
             ORDER BY last_active_at DESC, rowid"
        ))?
        .query_map(params![last, now.0, limit, offset - before], |row| {
            session_from_row(row)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { items, total })
}

/// The admin listing of one user's sessions, at one address or all: the user's span read
/// whole (a user has few sessions), then sorted and paged.
fn scan_by_user(
    tx: &Connection,
    user_id: i64,
    address: Option<&str>,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    let mut sessions = active_of_user(tx, user_id, now)?;
    if let Some(address) = address {
        sessions.retain(|session| session.ip_address == address);
    }
    Ok(Page::of_listing(sessions, limit, offset))
}

/// The admin listing of one address's sessions: its entries in `session_addresses` joined
/// to the sessions still there, sorted and paged here. O(entries at the address).
fn scan_address(
    tx: &Connection,
    address: &str,
    now: Timestamp,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<Page<Session>> {
    // CROSS JOIN keeps the entries as the outer loop: a rowid lookup per entry.
    let sessions: Vec<Session> = tx
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM session_addresses \
             CROSS JOIN sessions ON sessions.rowid = session \
             WHERE address = ?1 AND ip_address = ?1 AND expires_at > ?2"
        ))?
        .query_map(params![address, now.0], |row| session_from_row(row))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page::of_listing(sessions, limit, offset))
}

/// Deletes the sessions of `user_ids`; how many unexpired ones each had.
fn delete_sessions_of(
    conn: &mut Connection,
    user_ids: &[i64],
    now: Timestamp,
) -> rusqlite::Result<BTreeMap<i64, u64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // For many users the delete trigger would run once per row (~1.5 s for 100k sessions):
    // the listing's counts are taken down per span instead, from what the deletes return,
    // with the trigger dropped for this transaction only. DDL is transactional, so no other
    // connection ever sees it missing; it does make every connection prepare its statements
    // again, hence not for a few users.
    let grouped = user_ids.len() >= GROUPED_COUNT_USERS;
    if grouped {
        tx.execute_batch("DROP TRIGGER IF EXISTS session_recency_delete")?;
    }
    let mut counts = BTreeMap::new();
    let mut gone: BTreeMap<(u32, i64), i64> = BTreeMap::new();
    // In order of the spans, so the deletes walk the table from one end to the other.
    let mut users = user_ids.to_vec();
    users.sort_unstable();
    users.dedup();
    let mut delete = tx.prepare(
        "DELETE FROM sessions NOT INDEXED WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 \
         RETURNING expires_at > ?4, last_active_at",
    )?;
    for user_id in users {
        let (first, last) = user_span(user_id);
        let mut deleted = delete.query(params![first, last, user_id, now.0])?;
        while let Some(row) = deleted.next()? {
            if row.get::<_, bool>(0)? {
                *counts.entry(user_id).or_default() += 1;
            }
            if grouped {
                let last_active_at: i64 = row.get(1)?;
                for bits in RECENCY_LEVELS {
                    *gone.entry((bits, last_active_at >> bits)).or_default() += 1;
                }
            }
        }
    }
    drop(delete);
    if grouped {
        let mut uncount = tx.prepare(
            "UPDATE session_recency SET sessions = sessions - ?3 WHERE bits = ?1 AND bucket = ?2",
        )?;
        for ((bits, bucket), deleted) in gone {
            uncount.execute(params![bits, bucket, deleted])?;
        }
        drop(uncount);
        tx.execute_batch(&RECENCY_DELETE_TRIGGER)?;
    }
    tx.commit()?;
    Ok(counts)
}

/// From how many users on a bulk delete updates the listing's counts itself, per span,
/// instead of through the delete trigger, row by row.
pub const GROUPED_COUNT_USERS: usize = 64;

/// Unexpired sessions per user among `user_ids`; users with none are left out.
fn activity_of(
    conn: &Connection,
    user_ids: &[i64],
    now: Timestamp,
) -> rusqlite::Result<BTreeMap<i64, UserActivity>> {
    let mut activity = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT COUNT(*), MAX(last_active_at) FROM sessions NOT INDEXED \
         WHERE rowid BETWEEN ?1 AND ?2 AND user_id = ?3 AND expires_at > ?4",
    )?;
    for &user_id in user_ids {
        let (first, last) = user_span(user_id);
        let (sessions, last_active_at) = stmt
            .query_row(params![first, last, user_id, now.0], |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, Option<i64>>(1)?))
            })?;
        if let Some(last_active_at) = last_active_at {
            let last_active_at = Timestamp(last_active_at);
            activity.insert(
                user_id,
                UserActivity {
                    sessions,
                    last_active_at,
                },
            );
        }
    }
    Ok(activity)
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

fn insert_user(conn: &Connection, user: &NewUser, now: Timestamp) -> rusqlite::Result<User> {
    conn.query_row(
        &format!(
            "INSERT INTO users ({USER_INSERT_COLUMNS}) VALUES ({}) RETURNING {USER_COLUMNS}",
            placeholders('?', 9)
        ),
        params_from_iter(new_user_values(user, now)),
        |row| user_from_row(row),
    )
    .map_err(on_conflict(|| {
        "a user with this username or e-mail already exists".into()
    }))
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
        |row| group_from_row(row),
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

fn insert_audit(conn: &Connection, events: &[AuditEvent]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
        placeholders('?', 11)
    ))?;
    for event in events {
        insert.execute(params_from_iter(audit_values(event)))?;
    }
    Ok(())
}

pub struct SqliteDirectory {
    pool: Pool,
    readers: Readers,
    _checkpointer: Checkpointer,
}

impl SqliteDirectory {
    pub fn open(path: &str) -> Result<Self, String> {
        let pool = open_pool(path, DIRECTORY_SCHEMA)?;
        Ok(SqliteDirectory {
            _checkpointer: Checkpointer::start(&pool),
            pool,
            readers: Readers::new(path),
        })
    }

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
}

#[async_trait]
impl RememberTokenStore for SqliteDirectory {
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let (remember, events) = (remember.copied(), events.to_vec());
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(token) = remember {
                tx.prepare_cached(
                    "INSERT INTO remember_tokens (token_hash, user_id, expires_at) \
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    token.hash.0.as_slice(),
                    token.user_id,
                    token.expires_at.0
                ])?;
            }
            insert_audit(&tx, &events)?;
            tx.commit()
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

    async fn revoke_remember_tokens(&self, user_ids: &[i64]) -> StoreResult<u64> {
        let user_ids = user_ids.to_vec();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut revoked = 0;
            {
                let mut delete =
                    tx.prepare_cached("DELETE FROM remember_tokens WHERE user_id = ?1")?;
                for user_id in &user_ids {
                    revoked += delete.execute([user_id])? as u64;
                }
            }
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    async fn purge_expired_remember_tokens(&self, now: Timestamp) -> StoreResult<u64> {
        run(&self.pool, move |conn| {
            Ok(conn.execute(
                "DELETE FROM remember_tokens WHERE expires_at <= ?1",
                [now.0],
            )? as u64)
        })
        .await
    }
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

#[async_trait]
impl ApiTokenStore for SqliteDirectory {
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
                |row| api_token_from_row(row),
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
                .query_row([hash.0.as_slice()], |row| api_token_from_row(row))
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
            stmt.query_map([], |row| api_token_from_row(row))?.collect()
        })
        .await
    }

    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        run(&self.pool, move |conn| {
            conn.query_row(
                &format!("DELETE FROM api_tokens WHERE id = ?1 RETURNING {API_TOKEN_COLUMNS}"),
                [id],
                |row| api_token_from_row(row),
            )
            .optional()
        })
        .await
    }
}

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

#[async_trait]
impl GroupStore for SqliteDirectory {
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
                .query_map([], |row| group_from_row(row))?
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
                    placeholders('?', chunk.len())
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
}

#[async_trait]
impl Directory for SqliteDirectory {
    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Imported> {
        let import = import.clone();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut imported = Imported {
                users: import
                    .users
                    .iter()
                    .map(|user| insert_user(&tx, user, now))
                    .collect::<rusqlite::Result<_>>()?,
                ..Imported::default()
            };
            for group in &import.groups {
                imported.groups.push(insert_group(&tx, group, now)?);
            }
            let group = |path: &GroupPath| {
                group_id(&tx, path)?
                    .ok_or_else(|| conflict(format!("the group '{path}' does not exist")))
            };
            for (path, username) in import.memberships {
                let user_id: i64 = tx
                    .query_row(
                        "SELECT id FROM users WHERE username = ?1",
                        [username.as_str()],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| conflict(format!("the user '{username}' does not exist")))?;
                if insert_pair(&tx, ADD_MEMBER, group(&path)?, user_id)? {
                    imported.memberships.push((path, user_id, username));
                }
            }
            for (path, with) in import.shares {
                if insert_pair(&tx, ADD_SHARE, group(&path)?, group(&with)?)? {
                    imported.shares.push((path, with));
                }
            }
            tx.commit()?;
            Ok(imported)
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
