//! The two stores the service runs on, as small traits with one implementation per backend.
//!
//! `SessionStore` holds sessions; `Directory` holds users, lockout state, remember-me
//! tokens and the audit trail. Operations are the ones the domain needs, shaped so that a
//! key-value backend (Redis) can implement them without a query language.

mod directory;
mod memory_counters;
mod migrations;
pub mod postgres;
pub mod redis;
pub mod sql;
pub mod sqlite;
mod stamp_file;

use crate::domain::address_filter::AddressFilter;
use crate::domain::pending::PendingSignIn;
use crate::domain::revocation_job::RevocationJob;
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

pub use directory::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or failed; callers fail closed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (e.g. a username already taken).
    #[error("{0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How many sessions a user may hold and what to do with one more.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimit {
    pub max_per_user: u32,
    /// Evict the least recently active session instead of refusing the new one.
    pub evict_oldest: bool,
}

impl SessionLimit {
    /// How many of a user's `active` sessions (least recently active first) must go before one
    /// more fits; `None` when the new one is refused instead.
    pub fn excess(&self, active: usize) -> Option<usize> {
        let max = self.max_per_user.max(1) as usize;
        if active < max {
            Some(0)
        } else {
            self.evict_oldest.then_some(active + 1 - max)
        }
    }
}

/// What `create` did: the sessions evicted to make room, or a refusal.
#[derive(Debug)]
pub enum CreateOutcome {
    Created {
        evicted: Vec<Session>,
        /// The distinct, non-empty addresses of the user's unexpired sessions after the
        /// insert, the new one's included: the IP-spread check needs no second read.
        addresses: BTreeSet<String>,
    },
    LimitReached,
}

impl CreateOutcome {
    /// `Created`, with the addresses of the sessions kept (`kept`: each one's first and last)
    /// and of the `new` one.
    pub fn created(
        evicted: Vec<Session>,
        kept: impl IntoIterator<Item = String>,
        new: &Session,
    ) -> CreateOutcome {
        let addresses = kept
            .into_iter()
            .filter(|ip| !ip.is_empty())
            .chain(new.addresses().map(str::to_owned))
            .collect();
        CreateOutcome::Created { evicted, addresses }
    }
}

/// A remember-me token to store: only its hash, whose it is, its family, the session it
/// opened and until when.
#[derive(Debug, Clone)]
pub struct RememberToken {
    pub hash: TokenHash,
    pub user_id: i64,
    /// The chain of renewals it belongs to: a sign-in starts one, and the token a renewal
    /// issues joins the family of the token it replaces.
    pub family_id: String,
    /// The session opened with it: the sign-in's, or the renewal's.
    pub session_id: String,
    /// Storing it extends its whole family to this time.
    pub expires_at: Timestamp,
}

/// A presented remember-me token, as [`RememberTokenStore::take_remember_token`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenRememberToken {
    pub user_id: i64,
    pub family_id: String,
    /// When it was first used, if this is not its first use: a copy of a token already
    /// rotated is being presented.
    pub used_at: Option<Timestamp>,
}

/// A page of results with the total before paging.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Sorts a user's sessions in the order of [`SessionStore::list_by_user`] on every backend:
/// most recently active first, then the newest.
pub fn sort_for_user(sessions: &mut [Session]) {
    sessions.sort_by_key(|s| std::cmp::Reverse((s.last_active_at, s.created_at)));
}

impl Page<Session> {
    /// A page of `sessions` in the admin listing's order on every backend: newest activity
    /// first, then by id. For listings gathered whole before paging.
    pub fn of_listing(mut sessions: Vec<Session>, limit: u32, offset: u64) -> Self {
        sessions.sort_by(|a, b| {
            b.last_active_at
                .cmp(&a.last_active_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let total = sessions.len() as u64;
        let items = sessions
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Page { items, total }
    }
}

/// A user's unexpired sessions in brief ([`SessionStore::activity_by_users`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserActivity {
    pub sessions: u64,
    pub last_active_at: Timestamp,
}

impl UserActivity {
    /// Just the session counts of [`SessionStore::activity_by_users`].
    pub fn counts(activity: BTreeMap<i64, UserActivity>) -> BTreeMap<i64, u64> {
        activity
            .into_iter()
            .map(|(user, found)| (user, found.sessions))
            .collect()
    }
}

/// A session ended for `reason`, remembered by its token hash until `until` (when it would
/// have expired anyway): what the sign-in page tells the browser still holding its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    pub token_hash: TokenHash,
    pub reason: EndReason,
    pub until: Timestamp,
}

impl EndedSession {
    pub fn of(session: &Session, reason: EndReason) -> EndedSession {
        EndedSession {
            token_hash: session.token_hash,
            reason,
            until: session.absolute_expires_at,
        }
    }
}

/// Which sessions an admin listing wants.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only these users' sessions; `None`: everybody's.
    pub users: Option<Vec<i64>>,
    /// Only sessions created from, or last used from, a matching address.
    pub address: Option<AddressFilter>,
}

