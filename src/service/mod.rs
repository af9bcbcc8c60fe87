//! Use cases over the stores. Every session, login and revocation rule lives here once,
//! whichever entry point (page, API, CLI) reaches it.

pub mod admin;
pub mod auth;
pub mod authenticated;
pub mod check_cache;
pub mod group_edits;
pub mod group_tree;
pub mod groups;
pub mod import;
pub mod login;
pub mod metrics;
pub mod passwords;
pub mod pending;
pub mod revocation_jobs;
pub mod revoke;
pub mod sessions;
pub mod throttle;
pub mod user_sessions;
pub mod users;

use crate::config::{OnLimit, Settings};
use crate::domain::audit::{AuditEvent, AuditFilter};
use crate::domain::session::Lifetimes;
use crate::domain::time::{Clock, Timestamp};
use crate::store::{
    Directory, FailureCounters, LockoutPolicy, Page, SessionLimit, SessionStore, StoreError, Stores,
};
use std::sync::Arc;
use std::time::Duration;

/// Why a use case did not happen, in terms a caller can map to a status or exit code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid login or password")]
    InvalidCredentials,
    #[error("too many failed logins; the account is locked, try again later")]
    Locked,
    #[error("this account is blocked")]
    Blocked,
    #[error("too many failed sign-ins; try again in {}", throttle::wait_text(*.0))]
    Throttled(Duration),
    #[error("the owner account cannot be {0}")]
    OwnerProtected(&'static str),
    #[error("you cannot block yourself")]
    CannotBlockSelf,
    #[error("you cannot delete yourself")]
    CannotDeleteSelf,
    #[error(
        "a deleted user had the username {0:?}, and the audit trail names them by it; confirm to give it to a new user"
    )]
    DeletedUsername(String),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password must differ from the current one")]
    SamePassword,
    #[error(transparent)]
    WeakPassword(crate::domain::password::PolicyViolation),
    #[error(
        "you already have {0} active sessions, the most allowed; sign out on another device or revoke one of your sessions, then try again"
    )]
    SessionLimit(u32),
    /// The right password at the session limit: the sign-in waits, as a pending sign-in
    /// whose token can end one of the user's sessions and then complete it.
    #[error(
        "you already have {max} active sessions, the most allowed; end one of them to sign in here"
    )]
    SignInHeld {
        max: u32,
        limit_token: crate::domain::token::SecretToken,
    },
    #[error("this sign-in has expired or was completed already; sign in again")]
    PendingSignInGone,
    #[error("this is the session you are using; to end it, log out instead")]
    CurrentSession,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// A browser restoring its tabs, or a page firing requests together, sends the same
/// remember-me token several times at once: the first renews it, and those arriving within
/// this time of that use are answered as signed out, as a spent token always was, without
/// ending the family as a replay by a thief does.
pub const REMEMBER_ME_REUSE_GRACE: Duration = Duration::from_secs(10);

/// The session and login rules from configuration, in the units the service uses.
#[derive(Debug, Clone)]
pub struct Policy {
    pub lifetimes: Lifetimes,
    pub limit: SessionLimit,
    pub activity_write_interval: Duration,
    pub remember_me_lifetime: Duration,
    /// How long after its use a remember-me token presented again is taken for a request
    /// the browser sent at once with the first, not for theft ([`REMEMBER_ME_REUSE_GRACE`]).
    pub remember_me_reuse_grace: Duration,
    pub password_min_length: usize,
    pub lockout: LockoutPolicy,
    pub throttle: throttle::ThrottlePolicy,
    pub ip_spread_threshold: u32,
    /// Tokens the session check remembers per process; 0 remembers none.
    pub check_cache_capacity: usize,
}

impl Policy {
    pub fn from_settings(settings: &Settings) -> Policy {
        let s = &settings.sessions;
        Policy {
            lifetimes: Lifetimes {
                idle_timeout: s.idle_timeout.0,
                absolute_lifetime: s.absolute_lifetime.0,
            },
            limit: SessionLimit {
                max_per_user: s.max_per_user,
                evict_oldest: s.on_limit == OnLimit::EvictOldest,
            },
            activity_write_interval: s.activity_write_interval(),
            remember_me_lifetime: s.remember_me_lifetime.0,
            remember_me_reuse_grace: REMEMBER_ME_REUSE_GRACE,
            password_min_length: settings.login.password_min_length,
            lockout: LockoutPolicy {
                threshold: settings.login.lockout_threshold,
                duration: settings.login.lockout_duration.0,
            },
            throttle: throttle::ThrottlePolicy::from_settings(&settings.login),
            ip_spread_threshold: settings.alarms.ip_spread_threshold,
            check_cache_capacity: s.check_cache_capacity,
        }
    }
}

