//! Signing in: throttling, the lockout, unknown names answered as real ones, the owner's
//! per-address lockout, and the password check.

use super::authenticated::NewSession;
use super::metrics::bump;
use super::throttle::AttemptKeys;
use super::users::hash_password;
use super::{Service, ServiceError, ServiceResult};
use crate::blocking::run_blocking;
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::password::{self, DUMMY_HASH, Match, Password};
use crate::domain::session::ClientInfo;
use crate::domain::user::{User, UserState};

/// A sign-in attempt as typed.
#[derive(Debug)]
pub struct LoginRequest {
    /// Username or e-mail address.
    pub login: String,
    pub password: Password,
    pub remember_me: bool,
    pub client: ClientInfo,
}

/// How much of a login name the audit trail keeps where it names no account: enough to see
/// what was tried, not a place to store whatever an attacker sends.
const LOGIN_SHOWN: usize = 64;

/// A login name as the audit trail shows one it cannot name by its account: trimmed, cut
/// to [`LOGIN_SHOWN`] characters and quoted as Rust writes strings, so control characters
/// and quotes show escaped.
pub(super) fn login_shown(login: &str) -> String {
    let tried: String = login.trim().chars().take(LOGIN_SHOWN).collect();
    format!("{tried:?}")
}

impl Service {
    /// Looks the login up by username, then by e-mail address.
    async fn user_for_login(&self, login: &str) -> ServiceResult<Option<User>> {
        let login = login.trim();
        // No username or e-mail address holds a control character, and PostgreSQL cannot
        // even be asked about text that holds NUL: such a login is unknown without a query.
        if login.chars().any(char::is_control) {
            return Ok(None);
        }
        if let Some(user) = self.directory.user_by_username(login).await? {
            return Ok(Some(user));
        }
        if login.contains('@') {
            return Ok(self.directory.user_by_email(login).await?);
        }
        Ok(None)
    }

    /// Checks credentials and opens a session. Unknown logins cost the same Argon2 work as
    /// wrong passwords and get the same answer.
    pub async fn login(&self, request: LoginRequest) -> ServiceResult<NewSession> {
        let result = self.try_login(request).await;
        let counter = if result.is_ok() {
            &self.metrics.logins_succeeded
        } else {
            &self.metrics.logins_failed
        };
        bump(counter);
        result
    }

    async fn try_login(&self, request: LoginRequest) -> ServiceResult<NewSession> {
        let user = self
            .user_for_login(&request.login)
            .await?
            .filter(|u| u.password_hash.is_some());
        let keys = self
            .attempt_keys(user.as_ref(), &request.login, &request.client)
            .await?;
        self.check_throttle(&keys).await?;
        let stored_hash = user
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let matched = verify_password(request.password.clone(), stored_hash).await;
        let result = match user {
            Some(user) => self.judge_login(user, matched, &request, &keys).await,
            None => self.refuse_unknown_login(&request, &keys).await,
        };
        if let Err(ServiceError::InvalidCredentials | ServiceError::Locked) = result {
            self.count_failed_attempt(&keys).await?;
        }
        result
    }

    /// A failed login's audit event; `reason` says why.
    fn login_failure(&self, request: &LoginRequest, reason: &str) -> AuditEvent {
        AuditEvent::new(
            self.now(),
            AuditKind::LoginFailure,
            "anonymous",
            Outcome::Failure,
        )
        .client(&request.client)
        .reason(reason)
    }

    /// A login name that matches no account answers as an account would: refused, and
    /// after the lockout threshold of failures locked, with nothing stored but a counter.
    async fn refuse_unknown_login(
        &self,
        request: &LoginRequest,
        keys: &AttemptKeys,
    ) -> ServiceResult<NewSession> {
        let locked = self.counted_lockout_holds(&keys.lockout).await?
            || self.count_towards_lockout(&keys.lockout).await?.is_some();
        let reason = format!("unknown login {}", login_shown(&request.login));
        self.audit(self.login_failure(request, &reason)).await?;
        Err(if locked {
            ServiceError::Locked
        } else {
            ServiceError::InvalidCredentials
        })
    }

