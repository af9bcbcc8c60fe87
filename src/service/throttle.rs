//! Slowing password guessing down, apart from the lockout: failed sign-ins are counted per
//! client address and per account, and an attempt over either limit is refused before its
//! password is looked at. The same counters hold the lockouts that have no account row to
//! live in: those of login names that match no account, so that such a name answers
//! exactly as a real one does, and the owner's, which lock out only the address the
//! failures came from.

use super::login::login_shown;
use super::{Service, ServiceError, ServiceResult};
use crate::config::LoginSettings;
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::session::ClientInfo;
use crate::domain::token::TokenHash;
use crate::domain::user::User;
use crate::store::Tally;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// At most `failures` failed sign-ins within `window`; 0 failures sets no limit.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub failures: u32,
    pub window: Duration,
}

/// The limits on failed sign-ins.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Per client address, whichever accounts it tries.
    pub address: Limit,
    /// Per account, from whichever addresses.
    pub account: Limit,
}

impl ThrottlePolicy {
    pub fn from_settings(login: &LoginSettings) -> Self {
        ThrottlePolicy {
            address: Limit {
                failures: login.address_failures,
                window: login.address_window.0,
            },
            account: Limit {
                failures: login.account_failures,
                window: login.account_window.0,
            },
        }
    }
}

/// The counters one sign-in attempt is judged by and counted in, and what the audit trail
/// says of it should it take one over its limit.
#[derive(Debug)]
pub(super) struct AttemptKeys {
    /// `a:ADDRESS`; `None` when the client's address is unknown.
    address: Option<String>,
    /// `u:ID` for an account; `u:ID@ADDRESS` for the owner, whom failures from one address
    /// must not keep out of the others; `n:DIGEST` for a login name that matches no account
    /// ([`name_digest`]).
    account: String,
    /// `l:` and the account key: where a lockout that has no account row to live in is
    /// counted, the owner's (so per address) or an unknown name's.
    pub(super) lockout: String,
    /// The login name tried, as the audit trail shows it ([`login_shown`]).
    login: String,
    /// The account tried, by id and username.
    user: Option<(i64, String)>,
    client: ClientInfo,
}

impl AttemptKeys {
    /// The keys of an attempt at `user` (`None`: no account matches `login`) from `client`;
    /// `owner_unlocks`: how many times the owner was unlocked, when `user` is the owner.
    fn new(user: Option<&User>, login: &str, client: &ClientInfo, owner_unlocks: u32) -> Self {
        let address = &client.ip_address;
        let account = match user {
            // Failures counted before the owner's latest unlock stay under the keys before it.
            Some(user) if user.is_owner && owner_unlocks > 0 => {
                format!("u:{}#{owner_unlocks}@{address}", user.id)
            }
            Some(user) if user.is_owner => format!("u:{}@{address}", user.id),
            Some(user) => account_key(user.id),
            None => format!("n:{}", name_digest(login)),
        };
        AttemptKeys {
            address: (!address.is_empty()).then(|| format!("a:{address}")),
            lockout: format!("l:{account}"),
            account,
            login: login_shown(login),
            user: user.map(|user| (user.id, user.username.to_string())),
            client: client.clone(),
        }
    }

    /// Each counter with a limit: which one, its key and the limit.
    fn limited<'a>(
        &'a self,
        policy: &ThrottlePolicy,
    ) -> impl Iterator<Item = (Scope, &'a str, Limit)> {
        let address = self
            .address
            .as_deref()
            .map(|key| (Scope::Address, key, policy.address));
        let account = (Scope::Account, self.account.as_str(), policy.account);
        [address, Some(account)]
            .into_iter()
            .flatten()
            .filter(|(_, _, limit)| limit.failures > 0)
    }
}

/// Which limit a counter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Address,
    Account,
}

impl Scope {
    /// How the audit trail names the limit.
    fn name(self) -> &'static str {
        match self {
            Scope::Address => "per-address",
            Scope::Account => "per-account",
        }
    }
}

/// The key of an account's failures, except the owner's, which are counted per address.
fn account_key(user_id: i64) -> String {
    format!("u:{user_id}")
}

/// Where the owner's unlocks are counted. The owner's counters are kept per address, which
/// an unlock cannot list; it moves the owner on to new keys instead ([`AttemptKeys::new`]).
fn owner_unlocks_key(user_id: i64) -> String {
    format!("o:{user_id}")
}

/// How long the count of the owner's unlocks is kept after the latest: as good as for ever,
/// so that no count starts again at a number whose keys may still hold failures.
const OWNER_UNLOCKS_KEPT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A login name as the counters know it: the SHA-256 (hex) of its trimmed, lower-cased
/// form, so that a key's size is bounded whatever was typed, and a password typed into the
/// name field is never stored.
fn name_digest(login: &str) -> String {
    let digest = Sha256::digest(login.trim().to_lowercase().as_bytes());
    TokenHash(digest.into()).to_hex()
}