/// Told how far long work has got, so a console can show it; every method may be a no-op,
/// and may wait for a store that keeps the progress for other nodes to show.
#[async_trait::async_trait]
pub trait Progress: Sync {
    /// `total` steps lie ahead.
    async fn begin(&self, _total: u64) {}
    /// `steps` more are done.
    async fn advance(&self, _steps: u64) {}
    async fn finish(&self) {}
}

/// For callers that show no progress, such as the HTTP API.
pub struct NoProgress;

#[async_trait::async_trait]
impl Progress for NoProgress {}

/// The application's use cases, over whichever stores the configuration chose.
pub struct Service {
    pub sessions: Arc<dyn SessionStore>,
    pub directory: Arc<dyn Directory>,
    /// Failed sign-ins by address, account and unknown name (see `throttle`).
    counters: Arc<dyn FailureCounters>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    pub metrics: metrics::Metrics,
    /// `None` when the session store keeps no stamps or the capacity is 0: then every check
    /// reads the stores.
    check_cache: Option<check_cache::CheckCache>,
    /// Sessions whose activity write a check of this process has under way, by token hash.
    activity_writes_under_way: auth::WritesUnderWay,
}

impl Service {
    pub fn new(stores: Stores, clock: Arc<dyn Clock>, policy: Policy) -> Self {
        let check_cache =
            (stores.sessions.keeps_stamps() && policy.check_cache_capacity > 0).then(|| {
                check_cache::CheckCache::new(
                    policy.check_cache_capacity,
                    policy.activity_write_interval,
                )
            });
        Service {
            sessions: stores.sessions,
            directory: stores.directory,
            counters: stores.counters,
            clock,
            policy,
            metrics: metrics::Metrics::default(),
            check_cache,
            activity_writes_under_way: Default::default(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Writes an audit event. A failure to audit fails the action that wanted it recorded.
    pub async fn audit(&self, event: AuditEvent) -> ServiceResult<()> {
        self.directory.append_audit(&[event]).await?;
        Ok(())
    }

    /// Marks what the session check remembers of the user as stale (see `check_cache`);
    /// call after every change to a user that the check answers or judges.
    pub async fn user_changed(&self, user_id: i64) -> ServiceResult<()> {
        self.sessions.invalidate_user(user_id).await?;
        Ok(())
    }

    /// The audit trail, newest first.
    pub async fn audit_trail(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<AuditEvent>> {
        Ok(self.directory.list_audit(filter, limit, offset).await?)
    }

    /// Removes expired sessions and remember-me tokens; how many of each.
    pub async fn purge_expired(&self) -> ServiceResult<(u64, u64)> {
        let now = self.now();
        let sessions = self.sessions.purge_expired(now).await?;
        let tokens = self.directory.purge_expired_remember_tokens(now).await?;
        Ok((sessions, tokens))
    }

    /// The Prometheus exposition of counters and store gauges.
    pub async fn metrics_text(&self) -> ServiceResult<String> {
        let now = self.now();
        let active = self
            .sessions
            .scan(&crate::store::SessionFilter::default(), now, 0, 0)
            .await?
            .total;
        let alarms = self.directory.list_alarms(true, 0, 0).await?.total;
        Ok(self.metrics.render(active, alarms))
    }

    /// The 256-bit key named `name` that every node sharing the directory uses, drawn at
    /// random by the first to ask.
    pub async fn server_key(&self, name: &str) -> ServiceResult<Vec<u8>> {
        let candidate = crate::domain::token::random_bytes::<32>();
        Ok(self.directory.server_key(name, &candidate).await?)
    }

    /// Whether both stores answer.
    pub async fn ready(&self) -> ServiceResult<()> {
        self.sessions.ping().await?;
        self.directory.ping().await?;
        Ok(())
    }
}