    /// Signs `user` in if the password was right and nothing holds them back.
    async fn judge_login(
        &self,
        user: User,
        matched: Match,
        request: &LoginRequest,
        keys: &AttemptKeys,
    ) -> ServiceResult<NewSession> {
        let password_ok = matched != Match::No;
        let now = self.now();
        let (user_id, username) = (user.id, user.username.to_string());
        let failure = |reason: &str| {
            self.login_failure(request, reason)
                .subject(user_id, &username)
        };
        if self.lockout_holds(&user, keys).await? {
            self.audit(failure("account locked")).await?;
            return Err(ServiceError::Locked);
        }
        if !password_ok {
            self.audit(failure("wrong password")).await?;
            return Err(self
                .count_wrong_password(&user, &request.client, keys)
                .await?);
        }
        if user.state == UserState::Blocked {
            self.audit(failure("account blocked")).await?;
            return Err(ServiceError::Blocked);
        }
        if user.is_owner {
            self.forget_failures(&keys.lockout).await?;
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.directory.clear_login_failures(user.id).await?;
            self.user_changed(user.id).await?;
        }
        // A hash made before passwords were normalised: replaced while the password is known.
        if matched == Match::YesUnnormalized {
            let hash = hash_password(request.password.clone()).await?;
            self.directory
                .set_password_hash(user.id, &hash, user.must_change_password)
                .await?;
        }
        let (session, token) = self.new_session(&user, &request.client, request.remember_me);
        // Written with the remember-me token, in the same directory write.
        let success = AuditEvent::new(
            now,
            AuditKind::LoginSuccess,
            format!("user:{}", user.username),
            Outcome::Success,
        )
        .subject(user.id, user.username.as_str())
        .session(&session.id)
        .client(&request.client);
        let held = user.clone();
        match self
            .store_session(user, session, token, Some(success), None)
            .await
        {
            Err(ServiceError::SessionLimit(max)) => {
                self.audit(failure("session limit reached")).await?;
                let limit_token = self.hold_at_limit(&held, request.remember_me).await?;
                Err(ServiceError::SignInHeld { max, limit_token })
            }
            other => other,
        }
    }

    /// Whether `user` is locked out of trying a password from where `keys` say. The owner's
    /// lockout is counted per address, so that failures from one address never keep the
    /// owner out of the others.
    pub(super) async fn lockout_holds(
        &self,
        user: &User,
        keys: &AttemptKeys,
    ) -> ServiceResult<bool> {
        if user.is_owner {
            self.counted_lockout_holds(&keys.lockout).await
        } else {
            Ok(user.is_locked(self.now()))
        }
    }

    /// Counts a wrong password from `client` towards `user`'s lockout: the answer to give,
    /// `Locked` (and the lockout audited) when this failure locked.
    pub(super) async fn count_wrong_password(
        &self,
        user: &User,
        client: &ClientInfo,
        keys: &AttemptKeys,
    ) -> ServiceResult<ServiceError> {
        let now = self.now();
        let (failed_logins, locked_until, locked_out) = if user.is_owner {
            let tally = self.count_towards_lockout(&keys.lockout).await?;
            let until = tally.map(|tally| now.plus(tally.expires_in));
            (
                tally.map_or(0, |tally| tally.count),
                until,
                "this address is locked out",
            )
        } else {
            let record = self
                .directory
                .record_login_failure(user.id, self.policy.lockout, now)
                .await?;
            self.user_changed(user.id).await?;
            (record.failed_logins, record.locked_until, "locked")
        };
        let Some(until) = locked_until else {
            return Ok(ServiceError::InvalidCredentials);
        };
        let lockout = AuditEvent::new(now, AuditKind::Lockout, "system", Outcome::Success)
            .subject(user.id, user.username.as_str())
            .client(client)
            .reason(format!(
                "{failed_logins} consecutive failed logins; {locked_out} until {}",
                until.to_rfc3339()
            ));
        self.audit(lockout).await?;
        Ok(ServiceError::Locked)
    }
}

/// Argon2 verification, ~10 ms of CPU (twice for a password whose NFKC form differs and
/// does not match: see [`password::check`]).
pub(super) async fn verify_password(typed: Password, stored_hash: String) -> Match {
    run_blocking(move || password::check(&typed, &stored_hash))
        .await
        .unwrap_or(Match::No)
}