impl SessionFilter {
    /// Only `user_id`'s sessions.
    pub fn user(user_id: i64) -> SessionFilter {
        SessionFilter {
            users: Some(vec![user_id]),
            address: None,
        }
    }

    /// Whether `session` passes the address filter (the users are for the store to pick).
    pub fn admits(&self, session: &Session) -> bool {
        self.address
            .as_ref()
            .is_none_or(|address| address.matches_session(session))
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session, deciding the per-user limit atomically with the insert.
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome>;
    /// The session with this token hash, expired or not (the caller judges expiry).
    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>>;
    /// Records activity: new last-active time and the expiry that follows from it.
    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Records that the session is now used from another address: its `last_ip_address`
    /// (the address it was created from stays).
    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()>;
    /// A user's unexpired sessions, most recently active first.
    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>>;
    /// Deletes one session by public id; the deleted session, if it existed.
    async fn delete(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Deletes all of a user's sessions; how many unexpired ones there were.
    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64>;
    /// How many unexpired sessions each of these users has, and the latest activity among
    /// them; users with none are left out.
    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>>;
    /// Deletes all sessions of these users; how many unexpired ones each had (none: left out).
    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>>;
    /// Unexpired sessions, paged, newest activity first.
    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>>;
    /// Removes expired sessions (and the [`EndedSession`] records past their time); how many
    /// sessions.
    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64>;
    /// Remembers why these sessions ended, each until its `until`; a later record of the same
    /// session replaces an earlier one.
    async fn record_ended(&self, ended: &[EndedSession]) -> StoreResult<()>;
    /// Why the session with this token hash ended, while that is remembered (until its
    /// record's `until`, as of `now`). Asked only of a session no longer found.
    async fn ended_reason(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<EndReason>>;
    /// Keeps a pending sign-in under its token's hash until its `expires_at`.
    async fn put_pending_sign_in(
        &self,
        hash: &TokenHash,
        pending: &PendingSignIn,
    ) -> StoreResult<()>;
    /// The unexpired pending sign-in under this hash.
    async fn pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>>;
    /// Takes the unexpired pending sign-in under this hash: deletes it and returns it, so
    /// each is completed once, also by racing requests on different nodes.
    async fn take_pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>>;
    /// Keeps the group revocation job `id` (a new one, or a later state of it) until its
    /// `expires_at`, so that every node can show it.
    async fn put_revocation_job(&self, id: &str, job: &RevocationJob) -> StoreResult<()>;
    /// The unexpired group revocation job `id`.
    async fn revocation_job(&self, id: &str, now: Timestamp) -> StoreResult<Option<RevocationJob>>;
    /// Whether the backend answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Whether [`SessionStore::user_stamp`] gives stamps at all.
    fn keeps_stamps(&self) -> bool {
        false
    }
    /// A value that changes whenever one of the user's sessions is deleted or records a new
    /// address, and whenever [`SessionStore::invalidate_user`] is called for the user: what
    /// the session check remembers of a user is good only while this is unchanged (see
    /// `service::check_cache`). `None` when there is none (a store that keeps no stamps, or a
    /// user without one yet); then nothing of the user's is remembered.
    async fn user_stamp(&self, _user_id: i64) -> StoreResult<Option<u64>> {
        Ok(None)
    }
    /// Changes the user's stamp: something the check answers about the user has changed.
    async fn invalidate_user(&self, _user_id: i64) -> StoreResult<()> {
        Ok(())
    }
    /// This process checks no more sessions: gives up what it holds for answering from
    /// memory (a Redis lease), so that no writer waits for it.
    async fn leave(&self) {}
}

/// A revocation job as a store keeps it ([`RevocationJob::encode`]); one no build wrote is a
/// store failure.
fn decode_revocation_job(text: &str) -> StoreResult<RevocationJob> {
    RevocationJob::decode(text)
        .ok_or_else(|| StoreError::Unavailable(format!("unreadable revocation job {text:?}")))
}

/// A new value for a user's stamp ([`SessionStore::user_stamp`]): random, so no two writers,
/// whatever their process or node, can agree on one a reader has seen.
fn fresh_stamp() -> u64 {
    u64::from_ne_bytes(crate::domain::token::random_bytes())
}

/// Longest any one call to a networked store may take, so a stalled backend answers 503
/// instead of holding the request (and the forward-auth check behind it) open.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// What a bulk operation may take per item it handles, on top of [`OPERATION_TIMEOUT`].
pub const PER_ITEM_TIMEOUT: Duration = Duration::from_millis(1);

/// Runs one store operation within [`OPERATION_TIMEOUT`].
pub async fn bounded<T>(work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    bounded_for(0, work).await
}

/// Runs an operation over `items` items (users imported, sessions revoked) within
/// [`OPERATION_TIMEOUT`] plus [`PER_ITEM_TIMEOUT`] each, so bulk work gets time to match.
pub async fn bounded_for<T>(
    items: usize,
    work: impl Future<Output = StoreResult<T>>,
) -> StoreResult<T> {
    let limit = OPERATION_TIMEOUT + PER_ITEM_TIMEOUT * u32::try_from(items).unwrap_or(u32::MAX);
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!(
            "no answer within {limit:?}"
        )))
    })
}

