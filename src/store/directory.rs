//! The directory's traits: users and their credentials, remember-me tokens, the audit trail,
//! admin API tokens, alarms and groups, each an ability a service asks for by itself, and
//! [`Directory`], every one of them in one backend; and the failure counters sign-in uses.

use super::{Page, RememberToken, StoreResult, TakenRememberToken};
use crate::domain::alarm::Alarm;
use crate::domain::api_token::ApiToken;
use crate::domain::audit::{AuditEvent, AuditFilter};
use crate::domain::group::{Group, GroupGraph, GroupPath, NewGroup};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{NewUser, User, UserState, UserUpdate, Username};
use async_trait::async_trait;
use std::time::Duration;

/// Outcome of recording a failed login against an existing account.
#[derive(Debug, Clone, Copy)]
pub struct FailureRecord {
    pub failed_logins: u32,
    /// Set when this failure locked the account.
    pub locked_until: Option<Timestamp>,
}

/// How lockout works: after `threshold` consecutive failures, for `duration`.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub duration: std::time::Duration,
}

impl LockoutPolicy {
    /// One more failure on an account with `failed` consecutive failures and `locked_until`:
    /// what to report, and the lock to store.
    pub fn next_failure(
        &self,
        failed: u32,
        locked_until: Option<Timestamp>,
        now: Timestamp,
    ) -> (FailureRecord, Option<Timestamp>) {
        let lock_expired = locked_until.is_some_and(|until| until <= now);
        let failed = if lock_expired { 1 } else { failed + 1 };
        let new_lock = (failed >= self.threshold).then(|| now.plus(self.duration));
        let stored = new_lock.or(if lock_expired { None } else { locked_until });
        let record = FailureRecord {
            failed_logins: failed,
            locked_until: new_lock,
        };
        (record, stored)
    }
}

/// A count of failures kept for a while: how many, and how long until it is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub count: u32,
    pub expires_in: Duration,
}

/// Failure counts by key, each forgotten a while after it began or after its last failure:
/// what sign-in throttling and the lockouts kept without an account row count with. Shared
/// by every node when sessions are kept in Redis, else kept by this process.
#[async_trait]
pub trait FailureCounters: Send + Sync {
    /// The tally under `key`, if one is kept.
    async fn tally(&self, key: &str) -> StoreResult<Option<Tally>>;
    /// Counts one more failure under `key`. A new tally is forgotten `ttl` after its first
    /// failure (a fixed window), or with `extend` `ttl` after its latest one.
    async fn add_failure(&self, key: &str, ttl: Duration, extend: bool) -> StoreResult<Tally>;
    /// Forgets the tally under `key`.
    async fn forget(&self, key: &str) -> StoreResult<()>;
}

/// Users, their credentials and lockout state.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// The users whose username, e-mail address or name starts with `prefix` in any case,
    /// ordered by id.
    async fn search_users(&self, prefix: &str) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<u64>;
    async fn set_user_state(&self, id: i64, state: UserState) -> StoreResult<()>;
    /// Replaces the password hash, and whether the user must choose another at sign-in.
    async fn set_password_hash(&self, id: i64, hash: &str, must_change: bool) -> StoreResult<()>;
    /// Changes what `update` names; the user as updated, `None` when there is none. A taken
    /// e-mail address is a `Conflict`.
    async fn update_user(&self, id: i64, update: &UserUpdate) -> StoreResult<Option<User>>;
    /// Deletes a user, with their remember-me tokens and memberships (the audit trail keeps
    /// its events), and records the username as one of a deleted user. The deleted user.
    async fn delete_user(&self, id: i64, now: Timestamp) -> StoreResult<Option<User>>;
    /// Whether a deleted user had this username.
    async fn username_was_deleted(&self, username: &str) -> StoreResult<bool>;
    /// Saves the language the user picked for the pages; `None` forgets it.
    async fn set_user_locale(&self, id: i64, locale: Option<&str>) -> StoreResult<()>;
    /// Counts one more consecutive failure, locking the account when it reaches the threshold.
    /// An expired lock starts the count afresh.
    async fn record_login_failure(
        &self,
        id: i64,
        policy: LockoutPolicy,
        now: Timestamp,
    ) -> StoreResult<FailureRecord>;
    /// Clears the failure count and any lock (on success or by an administrator).
    async fn clear_login_failures(&self, id: i64) -> StoreResult<()>;
}

