//! Ending sessions: one, all of a user's (optionally but the current one), or all of many
//! users' at once. Every path that ends sessions comes through here, so each also ends the
//! users' remember-me logins and leaves an audit event per user.
//!
//! A revocation is audited twice: `revocation_requested` before any session is touched, and
//! `session_revoked` after, with the outcome. A process that dies in between (or a store
//! that stops answering) still leaves the request in the trail; a store call that failed
//! changed nothing (SQLite rolls back; a Redis script refuses to run past the deadline its
//! caller stops waiting at), so a failure is recorded as such.

use super::metrics::bump;
use super::{Progress, Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::could_be_public_id;
use crate::domain::user::User;
use crate::domain::user_agent::device_name;
use crate::store::{EndedSession, SessionFilter};
use std::collections::BTreeMap;

/// The fewest users a bulk revocation handles per round of store calls.
const USERS_PER_STEP: usize = 500;
/// The most rounds a bulk revocation takes: each round commits its deletions on its own, and
/// on SQLite every extra commit rewrites index pages the others touch too (about 0.25 s per
/// round at 100,000 sessions), so the largest groups take a few big steps, still progress a
/// console can show.
const MOST_STEPS: usize = 4;

/// Why sessions are being ended: the reason the browsers that held them are told
/// ([`EndReason`]), and the audit trail's words for it.
#[derive(Debug, Clone, Copy)]
pub struct Ending<'a> {
    pub why: EndReason,
    pub reason: &'a str,
}

impl Ending<'_> {
    /// The audit trail's reason: the [`EndReason`]'s name, then the words.
    fn audit_reason(&self) -> String {
        format!("{}: {}", self.why.as_str(), self.reason)
    }
}

/// The event every revocation records, before its subject and count are known.
fn revocation_event(now: Timestamp, actor: &Actor, ending: Ending) -> AuditEvent {
    AuditEvent::by(now, AuditKind::SessionRevoked, actor, Outcome::Success)
        .reason(ending.audit_reason())
}

/// The event written before a revocation starts, naming what it is about.
fn request_event(now: Timestamp, actor: &Actor, ending: Ending) -> AuditEvent {
    AuditEvent::by(now, AuditKind::RevocationRequested, actor, Outcome::Success)
        .reason(ending.audit_reason())
}

impl Service {
    /// Ends one session, its user's remember-me logins, and records who did it and why.
    pub async fn revoke_session(
        &self,
        session: &Session,
        actor: &Actor,
        ending: Ending<'_>,
    ) -> ServiceResult<bool> {
        let now = self.now();
        let request = request_event(now, actor, ending)
            .subject(session.user_id, &session.username)
            .session(&session.id);
        let event = revocation_event(now, actor, ending);
        self.audited(vec![request], async {
            let ended = self.end_session(session, event).await?;
            self.record_ended(std::slice::from_ref(session), ending.why)
                .await?;
            Ok(ended)
        })
        .await
    }