/// How much sooner than its caller gives up a write must have reached a store to take effect:
/// time for the answer to come back, and for the store's clock to run ahead of this one.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// When an operation of several store calls, begun at [`Deadline::start`], must have
/// answered: [`OPERATION_TIMEOUT`] later, end to end.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(tokio::time::Instant);

impl Deadline {
    pub fn start() -> Deadline {
        Deadline(tokio::time::Instant::now() + OPERATION_TIMEOUT)
    }

    /// Runs `work` until the deadline; after it, `Unavailable`.
    pub async fn bound<T>(self, work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        tokio::time::timeout_at(self.0, work)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "no answer within {OPERATION_TIMEOUT:?}"
                )))
            })
    }

    /// The latest time, in milliseconds since the epoch by this machine's clock, at which a
    /// write sent now may still take effect: [`DEADLINE_MARGIN`] before the deadline. A store
    /// that gets the write later refuses it, so a write reported as failed for want of an
    /// answer never happens afterwards (with clocks within the margin of each other).
    pub fn write_by_millis(self) -> i64 {
        let left = self
            .0
            .saturating_duration_since(tokio::time::Instant::now())
            .saturating_sub(DEADLINE_MARGIN);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from((now + left).as_millis()).unwrap_or(i64::MAX)
    }
}

/// For tests only: with `SESSIOND_TEST_PAUSE_AFTER` set to `point`, says so on stderr
/// (`paused after POINT`) and waits for ever there, so that a test can kill the process at
/// that very step. Unset, as it always is outside the tests, it does nothing.
pub(crate) async fn pause_point(point: &str) {
    if std::env::var("SESSIOND_TEST_PAUSE_AFTER").is_ok_and(|at| at == point) {
        eprintln!("paused after {point}");
        std::future::pending::<()>().await;
    }
}

/// For tests only: with `SESSIOND_TEST_HOLD_AFTER` set to `point`, says so on stderr (`held
/// after POINT`) and goes on once a line (or the end) arrives on standard input, so that a
/// test can make a store fail at that very step. Unset, it does nothing.
pub(crate) async fn hold_point(point: &str) {
    if std::env::var("SESSIOND_TEST_HOLD_AFTER").is_ok_and(|at| at == point) {
        eprintln!("held after {point}");
        let read = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new()));
        let _ = read.await;
    }
}

/// The stores named by the configuration, opened and migrated.
pub struct Stores {
    pub sessions: Arc<dyn SessionStore>,
    pub directory: Arc<dyn Directory>,
    pub counters: Arc<dyn FailureCounters>,
}