impl Service {
    /// The keys of an attempt at `user` (`None`: no account matches `login`) from `client`.
    pub(super) async fn attempt_keys(
        &self,
        user: Option<&User>,
        login: &str,
        client: &ClientInfo,
    ) -> ServiceResult<AttemptKeys> {
        let owner_unlocks = match user {
            Some(user) if user.is_owner => {
                let unlocks = self.counters.tally(&owner_unlocks_key(user.id)).await?;
                unlocks.map_or(0, |tally| tally.count)
            }
            _ => 0,
        };
        Ok(AttemptKeys::new(user, login, client, owner_unlocks))
    }

    /// Forgets the failures counted against `user` (an unlock): their account's throttle
    /// count, or the owner's per-address lockouts and throttle counts.
    pub(super) async fn forget_counted_failures(&self, user: &User) -> ServiceResult<()> {
        if user.is_owner {
            let key = owner_unlocks_key(user.id);
            self.counters
                .add_failure(&key, OWNER_UNLOCKS_KEPT, true)
                .await?;
            Ok(())
        } else {
            self.forget_failures(&account_key(user.id)).await
        }
    }

    /// Refuses an attempt whose address or account is over its limit, saying how long to wait.
    /// A refused attempt is counted too, so that the one taking a counter to its limit + 1
    /// (one only, on whichever node: the count says so) audits that it went over.
    pub(super) async fn check_throttle(&self, keys: &AttemptKeys) -> ServiceResult<()> {
        let mut wait = None;
        for (scope, key, limit) in keys.limited(&self.policy.throttle) {
            if let Some(tally) = self.counters.tally(key).await?
                && tally.count >= limit.failures
            {
                wait = wait.max(Some(tally.expires_in));
                self.count_against_limit(keys, scope, key, limit).await?;
            }
        }
        match wait {
            Some(wait) => Err(ServiceError::Throttled(wait)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against its address and its account.
    pub(super) async fn count_failed_attempt(&self, keys: &AttemptKeys) -> ServiceResult<()> {
        for (scope, key, limit) in keys.limited(&self.policy.throttle) {
            self.count_against_limit(keys, scope, key, limit).await?;
        }
        Ok(())
    }

    /// Counts one attempt under `key`, and audits `login_throttled` if this one took the
    /// count over the limit: once per window, however many attempts are refused after it.
    async fn count_against_limit(
        &self,
        keys: &AttemptKeys,
        scope: Scope,
        key: &str,
        limit: Limit,
    ) -> ServiceResult<()> {
        let tally = self.counters.add_failure(key, limit.window, false).await?;
        if tally.count != limit.failures.saturating_add(1) {
            return Ok(());
        }
        let address = &keys.client.ip_address;
        let actor = if address.is_empty() {
            "anonymous"
        } else {
            address
        };
        let mut event = AuditEvent::new(
            self.now(),
            AuditKind::LoginThrottled,
            actor,
            Outcome::Failure,
        )
        .client(&keys.client)
        .reason(format!(
            "over the {} limit of {} failed sign-ins in {}; login {}",
            scope.name(),
            limit.failures,
            wait_text(limit.window),
            keys.login
        ));
        if let (Scope::Account, Some((id, username))) = (scope, &keys.user) {
            event = event.subject(*id, username);
        }
        self.audit(event).await
    }

    /// Whether the lockout counted under `key` holds.
    pub(super) async fn counted_lockout_holds(&self, key: &str) -> ServiceResult<bool> {
        let tally = self.counters.tally(key).await?;
        Ok(tally.is_some_and(|t| t.count >= self.policy.lockout.threshold))
    }

    /// Counts one more consecutive failure towards the lockout under `key`, which, like an
    /// account's, lasts the lockout duration from the failure that locks; the tally when this
    /// one locked. Failures further apart than the lockout duration start the count afresh.
    pub(super) async fn count_towards_lockout(&self, key: &str) -> ServiceResult<Option<Tally>> {
        let lockout = self.policy.lockout;
        let tally = self
            .counters
            .add_failure(key, lockout.duration, true)
            .await?;
        Ok((tally.count >= lockout.threshold).then_some(tally))
    }

    /// Forgets the failures counted under `key`, after a successful sign-in or an unlock.
    pub(super) async fn forget_failures(&self, key: &str) -> ServiceResult<()> {
        Ok(self.counters.forget(key).await?)
    }
}

/// How long `wait` is, for people: whole seconds up to a minute and a half, else minutes,
/// always rounded up.
pub(super) fn wait_text(wait: Duration) -> String {
    match retry_after_seconds(wait) {
        1 => "1 second".to_owned(),
        seconds @ ..=90 => format!("{seconds} seconds"),
        seconds => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The whole seconds a `Retry-After` header gives for `wait`: rounded up, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_counted_by_a_digest_of_fixed_size() {
        assert_eq!(name_digest(" Alice "), name_digest("alice"));
        assert_ne!(name_digest("alice"), name_digest("bob"));
        assert_eq!(name_digest(&"x".repeat(10_000)).len(), 64);
    }

    #[test]
    fn waits_are_rounded_up() {
        assert_eq!(wait_text(Duration::from_millis(300)), "1 second");
        assert_eq!(wait_text(Duration::from_millis(44_100)), "45 seconds");
        assert_eq!(wait_text(Duration::from_secs(91)), "2 minutes");
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(2_001)), 3);
    }
}