    /// Remembers why `sessions` ended, for the browsers still holding their cookies.
    pub(super) async fn record_ended(
        &self,
        sessions: &[Session],
        why: EndReason,
    ) -> ServiceResult<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let ended: Vec<EndedSession> = sessions
            .iter()
            .map(|session| EndedSession::of(session, why))
            .collect();
        Ok(self.sessions.record_ended(&ended).await?)
    }

    /// Ends the active session with this public id, like [`Service::revoke_session`]; an
    /// unknown or expired id is `NotFound`.
    pub async fn revoke_session_by_id(
        &self,
        id: &str,
        actor: &Actor,
        ending: Ending<'_>,
    ) -> ServiceResult<Session> {
        let not_found = || ServiceError::NotFound(format!("no active session with id {id:?}"));
        if !could_be_public_id(id) {
            return Err(not_found());
        }
        let now = self.now();
        let request = request_event(now, actor, ending).session(id);
        self.audited(vec![request], async {
            let session = self
                .sessions
                .delete(id)
                .await?
                .filter(|session| !session.is_expired(now))
                .ok_or_else(not_found)?;
            self.after_session_ended(&session, true, revocation_event(now, actor, ending))
                .await?;
            self.record_ended(std::slice::from_ref(&session), ending.why)
                .await?;
            Ok(session)
        })
        .await
    }

    /// Runs `revocation` after writing `requests` to the audit trail; when it fails, writes
    /// each request's outcome as a failed `session_revoked` naming the error.
    async fn audited<T>(
        &self,
        requests: Vec<AuditEvent>,
        revocation: impl Future<Output = ServiceResult<T>>,
    ) -> ServiceResult<T> {
        self.directory.append_audit(&requests).await?;
        let error = match revocation.await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        let failures: Vec<AuditEvent> = requests
            .into_iter()
            .map(|mut event| {
                event.kind = AuditKind::SessionRevoked;
                event.outcome = Outcome::Failure;
                event.at = self.now();
                let reason = event.reason.take().unwrap_or_default();
                event.reason(format!("{reason}: failed: {error}"))
            })
            .collect();
        if let Err(audit_error) = self.directory.append_audit(&failures).await {
            tracing::warn!(%error, %audit_error, "cannot audit a failed revocation");
        }
        Err(error)
    }

    /// Deletes a session and the user's remember-me tokens, then records `event` about it.
    pub(super) async fn end_session(
        &self,
        session: &Session,
        event: AuditEvent,
    ) -> ServiceResult<bool> {
        let existed = self.sessions.delete(&session.id).await?.is_some();
        self.after_session_ended(session, existed, event).await?;
        Ok(existed)
    }

    async fn after_session_ended(
        &self,
        session: &Session,
        existed: bool,
        event: AuditEvent,
    ) -> ServiceResult<()> {
        self.directory
            .revoke_remember_tokens(&[session.user_id])
            .await?;
        if existed {
            bump(&self.metrics.sessions_revoked);
        }
        // The event's address and browser are the actor's; the ended session's own go in
        // the reason, so the trail says from where it was used as well as who ended it.
        let ended = format!(
            "{} at {}",
            device_name(&session.browser, &session.os),
            session.last_ip_address
        );
        let reason = match &event.reason {
            Some(reason) => format!("{reason}; the session: {ended}"),
            None => format!("the session: {ended}"),
        };
        let event = event
            .subject(session.user_id, &session.username)
            .session(&session.id)
            .count(u64::from(existed))
            .reason(reason);
        self.audit(event).await
    }

    /// Ends every active session of a user except `keep` (a session id), and all of the
    /// user's remember-me logins; one audit event with the count. Returns how many ended.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        username: &str,
        keep: Option<&str>,
        actor: &Actor,
        ending: Ending<'_>,
    ) -> ServiceResult<u64> {
        let now = self.now();
        let request = request_event(now, actor, ending).subject(user_id, username);
        self.audited(vec![request], async {
            // Read first, so that the browsers of the sessions ended can be told why.
            let listed = self.sessions.list_by_user(user_id, now).await?;
            let (revoked, ended) = match keep {
                None => (self.sessions.delete_by_user(user_id, now).await?, listed),
                Some(keep) => {
                    let mut ended = Vec::new();
                    for session in listed {
                        if session.id != keep && self.sessions.delete(&session.id).await?.is_some()
                        {
                            ended.push(session);
                        }
                    }
                    (ended.len() as u64, ended)
                }
            };
            self.directory.revoke_remember_tokens(&[user_id]).await?;
            self.record_ended(&ended, ending.why).await?;
            self.metrics.sessions_revoked.add(revoked);
            let event = revocation_event(now, actor, ending)
                .subject(user_id, username)
                .count(revoked);
            self.audit(event).await?;
            Ok(revoked)
        })
        .await
    }

    /// Ends every session and remember-me login of these users, the sessions in one bulk
    /// store call; one audit event per user who had active sessions. Returns those users'
    /// counts.
    pub(super) async fn revoke_many_users_sessions(
        &self,
        users: &[User],
        actor: &Actor,
        ending: Ending<'_>,
        progress: &dyn Progress,
    ) -> ServiceResult<BTreeMap<i64, u64>> {
        let now = self.now();
        let requests = users
            .iter()
            .map(|user| request_event(now, actor, ending).subject(user.id, user.username.as_str()))
            .collect();
        self.audited(
            requests,
            self.revoke_many(users, now, actor, ending, progress),
        )
        .await
    }

    async fn revoke_many(
        &self,
        users: &[User],
        now: Timestamp,
        actor: &Actor,
        ending: Ending<'_>,
        progress: &dyn Progress,
    ) -> ServiceResult<BTreeMap<i64, u64>> {
        // Three bulk store calls per chunk of users, a step per user, so a console can say
        // how many users are done.
        progress.begin(users.len() as u64).await;
        let mut counts = BTreeMap::new();
        let per_step = USERS_PER_STEP.max(users.len().div_ceil(MOST_STEPS));
        for chunk in users.chunks(per_step) {
            let ids: Vec<i64> = chunk.iter().map(|user| user.id).collect();
            // Read first, so that the browsers of the sessions ended can be told why.
            let listed = self.sessions_of_users(&ids, now).await?;
            // Remember-me logins go first, so none can renew a session deleted below.
            self.directory.revoke_remember_tokens(&ids).await?;
            let chunk_counts = self.sessions.delete_by_users(&ids, now).await?;
            self.record_ended(&listed, ending.why).await?;
            self.metrics
                .sessions_revoked
                .add(chunk_counts.values().sum());
            let events: Vec<AuditEvent> = chunk
                .iter()
                .filter_map(|user| {
                    let count = *chunk_counts.get(&user.id)?;
                    Some(
                        revocation_event(now, actor, ending)
                            .subject(user.id, user.username.as_str())
                            .count(count),
                    )
                })
                .collect();
            self.directory.append_audit(&events).await?;
            counts.extend(chunk_counts);
            progress.advance(chunk.len() as u64).await;
        }
        progress.finish().await;
        Ok(counts)
    }

    /// Every unexpired session of these users, in one read: a listing by users reads each
    /// user's sessions whole on every backend.
    async fn sessions_of_users(&self, ids: &[i64], now: Timestamp) -> ServiceResult<Vec<Session>> {
        let filter = SessionFilter {
            users: Some(ids.to_vec()),
            address: None,
        };
        Ok(self.sessions.scan(&filter, now, u32::MAX, 0).await?.items)
    }
}
