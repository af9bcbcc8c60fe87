//! The embedded default: both stores in SQLite files (WAL mode, so the CLI and a running
//! server can share one file), each call run as blocking work (see [`run_blocking`]). The
//! schema comes from numbered migrations (see [`migrate`]).

mod alarms;
mod api_tokens;
mod audit;
mod directory;
mod ended;
mod groups;
mod listing;
mod migrate;
mod pending;
mod remember;
mod revocation_jobs;
mod sessions;
mod users;

pub use super::migrations::{SQLITE_DIRECTORY_VERSION, SQLITE_SESSIONS_VERSION};
pub use directory::SqliteDirectory;
pub use sessions::{GROUPED_COUNT_USERS, SqliteSessionStore, insert_session};

use super::sql::{SqlRow, SqlValue};
use super::{StoreError, StoreResult};
use crate::blocking::run_blocking;
use migrate::{Component, migrate};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{self, Connection, ErrorCode, OpenFlags, Row, ToSql};
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

type Pool = r2d2::Pool<SqliteConnectionManager>;

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to the file at `path`, with `component`'s migrations applied.
/// How every pooled connection is set up.
fn prepare_connection(conn: &mut Connection) -> rusqlite::Result<()> {
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
}

fn open_pool(path: &str, component: Component) -> Result<Pool, String> {
    let cannot_open =
        |e: &dyn std::fmt::Display| format!("cannot open SQLite database {path:?}: {e}");
    // One connection first, so that a file that cannot be opened or written is reported once
    // and at once, not retried by the pool for its whole timeout.
    Connection::open(path)
        .and_then(|mut conn| prepare_connection(&mut conn))
        .map_err(|e| cannot_open(&e))?;
    let manager = SqliteConnectionManager::file(path).with_init(prepare_connection);
    let pool = r2d2::Pool::builder()
        .max_size(8)
        .build(manager)
        .map_err(|e| cannot_open(&e))?;
    let mut conn = pool.get().map_err(|e| cannot_open(&e))?;
    migrate(&mut conn, component)
        .map_err(|e| format!("cannot bring the schema of {path:?} up to date: {e}"))?;
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
                // next checkpoint does.
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
