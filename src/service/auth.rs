//! Checking a request's session (with remember-me renewal), making and storing sessions,
//! and signing out.

use super::authenticated::{Authenticated, CheckAnswer, NewSession};
use super::check_cache::Judgement;
use super::metrics::bump;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::session::{ClientInfo, EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::{SecretToken, TokenHash, new_public_id};
use crate::domain::user::{User, UserState};
use crate::domain::user_agent;
use crate::store::{CreateOutcome, RememberToken, SessionLimit, TakenRememberToken};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The secrets a request carried.
#[derive(Debug, Default)]
pub struct Credentials {
    pub session_token: Option<SecretToken>,
    pub remember_token: Option<SecretToken>,
}

impl Service {
    /// Creates a session under the per-user limit, with a remember-me token that joins
    /// `remember_family`.
    async fn renew_session(
        &self,
        user: User,
        client: &ClientInfo,
        remember_family: String,
    ) -> ServiceResult<NewSession> {
        let (session, token) = self.new_session(&user, client, true);
        self.store_session(user, session, token, None, Some(remember_family))
            .await
    }

    /// A session for `user` from `client`, not yet stored, and its token.
    pub(super) fn new_session(
        &self,
        user: &User,
        client: &ClientInfo,
        remember_me: bool,
    ) -> (Session, SecretToken) {
        let now = self.now();
        let token = SecretToken::generate();
        let device = user_agent::parse(&client.user_agent);
        let absolute_expires_at = now.plus(self.policy.lifetimes.absolute_lifetime);
        let session = Session {
            id: new_public_id(),
            token_hash: token.hash(),
            user_id: user.id,
            username: user.username.to_string(),
            ip_address: client.ip_address.clone(),
            last_ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            browser: device.browser,
            os: device.os,
            device_type: device.device_type,
            created_at: now,
            last_active_at: now,
            expires_at: self.policy.lifetimes.expiry(now, absolute_expires_at),
            absolute_expires_at,
            remember_me,
        };
        (session, token)
    }

    /// Stores `session` under the per-user limit, then in one directory write its remember-me
    /// token (if the session asks for one; it joins `remember_family`, or starts a family
    /// when `None`) and the audit events: evictions, a newly raised IP-spread alarm and
    /// `success`. If that write fails the session is deleted again, so a failed login leaves
    /// none behind.
    pub(super) async fn store_session(
        &self,
        user: User,
        session: Session,
        token: SecretToken,
        success: Option<AuditEvent>,
        remember_family: Option<String>,
    ) -> ServiceResult<NewSession> {
        let now = session.created_at;
        // The owner is never refused: the oldest of its sessions makes room instead.
        let limit = SessionLimit {
            evict_oldest: self.policy.limit.evict_oldest || user.is_owner,
            ..self.policy.limit
        };
        let (evicted, addresses) = match self.sessions.create(&session, limit, now).await? {
            CreateOutcome::LimitReached => {
                return Err(ServiceError::SessionLimit(limit.max_per_user));
            }
            CreateOutcome::Created { evicted, addresses } => (evicted, addresses),
        };
        let mut events: Vec<AuditEvent> = evicted
            .iter()
            .map(|old| {
                AuditEvent::new(now, AuditKind::SessionEvicted, "system", Outcome::Success)
                    .subject(user.id, user.username.as_str())
                    .session(&old.id)
                    .reason("session limit reached; least recently active session evicted")
            })
            .collect();
        let remember_token = session.remember_me.then(SecretToken::generate);
        let written = async {
            self.record_ended(&evicted, EndReason::Evicted).await?;
            let alarm = self
                .ip_spread_alarm(user.id, user.username.as_str(), addresses)
                .await?;
            events.extend(alarm.into_iter().chain(success));
            let remember = remember_token.as_ref().map(|token| RememberToken {
                hash: token.hash(),
                user_id: user.id,
                family_id: remember_family.unwrap_or_else(new_public_id),
                session_id: session.id.clone(),
                expires_at: now.plus(self.policy.remember_me_lifetime),
            });
            self.directory
                .record_login(remember.as_ref(), &events)
                .await
                .map_err(ServiceError::from)
        };
        if let Err(error) = written.await {
            if let Err(undo) = self.sessions.delete(&session.id).await {
                tracing::warn!(%undo, session = %session.id, "session of a failed login left behind");
            }
            return Err(error);
        }
        Ok(NewSession {
            user,
            session,
            token,
            remember_token,
        })
    }

    /// The session a request belongs to, or `None`. Enforces idle and absolute expiry and the
    /// user's state on every call; writes activity at most once per `activity_write_interval`.
    /// When the session is gone but a remember-me token is valid, opens a fresh session.
    pub async fn authenticate(
        &self,
        credentials: &Credentials,
        client: &ClientInfo,
    ) -> ServiceResult<Option<Arc<Authenticated>>> {
        let found = self.try_authenticate(credentials, client).await?;
        let counter = if found.is_some() {
            &self.metrics.checks_valid
        } else {
            &self.metrics.checks_rejected
        };
        bump(counter);
        Ok(found)
    }

    async fn try_authenticate(
        &self,
        credentials: &Credentials,
        client: &ClientInfo,
    ) -> ServiceResult<Option<Arc<Authenticated>>> {
        let now = self.now();
        if let Some(token) = &credentials.session_token
            && let Some(found) = self.valid_session(token, client, now).await?
        {
            return Ok(Some(found));
        }
        let Some(remember) = &credentials.remember_token else {
            return Ok(None);
        };
        let Some(taken) = self
            .directory
            .take_remember_token(&remember.hash(), now)
            .await?
        else {
            return Ok(None);
        };
        if let Some(used_at) = taken.used_at {
            if now >= used_at.plus(self.policy.remember_me_reuse_grace) {
                self.end_remember_family(&taken, client, now).await?;
            }
            return Ok(None);
        }
        let Some(user) = self.active_user(taken.user_id).await? else {
            return Ok(None);
        };
        let renewed = match self
            .renew_session(user, client, taken.family_id.clone())
            .await
        {
            Ok(renewed) => renewed,
            Err(error) => {
                // The token is spent and has no successor: its family goes, so that the
                // browser presenting it again is not taken for a thief.
                self.directory
                    .delete_remember_family(&taken.family_id)
                    .await?;
                return match error {
                    ServiceError::SessionLimit(_) => Ok(None),
                    other => Err(other),
                };
            }
        };
        let event = AuditEvent::new(
            now,
            AuditKind::LoginSuccess,
            format!("user:{}", renewed.user.username),
            Outcome::Success,
        )
        .subject(renewed.user.id, renewed.user.username.as_str())
        .session(&renewed.session.id)
        .client(client)
        .reason("remember me");
        self.audit(event).await?;
        bump(&self.metrics.remember_me_renewals);
        Ok(Some(Arc::new(Authenticated {
            user: renewed.user.clone(),
            session: renewed.session.clone(),
            renewed: Some(Box::new(renewed)),
            check_answer: CheckAnswer::default(),
        })))
    }

    /// A used remember-me token presented again, past the grace for requests sent together,
    /// means two holders of one chain, its owner and a thief, and no telling which is which:
    /// the family ends, its tokens and every session it opened, and the audit trail says so.
    async fn end_remember_family(
        &self,
        taken: &TakenRememberToken,
        client: &ClientInfo,
        now: Timestamp,
    ) -> ServiceResult<()> {
        let opened = self
            .directory
            .delete_remember_family(&taken.family_id)
            .await?;
        let mut ended = 0;
        for id in &opened {
            if let Some(session) = self.sessions.delete(id).await?
                && !session.is_expired(now)
            {
                ended += 1;
            }
        }
        self.metrics.sessions_revoked.add(ended);
        let user = self.directory.user_by_id(taken.user_id).await?;
        let username = user.as_ref().map_or("", |user| user.username.as_str());
        let event = AuditEvent::new(now, AuditKind::RememberMeReuse, "system", Outcome::Success)
            .subject(taken.user_id, username)
            .client(client)
            .reason("a used remember-me token presented again; its family's sessions ended")
            .count(ended);
        self.audit(event).await
    }

    async fn valid_session(
        &self,
        token: &SecretToken,
        client: &ClientInfo,
        now: Timestamp,
    ) -> ServiceResult<Option<Arc<Authenticated>>> {
        let Some(cache) = &self.check_cache else {
            return Ok(self
                .read_session(&token.hash(), client, now)
                .await?
                .map(Arc::new));
        };
        let key = cache.key(token);
        let known = cache.get(&key);
        // Read before the stores, so an entry made below is good only while it is unchanged.
        // A stamp that cannot be read may be one a writer could not replace either (a user
        // blocked while the store was away): nothing remembered is trusted after that, so the
        // checks that follow read the directory.
        let stamp = match &known {
            Some(entry) => self
                .sessions
                .user_stamp(entry.user_id)
                .await
                .inspect_err(|_| cache.clear())?,
            None => None,
        };
        if let Some(entry) = known {
            let answers = match cache.judge(&entry, stamp, now, client) {
                Judgement::Answers => true,
                Judgement::ActivityDue => !cache.claim_activity_write(&key, &entry, now),
                Judgement::ReadStores => false,
            };
            if answers {
                bump(&self.metrics.check_cache_hits);
                return Ok(Some(entry.found));
            }
        }
        let found = self
            .read_session(&token.hash(), client, now)
            .await?
            .map(Arc::new);
        match &found {
            Some(found) => cache.put(key, found.clone(), stamp),
            None => cache.remove(&key),
        }
        Ok(found)
    }

    /// [`Service::valid_session`] from the stores.
    async fn read_session(
        &self,
        hash: &TokenHash,
        client: &ClientInfo,
        now: Timestamp,
    ) -> ServiceResult<Option<Authenticated>> {
        let Some(mut session) = self.sessions.get_by_token_hash(hash).await? else {
            return Ok(None);
        };
        if session.is_expired(now) {
            return Ok(None);
        }
        // Checks arriving together before any is remembered (or with nothing remembered) all
        // find the write due: the first to read the session writes it, and the others answer
        // with the times read. Marked before the user is read, so the others see the mark.
        let interval = self.policy.activity_write_interval;
        let mut writing = session
            .activity_is_stale(now, interval)
            .then(|| WriteUnderWay::begin(&self.activity_writes_under_way, *hash))
            .flatten();
        if writing.is_some() {
            // A check that read the session before us may have written it and unmarked it
            // since: read it again under our mark, so the write is not made twice.
            let Some(fresh) = self.sessions.get_by_token_hash(hash).await? else {
                return Ok(None);
            };
            session = fresh;
            if !session.activity_is_stale(now, interval) {
                writing = None;
            }
        }
        let Some(mut user) = self.active_user(session.user_id).await? else {
            return Ok(None);
        };
        // Kept in memory by the check cache, and never needed by a check.
        user.password_hash = None;
        // A session used from a new address is rare: record it and re-check the IP spread.
        if !client.ip_address.is_empty() && client.ip_address != session.last_ip_address {
            self.sessions
                .set_ip_address(&session.id, &client.ip_address)
                .await?;
            session.last_ip_address = client.ip_address.clone();
            self.check_ip_spread(user.id, user.username.as_str())
                .await?;
        }
        if writing.is_some() {
            session.last_active_at = now;
            session.expires_at = self
                .policy
                .lifetimes
                .expiry(now, session.absolute_expires_at);
            self.sessions
                .touch(&session.id, session.last_active_at, session.expires_at)
                .await?;
            bump(&self.metrics.activity_writes);
        }
        Ok(Some(Authenticated {
            user,
            session,
            renewed: None,
            check_answer: CheckAnswer::default(),
        }))
    }

    async fn active_user(&self, user_id: i64) -> ServiceResult<Option<User>> {
        let user = self.directory.user_by_id(user_id).await?;
        Ok(user.filter(|u| u.state == UserState::Active))
    }

    /// Why the session of `token`, which no longer signs anybody in, ended: its expiry, or
    /// the reason recorded when it was ended; `None` when that is not known (or it is alive).
    /// An expired session found here is deleted and its expiry audited (`session_expired`,
    /// idle or absolute), once. For the sign-in page only, never the session check.
    pub async fn why_ended(&self, token: &SecretToken) -> ServiceResult<Option<EndReason>> {
        let hash = token.hash();
        let now = self.now();
        match self.sessions.get_by_token_hash(&hash).await? {
            Some(session) if session.is_expired(now) => {
                let why = EndReason::of_expiry(&session);
                if self.sessions.delete(&session.id).await?.is_some() {
                    let event =
                        AuditEvent::new(now, AuditKind::SessionExpired, "system", Outcome::Success)
                            .subject(session.user_id, &session.username)
                            .session(&session.id)
                            .reason(why.as_str());
                    self.audit(event).await?;
                }
                Ok(Some(why))
            }
            Some(_) => Ok(None),
            None => Ok(self.sessions.ended_reason(&hash, now).await?),
        }
    }

    /// Ends the caller's own session; like any revocation it also ends every remember-me login.
    pub async fn logout(&self, session: &Session, client: &ClientInfo) -> ServiceResult<()> {
        let event = AuditEvent::new(
            self.now(),
            AuditKind::Logout,
            format!("user:{}", session.username),
            Outcome::Success,
        )
        .client(client);
        self.end_session(session, event).await.map(|_| ())
    }
}

/// Token hashes of the sessions whose activity write is under way in this process.
pub(super) type WritesUnderWay = Mutex<HashSet<TokenHash>>;

/// One session's activity write, marked under way from [`WriteUnderWay::begin`] until dropped:
/// written, failed, or abandoned with its request.
struct WriteUnderWay<'a> {
    under_way: &'a WritesUnderWay,
    hash: TokenHash,
}

impl<'a> WriteUnderWay<'a> {
    /// `None` when the session's write is under way already.
    fn begin(under_way: &'a WritesUnderWay, hash: TokenHash) -> Option<Self> {
        // A poisoned lock only means a panic elsewhere; the set itself is always whole.
        let mut writes = under_way.lock().unwrap_or_else(PoisonError::into_inner);
        // Made only when inserted: one dropped unasked would unmark another check's write.
        writes
            .insert(hash)
            .then(|| WriteUnderWay { under_way, hash })
    }
}

impl Drop for WriteUnderWay<'_> {
    fn drop(&mut self) {
        let mut writes = self
            .under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        writes.remove(&self.hash);
    }
}