/// Remember-me tokens, and what a sign-in writes with one.
#[async_trait]
pub trait RememberTokenStore: Send + Sync {
    /// What a login writes here, in one write (all or nothing): its remember-me token, if
    /// any, and its audit events.
    async fn record_login(
        &self,
        remember: Option<&RememberToken>,
        events: &[AuditEvent],
    ) -> StoreResult<()>;
    /// Marks an unexpired remember-me token used at `now` (each is good once) and says whose
    /// it is and when it had been used before; `None` when it is unknown or expired.
    async fn take_remember_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<TakenRememberToken>>;
    /// Deletes every token of a family, used or not; the ids of the sessions they opened.
    async fn delete_remember_family(&self, family_id: &str) -> StoreResult<Vec<String>>;
    /// Revokes every remember-me token of these users at once, used ones included; how many.
    async fn revoke_remember_tokens(&self, user_ids: &[i64]) -> StoreResult<u64>;
    /// Removes expired remember-me tokens, used ones included; how many.
    async fn purge_expired_remember_tokens(&self, now: Timestamp) -> StoreResult<u64>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends events in one write, so a bulk revocation's thousands cost one transaction.
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// Newest first.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AuditEvent>>;
}

/// Admin API tokens, by hash.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Stores a new admin API token (by hash); a duplicate name is a conflict.
    async fn create_api_token(
        &self,
        name: &str,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<ApiToken>;
    /// The token with this hash, noting its use (at most once a minute).
    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<ApiToken>>;
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// Deletes a token; the deleted token, if it existed.
    async fn delete_api_token(&self, id: i64) -> StoreResult<Option<ApiToken>>;
}

/// IP-spread alarms.
#[async_trait]
pub trait AlarmStore: Send + Sync {
    /// Records an IP spread for a user: updates the user's open alarm, or opens one.
    /// Returns the alarm and whether it was newly raised. At most one alarm per user is open.
    async fn record_ip_spread(
        &self,
        user_id: i64,
        username: &str,
        ip_addresses: &[String],
        now: Timestamp,
    ) -> StoreResult<(Alarm, bool)>;
    /// Alarms newest first; only open ones when `open_only`.
    async fn list_alarms(
        &self,
        open_only: bool,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Alarm>>;
    /// Closes an open alarm; the alarm, if it was open.
    async fn acknowledge_alarm(
        &self,
        id: i64,
        by: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Alarm>>;
}

/// Groups, sub-groups, memberships and shares.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Adds a group under the existing group at `group.path.parent()`; a taken path or a
    /// missing parent is a `Conflict`.
    async fn create_group(&self, group: &NewGroup, now: Timestamp) -> StoreResult<Group>;
    /// Every group (ordered by path) and every share.
    async fn group_graph(&self) -> StoreResult<GroupGraph>;
    /// Makes a user a direct member; false if they already were.
    async fn add_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool>;
    /// Ends a direct membership; false if there was none.
    async fn remove_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool>;
    /// Shares `group_id` with `shared_with_id`; false if it already was.
    async fn share_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool>;
    /// Ends a share; false if there was none.
    async fn unshare_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool>;
    /// The direct memberships of these groups, as (group id, member) pairs.
    async fn direct_members(&self, group_ids: &[i64]) -> StoreResult<Vec<(i64, User)>>;
}

/// The directory: every ability above in one backend, plus what spans them.
#[async_trait]
pub trait Directory:
    UserStore + RememberTokenStore + AuditStore + ApiTokenStore + AlarmStore + GroupStore
{
    /// Applies a checked import in one transaction: all of it, or on any error nothing.
    /// Returns the users created.
    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Imported>;
    /// The key named `name` that every node sharing this directory uses: `candidate` becomes
    /// it when there is none yet, else the stored one is kept.
    async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;
    async fn ping(&self) -> StoreResult<()>;
}

/// Users, groups, memberships and shares to add at once. Groups come parents first;
/// memberships and shares name users and groups that exist or are added before them.
#[derive(Debug, Clone, Default)]
pub struct DirectoryImport {
    pub users: Vec<NewUser>,
    pub groups: Vec<NewGroup>,
    pub memberships: Vec<(GroupPath, Username)>,
    /// (group, shared with)
    pub shares: Vec<(GroupPath, GroupPath)>,
}

/// What an import wrote.
#[derive(Debug, Default)]
pub struct Imported {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// The memberships it added (not those that already existed): group, user id, username.
    pub memberships: Vec<(GroupPath, i64, Username)>,
    /// The shares it added: group, shared with.
    pub shares: Vec<(GroupPath, GroupPath)>,
}
