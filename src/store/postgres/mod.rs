//! PostgreSQL: the directory for a multi-node setup, and sessions for a PostgreSQL-only one.
//! Pooled connections (deadpool), plain TCP (no TLS: run it on a private network or a local
//! socket proxy), migrations applied at start under an advisory lock so nodes may start together.

use super::migrations::{
    APPLIED_VERSION, MIGRATIONS_TABLE, Migration, POSTGRES_DIRECTORY, POSTGRES_SESSIONS,
    RECORD_VERSION, pending,
};
use super::sql::{
    ALARM_COLUMNS, API_TOKEN_COLUMNS, GROUP_COLUMNS, TOKEN_USE_WRITE_INTERVAL_MS, alarm_from_row,
    api_token_from_row, group_from_row,
};
use super::sql::{
    AUDIT_COLUMNS, AUDIT_INSERT_COLUMNS, SESSION_COLUMNS, SqlRow, SqlValue, USER_COLUMNS,
    USER_INSERT_COLUMNS, audit_from_row, new_user_values, placeholders, session_from_row,
    session_values, user_conflict, user_from_row,
};
use super::{
    AlarmStore, ApiTokenStore, AuditStore, CreateOutcome, Directory, DirectoryImport,
    FailureRecord, GroupStore, Imported, LockoutPolicy, Page, RememberToken, RememberTokenStore,
    SessionFilter, SessionLimit, SessionStore, StoreError, StoreResult, UserActivity, UserStore,
    bounded_for, take_param,
};
use crate::domain::alarm::Alarm;
use crate::domain::api_token::ApiToken;
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::domain::group::{Group, GroupGraph, GroupPath, GroupShare, NewGroup};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{NewUser, User, UserState};
use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures_util::future::try_join_all;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;
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
        .map_err(|e| format!("cannot migrate PostgreSQL {component} store: {e}"))?;
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

async fn migrate(
    pool: &Pool,
    component: &str,
    schema: Option<&str>,
    migrations: &'static [Migration],
) -> StoreResult<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // One node migrates at a time; the others wait here and then find nothing to do.
    tx.execute("SELECT pg_advisory_xact_lock(1936028531, 1)", &[])
        .await?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(MIGRATIONS_TABLE).await?;
    let applied: i32 = tx.query_one(APPLIED_VERSION, &[&component]).await?.get(0);
    for migration in pending(migrations, applied.into()) {
        tx.batch_execute(migration.sql).await?;
        let version = i32::try_from(migration.version()).expect("a migration's version fits i32");
        tx.execute(RECORD_VERSION, &[&component, &version]).await?;
    }
    tx.commit().await?;
    Ok(())
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
                StoreError::Conflict(error.to_string())
            }
            // The server's own message says more than the driver's "db error".
            _ => match error.as_db_error() {
                Some(db) => StoreError::Unavailable(format!("PostgreSQL: {db}")),
                None => StoreError::Unavailable(format!("PostgreSQL: {error}")),
            },
        }
    }
}

impl From<PoolError> for StoreError {
    fn from(error: PoolError) -> Self {
        StoreError::Unavailable(format!("PostgreSQL: {error}"))
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

fn sessions_from(rows: Vec<Row>) -> StoreResult<Vec<Session>> {
    rows.iter().map(session_from_row).collect()
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

/// [`PgDirectory::write_audit`]'s one statement, so one round trip and an implicit
/// transaction: the remember-me token ($12–$14, skipped when NULL) in a data-modifying
/// WITH, and any number of events, their order kept, from arrays ($1–$11): a group
/// revocation's thousands cost one insert, not one each.
static WRITE_AUDIT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH token AS (INSERT INTO remember_tokens (token_hash, user_id, expires_at) \
         SELECT $12::BYTEA, $13::BIGINT, $14::BIGINT WHERE $12::BYTEA IS NOT NULL) \
         INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) \
         SELECT {AUDIT_INSERT_COLUMNS} FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], \
         $4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], \
         $10::TEXT[], $11::BIGINT[]) WITH ORDINALITY AS e({AUDIT_INSERT_COLUMNS}, position) \
         ORDER BY position"
    )
});

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
                    placeholders('$', 14)
                ),
                &as_params(&session_values(session)),
            )
            .await?;
            tx.commit().await?;
            let kept = active.split_off(excess);
            Ok(CreateOutcome::created(
                active,
                kept.into_iter().map(|s| s.ip_address),
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
                    "UPDATE sessions SET ip_address = $2 WHERE id = $1",
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
        with_client(&self.pool, async |client| {
            let condition = "expires_at > $1 AND ($2::BIGINT IS NULL OR user_id = $2) \
                             AND ($3::TEXT IS NULL OR ip_address = $3)";
            let (limit, offset) = (i64::from(limit), offset as i64);
            let total: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM sessions WHERE {condition}"),
                    &[&now.0, &filter.user_id, &filter.ip_address],
                )
                .await?
                .try_get(0)?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions WHERE {condition} \
                         ORDER BY last_active_at DESC, id LIMIT $4 OFFSET $5"
                    ),
                    &[&now.0, &filter.user_id, &filter.ip_address, &limit, &offset],
                )
                .await?;
            Ok(Page {
                items: sessions_from(rows)?,
                total: total as u64,
            })
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        with_client(&self.pool, async |client| {
            Ok(client
                .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now.0])
                .await?)
        })
        .await
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

