//! A signed-in user changing their own password: the current one is asked for and counts
//! towards throttling and the lockout as a sign-in would; the new one ends every other
//! session and every remember-me login.

use super::login::verify_password;
use super::revoke::Ending;
use super::users::hash_password;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::password::{self, Match, Password};
use crate::domain::session::{ClientInfo, EndReason, Session};

/// A password change as typed.
#[derive(Debug)]
pub struct ChangePassword {
    pub current: Password,
    pub new: Password,
}

impl Service {
    /// Changes the password of `session`'s user, keeping `session` and ending their other
    /// sessions and every remember-me login; how many sessions ended. Clears a pending
    /// change asked by a password reset.
    pub async fn change_password(
        &self,
        session: &Session,
        change: ChangePassword,
        client: &ClientInfo,
    ) -> ServiceResult<u64> {
        let user = self.user(session.user_id).await?;
        let actor = Actor::user(&user, client);
        let keys = self
            .attempt_keys(Some(&user), user.username.as_str(), client)
            .await?;
        self.check_throttle(&keys).await?;
        let failure = |reason: &str| {
            AuditEvent::by(
                self.now(),
                AuditKind::PasswordChanged,
                &actor,
                Outcome::Failure,
            )
            .subject(user.id, user.username.as_str())
            .session(&session.id)
            .reason(reason)
        };
        if self.lockout_holds(&user, &keys).await? {
            self.audit(failure("account locked")).await?;
            return Err(ServiceError::Locked);
        }
        let stored = user.password_hash.clone().unwrap_or_default();
        if verify_password(change.current, stored.clone()).await == Match::No {
            self.audit(failure("wrong current password")).await?;
            let answer = match self.count_wrong_password(&user, client, &keys).await? {
                ServiceError::Locked => ServiceError::Locked,
                _ => ServiceError::WrongPassword,
            };
            self.count_failed_attempt(&keys).await?;
            return Err(answer);
        }
        password::check_policy_for(
            &change.new,
            self.policy.password_min_length,
            user.username.as_str(),
        )
        .map_err(|violation| ServiceError::BadInput(violation.to_string()))?;
        if verify_password(change.new.clone(), stored).await != Match::No {
            return Err(ServiceError::SamePassword);
        }
        let hash = hash_password(change.new).await?;
        self.directory
            .set_password_hash(user.id, &hash, false)
            .await?;
        self.user_changed(user.id).await?;
        let ending = Ending {
            why: EndReason::PasswordChanged,
            reason: "password changed",
        };
        let revoked = self
            .revoke_user_sessions(
                user.id,
                user.username.as_str(),
                Some(&session.id),
                &actor,
                ending,
            )
            .await?;
        let event = AuditEvent::by(
            self.now(),
            AuditKind::PasswordChanged,
            &actor,
            Outcome::Success,
        )
        .subject(user.id, user.username.as_str())
        .session(&session.id)
        .count(revoked);
        self.audit(event).await?;
        Ok(revoked)
    }
}
