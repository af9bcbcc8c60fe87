//! Sign-ins held back by the session limit: after the right password at the limit, the
//! user gets a short-lived token (a [`PendingSignIn`], not a session) that can only list
//! their sessions, end one of them, and then complete the sign-in, which uses it up.

use super::authenticated::NewSession;
use super::metrics::bump;
use super::revoke::Ending;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::pending::{PENDING_SIGN_IN_LIFETIME, PendingPurpose, PendingSignIn};
use crate::domain::session::{ClientInfo, EndReason, Session};
use crate::domain::token::SecretToken;
use crate::domain::user::{User, UserState};

/// A session the user ended at sign-in to make room: ended by its owner, as from another of
/// their sessions.
const ENDED_AT_LIMIT: Ending = Ending {
    why: EndReason::SelfRevoked,
    reason: "ended by the user at sign-in to make room under the session limit",
};

impl Service {
    /// Holds a sign-in of `user` back at the session limit: the token of its pending state.
    pub(super) async fn hold_at_limit(
        &self,
        user: &User,
        remember_me: bool,
    ) -> ServiceResult<SecretToken> {
        let token = SecretToken::generate();
        let pending = PendingSignIn {
            user_id: user.id,
            purpose: PendingPurpose::SessionLimit,
            remember_me,
            expires_at: self.now().plus(PENDING_SIGN_IN_LIFETIME),
        };
        self.sessions
            .put_pending_sign_in(&token.hash(), &pending)
            .await?;
        Ok(token)
    }

    /// The user whose sign-in `token` holds at the limit, and its pending state.
    async fn held(&self, token: &SecretToken) -> ServiceResult<(User, PendingSignIn)> {
        let pending = self
            .sessions
            .pending_sign_in(&token.hash(), self.now())
            .await?
            .filter(|pending| pending.purpose == PendingPurpose::SessionLimit)
            .ok_or(ServiceError::PendingSignInGone)?;
        let user = self.signable_user(pending.user_id).await?;
        Ok((user, pending))
    }

    /// The account of a pending sign-in, if it may still sign in.
    async fn signable_user(&self, user_id: i64) -> ServiceResult<User> {
        let user = self
            .directory
            .user_by_id(user_id)
            .await?
            .filter(|user| user.password_hash.is_some())
            .ok_or(ServiceError::PendingSignInGone)?;
        match user.state {
            UserState::Blocked => Err(ServiceError::Blocked),
            _ if user.is_locked(self.now()) => Err(ServiceError::Locked),
            _ => Ok(user),
        }
    }

    /// The sessions of the user whose sign-in `token` holds, most recently active first,
    /// and the limit.
    pub async fn sessions_at_limit(
        &self,
        token: &SecretToken,
    ) -> ServiceResult<(User, Vec<Session>)> {
        let (user, _) = self.held(token).await?;
        let sessions = self.sessions.list_by_user(user.id, self.now()).await?;
        Ok((user, sessions))
    }

    /// Ends one of the sessions of the user whose sign-in `token` holds; another user's or
    /// an unknown session is `NotFound`.
    pub async fn end_session_at_limit(
        &self,
        token: &SecretToken,
        session_id: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let (user, _) = self.held(token).await?;
        let not_found = || ServiceError::NotFound("no such session among yours".into());
        let sessions = self.sessions.list_by_user(user.id, self.now()).await?;
        let target = sessions
            .iter()
            .find(|session| session.id == session_id)
            .ok_or_else(not_found)?;
        let actor = Actor::user(&user, client);
        if self.revoke_session(target, &actor, ENDED_AT_LIMIT).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// Completes the sign-in `token` holds, once: a session for `client`. Still at the limit,
    /// the token stays good (until it expires) and the answer is `SessionLimit`.
    pub async fn complete_sign_in(
        &self,
        token: &SecretToken,
        client: &ClientInfo,
    ) -> ServiceResult<NewSession> {
        let hash = token.hash();
        let pending = self
            .sessions
            .take_pending_sign_in(&hash, self.now())
            .await?
            .filter(|pending| pending.purpose == PendingPurpose::SessionLimit)
            .ok_or(ServiceError::PendingSignInGone)?;
        let user = self.signable_user(pending.user_id).await?;
        let (session, session_token) = self.new_session(&user, client, pending.remember_me);
        let success = AuditEvent::new(
            self.now(),
            AuditKind::LoginSuccess,
            format!("user:{}", user.username),
            Outcome::Success,
        )
        .subject(user.id, user.username.as_str())
        .session(&session.id)
        .client(client)
        .reason("signed in after ending a session at the session limit");
        let stored = self
            .store_session(user, session, session_token, Some(success), None)
            .await;
        match stored {
            Err(ServiceError::SessionLimit(max)) => {
                self.sessions.put_pending_sign_in(&hash, &pending).await?;
                Err(ServiceError::SessionLimit(max))
            }
            Ok(new) => {
                bump(&self.metrics.logins_succeeded);
                Ok(new)
            }
            Err(other) => Err(other),
        }
    }
}