/// A uniqueness conflict reworded for people; other errors unchanged.
fn reword_conflict(message: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> StoreError {
    move |error| match error {
        StoreError::Conflict(_) => StoreError::Conflict(message()),
        other => other,
    }
}

async fn group_id(client: &impl GenericClient, path: &GroupPath) -> StoreResult<Option<i64>> {
    let row = client
        .query_opt("SELECT id FROM groups WHERE path = $1", &[&path.as_str()])
        .await?;
    row.map(|row| row.int(0)).transpose()
}

async fn insert_group(
    client: &impl GenericClient,
    group: &NewGroup,
    now: Timestamp,
) -> StoreResult<Group> {
    let parent_id = match group.path.parent() {
        None => None,
        Some(parent) => Some(group_id(client, &parent).await?.ok_or_else(|| {
            StoreError::Conflict(format!("the parent group '{parent}' does not exist"))
        })?),
    };
    let row = client
        .query_one(
            &format!(
                "INSERT INTO groups (parent_id, path, name, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING {GROUP_COLUMNS}"
            ),
            &[&parent_id, &group.path.as_str(), &group.name, &now.0],
        )
        .await
        .map_err(StoreError::from)
        .map_err(reword_conflict(|| {
            format!("the group '{}' already exists", group.path)
        }))?;
    group_from_row(&row)
}

const ADD_MEMBER: &str =
    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const ADD_SHARE: &str = "INSERT INTO group_shares (group_id, shared_with_id) VALUES ($1, $2) \
     ON CONFLICT DO NOTHING";

/// Runs `ADD_MEMBER` or `ADD_SHARE`; false if the pair was already there.
async fn insert_pair(
    client: &impl GenericClient,
    sql: &str,
    first: i64,
    second: i64,
) -> StoreResult<bool> {
    Ok(client.execute(sql, &[&first, &second]).await? == 1)
}

async fn insert_user(
    client: &impl GenericClient,
    user: &NewUser,
    now: Timestamp,
) -> StoreResult<User> {
    let row = client
        .query_one(
            &format!(
                "INSERT INTO users ({USER_INSERT_COLUMNS}) VALUES ({}) RETURNING {USER_COLUMNS}",
                placeholders('$', 9)
            ),
            &as_params(&new_user_values(user, now)),
        )
        .await
        .map_err(StoreError::from)
        .map_err(user_conflict)?;
    user_from_row(&row)
}

async fn ping(pool: &Pool) -> StoreResult<()> {
    with_client(pool, async |client| {
        client.batch_execute("SELECT 1").await?;
        Ok(())
    })
    .await
}

pub struct PgDirectory {
    pool: Pool,
}

impl PgDirectory {
    pub async fn open(url: &str) -> Result<Self, String> {
        Ok(PgDirectory {
            pool: open_pool(url, "directory", POSTGRES_DIRECTORY).await?,
        })
    }

    async fn user_where(
        &self,
        column: &'static str,
        value: &(dyn ToSql + Sync),
    ) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        optional_row(&self.pool, &sql, &[value], user_from_row).await
    }

    /// Appends audit events, and stores a remember-me token if given, all or nothing.
    async fn write_audit(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let texts = |field: fn(&AuditEvent) -> Option<&str>| -> Vec<Option<&str>> {
            events.iter().map(field).collect()
        };
        let at: Vec<i64> = events.iter().map(|e| e.at.0).collect();
        let kind = texts(|e| Some(e.kind.as_str()));
        let actor = texts(|e| Some(&e.actor));
        let subject: Vec<Option<i64>> = events.iter().map(|e| e.subject_user_id).collect();
        let username = texts(|e| e.subject_username.as_deref());
        let session = texts(|e| e.session_id.as_deref());
        let ip = texts(|e| e.ip_address.as_deref());
        let agent = texts(|e| e.user_agent.as_deref());
        let outcome = texts(|e| Some(e.outcome.as_str()));
        let reason = texts(|e| e.reason.as_deref());
        let count: Vec<Option<i64>> = events
            .iter()
            .map(|e| e.session_count.map(|n| n as i64))
            .collect();
        let token_hash = remember.map(|t| t.hash.0.as_slice());
        let token_user = remember.map(|t| t.user_id);
        let token_expiry = remember.map(|t| t.expires_at.0);
        with_client_for(&self.pool, events.len(), async |client| {
            let statement = client.prepare_cached(&WRITE_AUDIT).await?;
            let params: [&(dyn ToSql + Sync); 14] = [
                &at,
                &kind,
                &actor,
                &subject,
                &username,
                &session,
                &ip,
                &agent,
                &outcome,
                &reason,
                &count,
                &token_hash,
                &token_user,
                &token_expiry,
            ];
            client.execute(&statement, &params).await?;
            Ok(())
        })
        .await
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        with_client(&self.pool, async |client| {
            Ok(client.execute(sql, params).await?)
        })
        .await
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

    async fn set_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        self.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id, &hash],
        )
        .await
        .map(drop)
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

