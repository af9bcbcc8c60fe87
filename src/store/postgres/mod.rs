//! PostgreSQL: the directory for a multi-node setup, and sessions for a PostgreSQL-only one.
//! Pooled connections (deadpool), plain TCP (no TLS: run it on a private network or a local
//! socket proxy), migrations applied at start under an advisory lock so nodes may start together.
//! This file opens the pool and maps errors and values; each store's queries have a file of
//! their own, the directory's one per ability trait.

mod alarms;
mod api_tokens;
mod audit;
mod groups;
mod import;
mod migrate;
mod pending;
mod remember;
mod revocation_jobs;
mod sessions;
mod users;

pub use sessions::PgSessionStore;

use super::migrations::{Migration, POSTGRES_DIRECTORY};
use super::sql::{SqlRow, SqlValue};
use super::{StoreError, StoreResult, bounded_for, take_param};
use bytes::BytesMut;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use migrate::migrate;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Row};

/// How long opening a connection or waiting for a pooled one may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const POOL_SIZE: usize = 16;

/// A pool for `postgres://USER@HOST:PORT/DB[?schema=NAME&…]`, with its migrations applied.
/// `schema` (ours, not libpq's) puts every table in that schema, created when missing.
async fn open_pool(
    url: &str,
    component: &str,
    migrations: &'static [Migration],
) -> Result<Pool, String> {
    let (config_url, schema) = take_param(
        url,
        "schema",
        |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_',
        "lowercase letters, digits and '_'",
    )?;
    let mut config = tokio_postgres::Config::from_str(&config_url)
        .map_err(|e| format!("bad PostgreSQL URL {url:?}: {e}"))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    if let Some(schema) = &schema {
        config.options(with_search_path(config.get_options(), schema));
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| format!("cannot set up the PostgreSQL pool: {e}"))?;
    migrate(&pool, component, schema.as_deref(), migrations)
        .await
        .map_err(|e| format!("cannot open the PostgreSQL {component} store: {e}"))?;
    Ok(pool)
}

/// The server options for `schema`: the URL's own `options` (setting them replaces them),
/// then the search path, last so that it wins over any `search_path` among them.
fn with_search_path(given: Option<&str>, schema: &str) -> String {
    let search_path = format!("-c search_path={schema}");
    match given {
        Some(given) if !given.trim().is_empty() => format!("{given} {search_path}"),
        _ => search_path,
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
                StoreError::Conflict(error.to_string())
            }
            _ => StoreError::Unavailable(format!("PostgreSQL: {}", cause(&error))),
        }
    }
}

/// What went wrong, in full: the server's own message rather than the driver's "db
/// error", and the reason a connection failed ("Connection refused") after the driver's
/// "error connecting to server".
fn cause(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.to_string();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

impl From<PoolError> for StoreError {
    fn from(error: PoolError) -> Self {
        match error {
            PoolError::Backend(error) => error.into(),
            other => StoreError::Unavailable(format!("PostgreSQL: {other}")),
        }
    }
}

impl SqlRow for Row {
    type Error = StoreError;
    fn int(&self, i: usize) -> StoreResult<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        Ok(self.try_get(i)?)
    }
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(i)?)
    }
    fn invalid(i: usize, what: String) -> StoreError {
        StoreError::Unavailable(format!("PostgreSQL: bad value in column {i}: {what}"))
    }
}

impl ToSql for SqlValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            SqlValue::Int(v) => v.to_sql(ty, out),
            SqlValue::Text(v) => v.to_sql(ty, out),
            SqlValue::Bytes(v) => v.to_sql(ty, out),
            SqlValue::Flag(v) => v.to_sql(ty, out),
            SqlValue::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    // Each variant checks the column type itself, as its inner type would.
    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            SqlValue::Int(v) => v.to_sql_checked(ty, out),
            SqlValue::Text(v) => v.to_sql_checked(ty, out),
            SqlValue::Bytes(v) => v.to_sql_checked(ty, out),
            SqlValue::Flag(v) => v.to_sql_checked(ty, out),
            SqlValue::Null => Ok(IsNull::Yes),
        }
    }
}

fn as_params<'a>(values: &'a [SqlValue<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// The row `sql` (a query by a unique key) returns, if any, mapped by `map`.
async fn optional_row<T>(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    map: fn(&Row) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    Ok(all_rows(pool, sql, params, map).await?.into_iter().next())
}

/// Every row `sql` returns, mapped by `map`.
async fn all_rows<T>(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    map: fn(&Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    with_client(pool, async |client| {
        // Prepared once per connection: a plain string costs a parse round trip every call.
        let statement = client.prepare_cached(sql).await?;
        client
            .query(&statement, params)
            .await?
            .iter()
            .map(map)
            .collect()
    })
    .await
}

/// Runs `work` on a pooled connection within the store's time bound.
async fn with_client<T, F>(pool: &Pool, work: F) -> StoreResult<T>
where
    F: AsyncFnOnce(Object) -> StoreResult<T>,
{
    with_client_for(pool, 0, work).await
}

/// Like [`with_client`] for bulk work over `items` items, which gets time in proportion.
async fn with_client_for<T, F>(pool: &Pool, items: usize, work: F) -> StoreResult<T>
where
    F: AsyncFnOnce(Object) -> StoreResult<T>,
{
    bounded_for(items, async {
        let client = pool.get().await?;
        work(client).await
    })
    .await
}

/// A uniqueness conflict reworded for people; other errors unchanged.
fn reword_conflict(message: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> StoreError {
    move |error| match error {
        StoreError::Conflict(_) => StoreError::Conflict(message()),
        other => other,
    }
}

async fn ping(pool: &Pool) -> StoreResult<()> {
    with_client(pool, async |client| {
        client.batch_execute("SELECT 1").await?;
        Ok(())
    })
    .await
}

/// The directory in one pool; each ability trait is implemented in a file of its own.
pub struct PgDirectory {
    pool: Pool,
}

impl PgDirectory {
    pub async fn open(url: &str) -> Result<Self, String> {
        Ok(PgDirectory {
            pool: open_pool(url, "directory", POSTGRES_DIRECTORY).await?,
        })
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        with_client(&self.pool, async |client| {
            Ok(client.execute(sql, params).await?)
        })
        .await
    }
}
