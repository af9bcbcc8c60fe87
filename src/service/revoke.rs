//! Ending sessions: one, all of a user's (optionally but the current one). Every path that
//! ends sessions comes through here, so each also ends the user's remember-me logins and
//! leaves one audit event.

use super::metrics::bump;
use super::{Service, ServiceResult};
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::session::Session;
use std::sync::atomic::Ordering;

impl Service {
    /// Ends one session, its user's remember-me logins, and records who did it and why.
    pub async fn revoke_session(
        &self,
        session: &Session,
        actor: &str,
        reason: &str,
    ) -> ServiceResult<bool> {
        Ok(self
            .revoke_session_by_id(&session.id, actor, reason)
            .await?
            .is_some())
    }

    /// Ends the session with this public id, if there is one; the ended session.
    pub async fn revoke_session_by_id(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
    ) -> ServiceResult<Option<Session>> {
        let event = AuditEvent::new(
            self.now(),
            AuditKind::SessionRevoked,
            actor,
            Outcome::Success,
        )
        .reason(reason);
        self.end_session(id, event).await
    }

    /// Deletes a session and its user's remember-me tokens, then records `event` about it.
    pub(super) async fn end_session(
        &self,
        id: &str,
        event: AuditEvent,
    ) -> ServiceResult<Option<Session>> {
        let Some(session) = self.sessions.delete(id).await? else {
            return Ok(None);
        };
        self.directory
            .revoke_remember_tokens(session.user_id)
            .await?;
        bump(&self.metrics.sessions_revoked);
        let event = event
            .subject(session.user_id, &session.username)
            .session(&session.id)
            .count(1);
        self.audit(event).await?;
        Ok(Some(session))
    }

    /// Ends every active session of a user except `keep` (a session id), and all of the
    /// user's remember-me logins; one audit event with the count. Returns how many ended.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        username: &str,
        keep: Option<&str>,
        actor: &str,
        reason: &str,
    ) -> ServiceResult<u64> {
        let now = self.now();
        let revoked = match keep {
            None => self.sessions.delete_by_user(user_id, now).await?,
            Some(keep) => {
                let mut revoked = 0;
                for session in self.sessions.list_by_user(user_id, now).await? {
                    if session.id != keep && self.sessions.delete(&session.id).await?.is_some() {
                        revoked += 1;
                    }
                }
                revoked
            }
        };
        self.directory.revoke_remember_tokens(user_id).await?;
        self.metrics
            .sessions_revoked
            .fetch_add(revoked, Ordering::Relaxed);
        let event = AuditEvent::new(now, AuditKind::SessionRevoked, actor, Outcome::Success)
            .subject(user_id, username)
            .reason(reason)
            .count(revoked);
        self.audit(event).await?;
        Ok(revoked)
    }
}