/// Opens the backends named by `storage.sessions` and `storage.directory` (see README). An
/// error is one line that names the setting.
pub async fn open(settings: &crate::config::StorageSettings) -> Result<Stores, String> {
    let sessions_setting = "storage.sessions";
    let directory_setting = "storage.directory";
    // Both read before either is opened, so a mistyped one costs nothing.
    let sessions_backend = Backend::parse(&settings.sessions, sessions_setting)?;
    let directory_backend = Backend::parse(&settings.directory, directory_setting)?;
    let in_sessions = |e: String| format!("{sessions_setting}: {e}");
    let in_process = || Arc::new(memory_counters::MemoryCounters::default());
    let (sessions, counters): (Arc<dyn SessionStore>, Arc<dyn FailureCounters>) =
        match sessions_backend {
            Backend::Sqlite(path) => (
                Arc::new(sqlite::SqliteSessionStore::open(path).map_err(in_sessions)?),
                in_process(),
            ),
            Backend::Postgres(url) => (
                Arc::new(
                    postgres::PgSessionStore::open(url)
                        .await
                        .map_err(in_sessions)?,
                ),
                in_process(),
            ),
            Backend::Redis(url) => redis::open_with_counters(url).await.map_err(in_sessions)?,
        };
    let in_directory = |e: String| format!("{directory_setting}: {e}");
    let directory: Arc<dyn Directory> = match directory_backend {
        Backend::Sqlite(path) => {
            Arc::new(sqlite::SqliteDirectory::open(path).map_err(in_directory)?)
        }
        Backend::Postgres(url) => Arc::new(
            postgres::PgDirectory::open(url)
                .await
                .map_err(in_directory)?,
        ),
        Backend::Redis(_) => {
            return Err(format!(
                "{directory_setting} = {:?}: Redis holds sessions only; use sqlite://PATH or postgres://...",
                settings.directory
            ));
        }
    };
    Ok(Stores {
        sessions,
        directory,
        counters,
    })
}

/// Refuses storage settings that name a SQLite file not there yet, naming the path looked
/// for: only `serve` creates a store, so that a command run in the wrong directory, or with
/// the wrong configuration, does not leave an empty one behind.
pub fn require_existing(settings: &crate::config::StorageSettings) -> Result<(), String> {
    for (setting, url) in [
        ("storage.sessions", &settings.sessions),
        ("storage.directory", &settings.directory),
    ] {
        if let Ok(Backend::Sqlite(path)) = Backend::parse(url, setting) {
            let path = std::path::Path::new(path);
            if !path.exists() {
                let looked_for = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
                return Err(format!(
                    "no store at {} ({setting}); `sessiond serve` creates it, or point {setting} \
                     or --config at the existing one",
                    looked_for.display()
                ));
            }
        }
    }
    Ok(())
}

/// Takes our own `name=VALUE` parameter out of a storage URL; the rest is for the driver.
/// VALUE must be non-empty and made of bytes `allowed` accepts (`allowed_text` says which).
fn take_param(
    url: &str,
    name: &str,
    allowed: impl Fn(u8) -> bool,
    allowed_text: &str,
) -> Result<(String, Option<String>), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut value = None;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((key, v)) if key == name => value = Some(v.to_owned()),
            _ => rest.push(pair),
        }
    }
    if let Some(v) = &value
        && (v.is_empty() || !v.bytes().all(&allowed))
    {
        return Err(format!("{name}={v:?} in {url:?}: use {allowed_text}"));
    }
    let base = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((base, value))
}

/// A storage URL, recognised by its scheme.
enum Backend<'a> {
    Sqlite(&'a str),
    Postgres(&'a str),
    Redis(&'a str),
}

impl<'a> Backend<'a> {
    fn parse(url: &'a str, setting: &str) -> Result<Backend<'a>, String> {
        if let Some(path) = url.strip_prefix("sqlite://").filter(|p| !p.is_empty()) {
            Ok(Backend::Sqlite(path))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(url))
        } else if url.starts_with("redis://") || url.starts_with("redis+cluster://") {
            Ok(Backend::Redis(url))
        } else {
            Err(format!(
                "{setting} = {url:?} is not supported; use sqlite://PATH, postgres://USER@HOST/DB, \
                 redis://HOST:PORT/DB or redis+cluster://HOST:PORT,HOST:PORT"
            ))
        }
    }
}
