//! Brings a SQLite file's schema to this build's with the numbered, forward-only migrations
//! of `migrations/sqlite/` (see [`crate::store::migrations`]), recorded per component in
//! `sessiond_migrations`, so the sessions and the directory may share a file or not.
//!
//! Hand-written SQL files and this small runner rather than a crate such as `refinery`: one
//! model for SQLite and PostgreSQL (the same folders, table and [`pending`]), two components
//! in one database where such crates keep one history per database, each backend's own lock
//! (an IMMEDIATE transaction here, an advisory lock on PostgreSQL), the legacy path below,
//! and no further dependency.

use crate::store::migrations::{
    APPLIED_VERSION, MIGRATIONS_TABLE, Migration, RECORD_VERSION, SQLITE_DIRECTORY,
    SQLITE_DIRECTORY_VERSION, SQLITE_SESSIONS, SQLITE_SESSIONS_VERSION, pending,
};
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::Instant;

/// What one store keeps in a SQLite file.
#[derive(Debug, Clone, Copy)]
pub(super) enum Component {
    Sessions,
    Directory,
}

impl Component {
    fn name(self) -> &'static str {
        match self {
            Component::Sessions => "sessions",
            Component::Directory => "directory",
        }
    }

    fn migrations(self) -> &'static [Migration] {
        match self {
            Component::Sessions => SQLITE_SESSIONS,
            Component::Directory => SQLITE_DIRECTORY,
        }
    }

    fn known(self) -> i64 {
        match self {
            Component::Sessions => SQLITE_SESSIONS_VERSION,
            Component::Directory => SQLITE_DIRECTORY_VERSION,
        }
    }

    /// Per version from 1, a query answering whether a file written before
    /// `sessiond_migrations` existed has that step (see [`adopt_legacy`]).
    fn legacy_steps(self) -> &'static [&'static str] {
        match self {
            Component::Sessions => &[
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions')",
                "SELECT NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_activity')",
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'session_recency')",
                "SELECT NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_user')",
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'session_addresses')",
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_last_active') \
                 AND NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_recency')",
            ],
            Component::Directory => &[
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'users')",
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'api_tokens')",
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'groups')",
            ],
        }
    }
}

/// Applies the component's pending migrations in one IMMEDIATE write transaction, so two
/// processes opening the file at once never both apply a step: the second finds them
/// recorded. Refuses a file whose schema is newer than this build knows. Then drops what
/// older builds sharing the file made again (see [`drop_indexes_remade`]).
pub(super) fn migrate(conn: &mut Connection, component: Component) -> Result<(), String> {
    let known = component.known();
    // Most opens find the schema current: asked first without taking the write lock.
    if applied_version(conn, component).map_err(|e| e.to_string())? != known
        && let Some(applied) = apply(conn, component).map_err(|e| e.to_string())?
    {
        return Err(format!(
            "its {} schema is at version {applied}, newer than this sessiond knows ({known}): \
             run the sessiond release that wrote it, or a newer one",
            component.name()
        ));
    }
    if let Component::Sessions = component {
        drop_indexes_remade(conn).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Whether the sessions table has this build's listing index and none of the indexes older
/// builds sharing the file make again when they open it (they create their schema if absent),
/// each replaced by a migration: the index by user (0004) and the wider listing indexes
/// (0002, 0006).
const INDEXES_SETTLED: &str = "SELECT NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE name IN \
    ('sessions_by_user', 'sessions_by_activity', 'sessions_by_recency')) \
    AND EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessions_by_last_active')";

/// Drops the indexes an older build made again, which every write would otherwise keep up,
/// and makes the listing index again if it is missing, in one write transaction; asked
/// first without the lock, as most opens find nothing to do.
fn drop_indexes_remade(conn: &mut Connection) -> rusqlite::Result<()> {
    let settled = |conn: &Connection| conn.query_row(INDEXES_SETTLED, [], |row| row.get(0));
    if settled(conn)? {
        return Ok(());
    }
    let started = Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if settled(&tx)? {
        return Ok(());
    }
    tx.execute_batch(
        "DROP INDEX IF EXISTS sessions_by_user;
         DROP INDEX IF EXISTS sessions_by_activity;
         DROP INDEX IF EXISTS sessions_by_recency;
         CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions (last_active_at DESC);",
    )?;
    tx.commit()?;
    tracing::info!(
        took_ms = started.elapsed().as_millis() as u64,
        "replaced the admin listing's index and dropped the others an older sessiond made again"
    );
    Ok(())
}

/// The recorded version (0 when none, or no table yet).
fn applied_version(conn: &Connection, component: Component) -> rusqlite::Result<i64> {
    let table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sessiond_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !table {
        return Ok(0);
    }
    conn.query_row(APPLIED_VERSION, [component.name()], |row| row.get(0))
}

/// The write transaction of [`migrate`]; the recorded version when it is too new.
fn apply(conn: &mut Connection, component: Component) -> rusqlite::Result<Option<i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(MIGRATIONS_TABLE)?;
    let mut applied = applied_version(&tx, component)?;
    if applied == 0 {
        applied = adopt_legacy(&tx, component)?;
    }
    if applied > component.known() {
        return Ok(Some(applied));
    }
    for migration in pending(component.migrations(), applied) {
        let started = Instant::now();
        tx.execute_batch(migration.sql)?;
        record(&tx, component, migration.version())?;
        tracing::info!(
            component = component.name(),
            migration = migration.name,
            took_ms = started.elapsed().as_millis() as u64,
            "applied a schema migration"
        );
    }
    tx.commit()?;
    Ok(None)
}

fn record(conn: &Connection, component: Component, version: i64) -> rusqlite::Result<()> {
    conn.execute(RECORD_VERSION, params![component.name(), version])?;
    Ok(())
}

/// The legacy path, for a file written before `sessiond_migrations` existed: the steps it
/// has, up to the first it lacks, are recorded as applied (once: the table then holds them),
/// and the migrations past them bring it to this build's schema as for any file. A new file
/// has none. Counting up to the first missing step re-applies what follows it, so a file in
/// which an older build made its index by user or its wide listing index again ends in this
/// build's shape all the same.
fn adopt_legacy(conn: &Connection, component: Component) -> rusqlite::Result<i64> {
    let mut version = 0;
    for step in component.legacy_steps() {
        if !conn.query_row(step, [], |row| row.get::<_, bool>(0))? {
            break;
        }
        version += 1;
        record(conn, component, version)?;
    }
    if version > 0 {
        tracing::info!(
            component = component.name(),
            version,
            "recorded the schema of a database of an older sessiond"
        );
    }
    Ok(version)
}
