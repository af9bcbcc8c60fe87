//! What administrators do: see every session and user, terminate sessions, manage admin
//! API tokens, watch IP-spread alarms.

use super::revoke::Ending;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::alarm::Alarm;
use crate::domain::api_token::{self, ApiToken};
use crate::domain::audit::{Actor, AuditEvent, AuditFilter, AuditKind, Outcome};
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::SecretToken;
use crate::domain::user::User;
use crate::store::{Page, SessionFilter, StoreError, UserActivity};
use std::collections::BTreeSet;

/// A user with what the admin console shows about their sessions.
#[derive(Debug, Clone)]
pub struct UserOverview {
    pub user: User,
    pub active_sessions: u64,
    pub last_active_at: Option<Timestamp>,
}

/// The most items one page of an admin listing may hold.
pub const MAX_PAGE: u32 = 500;

impl Service {
    /// Every unexpired session, filtered and paged, most recently active first.
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<Session>> {
        Ok(self
            .sessions
            .scan(filter, self.now(), limit, offset)
            .await?)
    }

    /// Terminates one session by public id; 404 when there is no such session. The caller's
    /// own `current` session is refused, as in self-service: ending it is logging out.
    pub async fn terminate_session(
        &self,
        id: &str,
        actor: &Actor,
        current: Option<&str>,
    ) -> ServiceResult<Session> {
        if current == Some(id) {
            return Err(ServiceError::CurrentSession);
        }
        let ending = Ending {
            why: EndReason::Terminated,
            reason: "terminated by an administrator",
        };
        self.revoke_session_by_id(id, actor, ending).await
    }

    /// Terminates every session of a user ("Logout all devices"); how many.
    pub async fn terminate_user_sessions(&self, user: &User, actor: &Actor) -> ServiceResult<u64> {
        self.revoke_user_sessions(
            user.id,
            user.username.as_str(),
            None,
            actor,
            Ending {
                why: EndReason::Terminated,
                reason: "all sessions terminated by an administrator",
            },
        )
        .await
    }