#[async_trait]
impl RememberTokenStore for PgDirectory {
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        self.write_audit(remember, events).await
    }

    async fn take_remember_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        with_client(&self.pool, async |client| {
            let row = client
                .query_opt(
                    "DELETE FROM remember_tokens WHERE token_hash = $1 \
                     RETURNING user_id, expires_at",
                    &[&hash.0.as_slice()],
                )
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok((row.int(1)? > now.0).then_some(row.int(0)?))
        })
        .await
    }

    async fn revoke_remember_tokens(&self, user_ids: &[i64]) -> StoreResult<u64> {
        with_client_for(&self.pool, user_ids.len(), async |client| {
            let sql = "DELETE FROM remember_tokens WHERE user_id = ANY($1)";
            Ok(client.execute(sql, &[&user_ids]).await?)
        })
        .await
    }

    async fn purge_expired_remember_tokens(&self, now: Timestamp) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM remember_tokens WHERE expires_at <= $1",
            &[&now.0],
        )
        .await
    }
}

#[async_trait]
impl AuditStore for PgDirectory {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        self.write_audit(None, events).await
    }

    async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AuditEvent>> {
        let kind = filter.kind.map(AuditKind::as_str);
        with_client(&self.pool, async |client| {
            let condition =
                "($1::BIGINT IS NULL OR subject_user_id = $1) AND ($2::TEXT IS NULL OR kind = $2)";
            let total: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM audit_events WHERE {condition}"),
                    &[&filter.user_id, &kind],
                )
                .await?
                .try_get(0)?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE {condition} \
                         ORDER BY id DESC LIMIT $3 OFFSET $4"
                    ),
                    &[&filter.user_id, &kind, &i64::from(limit), &(offset as i64)],
                )
                .await?;
            Ok(Page {
                items: rows
                    .iter()
                    .map(audit_from_row)
                    .collect::<StoreResult<_>>()?,
                total: total as u64,
            })
        })
        .await
    }
}

#[async_trait]
impl ApiTokenStore for PgDirectory {
    async fn create_api_token(
        &self,
        name: &str,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<ApiToken> {
        let sql = format!(
            "INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) \
             RETURNING {API_TOKEN_COLUMNS}"
        );
        with_client(&self.pool, async |client| {
            let row = client
                .query_one(&sql, &[&name, &hash.0.as_slice(), &now.0])
                .await?;
            api_token_from_row(&row)
        })
        .await
        .map_err(reword_conflict(|| {
            "an API token with this name already exists".into()
        }))
    }

    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<ApiToken>> {
        // Notes the use only when the last one is older than the write interval.
        let sql = format!(
            "WITH found AS (SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1), \
             noted AS (UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
                 AND (last_used_at IS NULL OR last_used_at <= $2::BIGINT - $3::BIGINT)) \
             SELECT {API_TOKEN_COLUMNS} FROM found"
        );
        optional_row(
            &self.pool,
            &sql,
            &[&hash.0.as_slice(), &now.0, &TOKEN_USE_WRITE_INTERVAL_MS],
            api_token_from_row,
        )
        .await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        all_rows(&self.pool, &sql, &[], api_token_from_row).await
    }

    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        let sql = format!("DELETE FROM api_tokens WHERE id = $1 RETURNING {API_TOKEN_COLUMNS}");
        optional_row(&self.pool, &sql, &[&id], api_token_from_row).await
    }
}

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

