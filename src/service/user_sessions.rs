//! Self-service: a signed-in user sees their own sessions and ends the ones they do not
//! recognise. Ownership is decided here, so no entry point can reach another user's session.

use super::revoke::Ending;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::Actor;
use crate::domain::session::{ClientInfo, EndReason, Session};

/// One of the caller's sessions; `current` marks the one making the request.
#[derive(Debug, Clone)]
pub struct OwnSession {
    pub session: Session,
    pub current: bool,
}

/// Why the self-service revocations are recorded, as the audit trail shows it.
const REVOKED: Ending = Ending {
    why: EndReason::SelfRevoked,
    reason: "revoked by the user from their sessions list",
};

impl Service {
    /// The caller's active sessions, most recently active first.
    pub async fn own_sessions(&self, current: &Session) -> ServiceResult<Vec<OwnSession>> {
        let sessions = self
            .sessions
            .list_by_user(current.user_id, self.now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|session| OwnSession {
                current: session.id == current.id,
                session,
            })
            .collect())
    }

    /// Ends another of the caller's sessions. Unknown ids and other users' sessions are the
    /// same `NotFound`, so the answer never tells whether a session exists.
    pub async fn revoke_own_session(
        &self,
        current: &Session,
        id: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        if id == current.id {
            return Err(ServiceError::CurrentSession);
        }
        let not_found = || ServiceError::NotFound("no such session among yours".into());
        let own = self
            .sessions
            .list_by_user(current.user_id, self.now())
            .await?;
        let target = own.iter().find(|s| s.id == id).ok_or_else(not_found)?;
        if self
            .revoke_session(target, &actor(current, client), REVOKED)
            .await?
        {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// Ends every session of the caller but the current one; how many ended.
    pub async fn revoke_other_own_sessions(
        &self,
        current: &Session,
        client: &ClientInfo,
    ) -> ServiceResult<u64> {
        self.revoke_user_sessions(
            current.user_id,
            &current.username,
            Some(&current.id),
            &actor(current, client),
            REVOKED,
        )
        .await
    }
}

/// The audit trail's name for a user acting on their own sessions, and where from.
fn actor(current: &Session, client: &ClientInfo) -> Actor {
    Actor::from_client(format!("user:{}", current.username), client)
}