    /// Users (those `search` finds, see [`Service::search_users`]), paged by id, each with
    /// active-session count and last activity.
    pub async fn list_user_overviews(
        &self,
        search: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<UserOverview>> {
        let users = self.search_users(search).await?;
        let total = users.len() as u64;
        let page: Vec<User> = users
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        let ids: Vec<i64> = page.iter().map(|user| user.id).collect();
        // One store call for the page, not one per row.
        let activity = self.sessions.activity_by_users(&ids, self.now()).await?;
        let items = page
            .into_iter()
            .map(|user| {
                let found = activity.get(&user.id);
                UserOverview {
                    active_sessions: found.map_or(0, |found| found.sessions),
                    last_active_at: found.map(|found| found.last_active_at),
                    user,
                }
            })
            .collect();
        Ok(Page { items, total })
    }

    /// One user with their active-session count and last activity.
    pub async fn user_overview(&self, user: User) -> ServiceResult<UserOverview> {
        let activity = self
            .sessions
            .activity_by_users(&[user.id], self.now())
            .await?;
        let found = activity.get(&user.id);
        Ok(UserOverview {
            active_sessions: found.map_or(0, |found| found.sessions),
            last_active_at: found.map(|found| found.last_active_at),
            user,
        })
    }

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<crate::domain::audit::AuditEvent>> {
        Ok(self.directory.list_audit(filter, limit, offset).await?)
    }

    /// Raises or updates the user's IP-spread alarm when their active sessions span at least
    /// `alarms.ip_spread_threshold` distinct addresses. Called when a session's address
    /// changes, so it costs nothing on ordinary checks.
    pub async fn check_ip_spread(&self, user_id: i64, username: &str) -> ServiceResult<()> {
        let addresses: BTreeSet<String> = self
            .sessions
            .list_by_user(user_id, self.now())
            .await?
            .iter()
            .flat_map(|s| s.addresses().map(str::to_owned))
            .collect();
        if let Some(event) = self.ip_spread_alarm(user_id, username, addresses).await? {
            self.audit(event).await?;
        }
        Ok(())
    }

    /// [`Service::check_ip_spread`] for addresses the caller has already read (a login has
    /// them from creating its session): records the alarm, and returns the audit event to
    /// write when it was newly raised.
    pub(super) async fn ip_spread_alarm(
        &self,
        user_id: i64,
        username: &str,
        addresses: BTreeSet<String>,
    ) -> ServiceResult<Option<AuditEvent>> {
        if addresses.len() < self.policy.ip_spread_threshold as usize {
            return Ok(None);
        }
        let now = self.now();
        let addresses: Vec<String> = addresses.into_iter().collect();
        let (alarm, raised) = self
            .directory
            .record_ip_spread(user_id, username, &addresses, now)
            .await?;
        if !raised {
            return Ok(None);
        }
        tracing::warn!(user = username, addresses = ?alarm.ip_addresses, "IP-spread alarm raised");
        let event = AuditEvent::new(now, AuditKind::AlarmRaised, "system", Outcome::Success)
            .subject(user_id, username)
            .reason(format!(
                "active sessions from {} addresses: {}",
                alarm.ip_addresses.len(),
                alarm.ip_addresses.join(", ")
            ));
        Ok(Some(event))
    }

    pub async fn list_alarms(
        &self,
        open_only: bool,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<Alarm>> {
        Ok(self.directory.list_alarms(open_only, limit, offset).await?)
    }

    /// A page of alarms, each with how many active sessions its user has now (one store call
    /// for the page): an alarm whose user has none left is over by itself.
    pub async fn list_alarms_with_sessions(
        &self,
        open_only: bool,
        limit: u32,
        offset: u64,
    ) -> ServiceResult<Page<(Alarm, u64)>> {
        let page = self.list_alarms(open_only, limit, offset).await?;
        let ids: Vec<i64> = page.items.iter().map(|alarm| alarm.user_id).collect();
        let counts = UserActivity::counts(self.sessions.activity_by_users(&ids, self.now()).await?);
        let items = page
            .items
            .into_iter()
            .map(|alarm| {
                let sessions = counts.get(&alarm.user_id).copied().unwrap_or(0);
                (alarm, sessions)
            })
            .collect();
        Ok(Page {
            items,
            total: page.total,
        })
    }

    /// Closes an open alarm; 404 when it does not exist or is already closed.
    pub async fn acknowledge_alarm(&self, id: i64, actor: &Actor) -> ServiceResult<Alarm> {
        let now = self.now();
        let alarm = self
            .directory
            .acknowledge_alarm(id, &actor.name, now)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no open alarm {id}")))?;
        let event = AuditEvent::by(now, AuditKind::AlarmAcknowledged, actor, Outcome::Success)
            .subject(alarm.user_id, &alarm.username);
        self.audit(event).await?;
        Ok(alarm)
    }

    /// Creates an admin API token; the secret is returned once and only its hash is kept.
    pub async fn create_api_token(
        &self,
        name: &str,
        actor: &Actor,
    ) -> ServiceResult<(ApiToken, SecretToken)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ServiceError::BadInput(
                "a token name must have 1 to 100 characters".into(),
            ));
        }
        let secret = api_token::generate();
        let now = self.now();
        let token = self
            .directory
            .create_api_token(name, &secret.hash(), now)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(message) => ServiceError::Conflict(message),
                other => ServiceError::Store(other),
            })?;
        let event = AuditEvent::by(now, AuditKind::TokenCreated, actor, Outcome::Success)
            .reason(format!("admin API token {name:?}"));
        self.audit(event).await?;
        Ok((token, secret))
    }

    pub async fn list_api_tokens(&self) -> ServiceResult<Vec<ApiToken>> {
        Ok(self.directory.list_api_tokens().await?)
    }

    /// Revokes a token named by its name or numeric id.
    pub async fn revoke_api_token(
        &self,
        reference: &str,
        actor: &Actor,
    ) -> ServiceResult<ApiToken> {
        let tokens = self.directory.list_api_tokens().await?;
        let found = tokens
            .iter()
            .find(|t| t.name == reference)
            .or_else(|| tokens.iter().find(|t| t.id.to_string() == reference))
            .ok_or_else(|| ServiceError::NotFound(format!("no API token {reference:?}")))?;
        let token = self
            .directory
            .delete_api_token(found.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no API token {reference:?}")))?;
        let event = AuditEvent::by(self.now(), AuditKind::TokenRevoked, actor, Outcome::Success)
            .reason(format!("admin API token {:?}", token.name));
        self.audit(event).await?;
        Ok(token)
    }

    /// The admin API token a bearer secret stands for, if any.
    pub async fn authenticate_api_token(
        &self,
        secret: &SecretToken,
    ) -> ServiceResult<Option<ApiToken>> {
        if !api_token::is_api_token(secret) {
            return Ok(None);
        }
        Ok(self
            .directory
            .use_api_token(&secret.hash(), self.now())
            .await?)
    }
}