#[async_trait]
impl GroupStore for PgDirectory {
    async fn create_group(&self, group: &NewGroup, now: Timestamp) -> StoreResult<Group> {
        with_client(&self.pool, async |client| {
            insert_group(&client, group, now).await
        })
        .await
    }

    async fn group_graph(&self) -> StoreResult<GroupGraph> {
        with_client(&self.pool, async |mut client| {
            // One read-only snapshot, so groups and shares are of the same moment.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let groups = tx
                .query(
                    &format!("SELECT {GROUP_COLUMNS} FROM groups ORDER BY path"),
                    &[],
                )
                .await?
                .iter()
                .map(group_from_row)
                .collect::<StoreResult<_>>()?;
            let shares = tx
                .query(
                    "SELECT group_id, shared_with_id FROM group_shares \
                     ORDER BY group_id, shared_with_id",
                    &[],
                )
                .await?
                .iter()
                .map(|row| {
                    Ok(GroupShare {
                        group_id: row.int(0)?,
                        shared_with_id: row.int(1)?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            tx.commit().await?;
            Ok(GroupGraph { groups, shares })
        })
        .await
    }

    async fn add_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            insert_pair(&client, ADD_MEMBER, group_id, user_id).await
        })
        .await
    }

    async fn share_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            insert_pair(&client, ADD_SHARE, group_id, shared_with_id).await
        })
        .await
    }

    async fn direct_members(&self, group_ids: &[i64]) -> StoreResult<Vec<(i64, User)>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("users.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, group_members.group_id FROM group_members \
             JOIN users ON users.id = group_members.user_id \
             WHERE group_members.group_id = ANY($1) ORDER BY group_members.group_id, username"
        );
        all_rows(&self.pool, &sql, &[&group_ids], |row| {
            Ok((row.int(12)?, user_from_row(row)?))
        })
        .await
    }
}

#[async_trait]
impl Directory for PgDirectory {
    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Imported> {
        let items = import.users.len() + import.memberships.len();
        with_client_for(&self.pool, items, async |mut client| {
            let tx = client.transaction().await?;
            // Users and memberships are pipelined (sent without waiting for each answer), so
            // an import of thousands costs about one round trip per kind, not one per row.
            let mut imported = Imported {
                users: try_join_all(import.users.iter().map(|user| insert_user(&tx, user, now)))
                    .await?,
                ..Imported::default()
            };
            // Parents before children, so one at a time.
            for group in &import.groups {
                imported.groups.push(insert_group(&tx, group, now).await?);
            }
            let added = try_join_all(import.memberships.iter().map(async |(path, username)| {
                let group = group_id(&tx, path).await?.ok_or_else(|| {
                    StoreError::Conflict(format!("the group '{path}' does not exist"))
                })?;
                let user = tx
                    .query_opt(
                        "SELECT id FROM users WHERE username = $1",
                        &[&username.as_str()],
                    )
                    .await?
                    .ok_or_else(|| {
                        StoreError::Conflict(format!("the user '{username}' does not exist"))
                    })?
                    .int(0)?;
                let added = insert_pair(&tx, ADD_MEMBER, group, user).await?;
                Ok::<_, StoreError>(added.then(|| (path.clone(), user, username.clone())))
            }))
            .await?;
            imported.memberships = added.into_iter().flatten().collect();
            for (path, with) in &import.shares {
                let missing =
                    |p: &GroupPath| StoreError::Conflict(format!("the group '{p}' does not exist"));
                let group = group_id(&tx, path).await?.ok_or_else(|| missing(path))?;
                let other = group_id(&tx, with).await?.ok_or_else(|| missing(with))?;
                if insert_pair(&tx, ADD_SHARE, group, other).await? {
                    imported.shares.push((path.clone(), with.clone()));
                }
            }
            // Dropping the transaction without commit on any error above rolls it all back.
            tx.commit().await?;
            Ok(imported)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        ping(&self.pool).await
    }
}
