//! The audit trail: who did what to whose sessions, from where.

use super::time::Timestamp;
use serde::Serialize;

/// What happened. Stored and shown by its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    LoginSuccess,
    LoginFailure,
    /// A client address or an account first over its limit of failed sign-ins in a window;
    /// the attempts refused after it are not audited one by one.
    LoginThrottled,
    Lockout,
    Logout,
    /// Written before a revocation touches any session, so a revocation whose process dies
    /// or whose store stops answering half-way still leaves a trace; its `session_revoked`
    /// follows with the outcome.
    RevocationRequested,
    SessionRevoked,
    SessionEvicted,
    UserCreated,
    UserBlocked,
    UserUnblocked,
    UserUnlocked,
    AlarmRaised,
    AlarmAcknowledged,
    TokenCreated,
    TokenRevoked,
    GroupCreated,
    GroupMemberAdded,
    GroupMemberRemoved,
    GroupShared,
    GroupUnshared,
    /// A group revocation's outcome in one event: how many sessions of how many users ended
    /// (each user's `session_revoked` gives theirs).
    GroupSessionsRevoked,
    RememberMeReuse,
    PasswordChanged,
    PasswordReset,
    UserUpdated,
    UserDeleted,
    /// A session found expired when its browser came back to sign in: idle or absolute.
    SessionExpired,
}

impl AuditKind {
    pub const ALL: [AuditKind; 28] = [
        AuditKind::LoginSuccess,
        AuditKind::LoginFailure,
        AuditKind::LoginThrottled,
        AuditKind::Lockout,
        AuditKind::Logout,
        AuditKind::RevocationRequested,
        AuditKind::SessionRevoked,
        AuditKind::SessionEvicted,
        AuditKind::UserCreated,
        AuditKind::UserBlocked,
        AuditKind::UserUnblocked,
        AuditKind::UserUnlocked,
        AuditKind::AlarmRaised,
        AuditKind::AlarmAcknowledged,
        AuditKind::TokenCreated,
        AuditKind::TokenRevoked,
        AuditKind::GroupCreated,
        AuditKind::GroupMemberAdded,
        AuditKind::GroupMemberRemoved,
        AuditKind::GroupShared,
        AuditKind::GroupUnshared,
        AuditKind::GroupSessionsRevoked,
        AuditKind::RememberMeReuse,
        AuditKind::PasswordChanged,
        AuditKind::PasswordReset,
        AuditKind::UserUpdated,
        AuditKind::UserDeleted,
        AuditKind::SessionExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSuccess => "login_success",
            AuditKind::LoginFailure => "login_failure",
            AuditKind::LoginThrottled => "login_throttled",
            AuditKind::Lockout => "lockout",
            AuditKind::Logout => "logout",
            AuditKind::RevocationRequested => "revocation_requested",
            AuditKind::SessionRevoked => "session_revoked",
            AuditKind::SessionEvicted => "session_evicted",
            AuditKind::UserCreated => "user_created",
            AuditKind::UserBlocked => "user_blocked",
            AuditKind::UserUnblocked => "user_unblocked",
            AuditKind::UserUnlocked => "user_unlocked",
            AuditKind::AlarmRaised => "alarm_raised",
            AuditKind::AlarmAcknowledged => "alarm_acknowledged",
            AuditKind::TokenCreated => "token_created",
            AuditKind::TokenRevoked => "token_revoked",
            AuditKind::GroupCreated => "group_created",
            AuditKind::GroupMemberAdded => "group_member_added",
            AuditKind::GroupMemberRemoved => "group_member_removed",
            AuditKind::GroupShared => "group_shared",
            AuditKind::GroupUnshared => "group_unshared",
            AuditKind::GroupSessionsRevoked => "group_sessions_revoked",
            AuditKind::RememberMeReuse => "remember_me_reuse",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::UserUpdated => "user_updated",
            AuditKind::UserDeleted => "user_deleted",
            AuditKind::SessionExpired => "session_expired",
        }
    }

    pub fn parse(text: &str) -> Option<AuditKind> {
        AuditKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One entry of the trail. `actor` names who acted (`user:alice`, `cli`, `system`).
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub kind: AuditKind,
    pub actor: String,
    pub subject_user_id: Option<i64>,
    pub subject_username: Option<String>,
    pub session_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// How many sessions an action affected, where it affected several.
    pub session_count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Who acted, and from where when it was over HTTP: audit events carry both.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:NAME`, `token:NAME`, `cli:NAME` or `system`.
    pub name: String,
    pub client: Option<super::session::ClientInfo>,
    /// The signed-in user acting, when it is one.
    pub user_id: Option<i64>,
}

impl Actor {
    /// An actor whose request came from `client`.
    pub fn from_client(name: impl Into<String>, client: &super::session::ClientInfo) -> Self {
        Actor {
            name: name.into(),
            client: Some(client.clone()),
            user_id: None,
        }
    }

    /// A signed-in user, `user:NAME`, whose request came from `client`.
    pub fn user(user: &super::user::User, client: &super::session::ClientInfo) -> Self {
        Actor {
            user_id: Some(user.id),
            ..Actor::from_client(format!("user:{}", user.username), client)
        }
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor {
            name: name.to_owned(),
            client: None,
            user_id: None,
        }
    }
}

impl From<String> for Actor {
    fn from(name: String) -> Self {
        Actor {
            name,
            client: None,
            user_id: None,
        }
    }
}

impl AuditEvent {
    /// A new event about what `actor` did, with the actor's address when known.
    pub fn by(at: Timestamp, kind: AuditKind, actor: &Actor, outcome: Outcome) -> Self {
        let event = AuditEvent::new(at, kind, actor.name.clone(), outcome);
        match &actor.client {
            Some(client) => event.client(client),
            None => event,
        }
    }

    /// A new event with the fields every event has; the rest are filled in by the caller.
    pub fn new(at: Timestamp, kind: AuditKind, actor: impl Into<String>, outcome: Outcome) -> Self {
        AuditEvent {
            id: 0,
            at,
            kind,
            actor: actor.into(),
            subject_user_id: None,
            subject_username: None,
            session_id: None,
            ip_address: None,
            user_agent: None,
            outcome,
            reason: None,
            session_count: None,
        }
    }

    pub fn subject(mut self, user_id: i64, username: &str) -> Self {
        self.subject_user_id = Some(user_id);
        self.subject_username = Some(username.to_owned());
        self
    }

    pub fn session(mut self, session_id: &str) -> Self {
        self.session_id = Some(session_id.to_owned());
        self
    }

    pub fn client(mut self, client: &super::session::ClientInfo) -> Self {
        self.ip_address = Some(client.ip_address.clone());
        self.user_agent = Some(client.user_agent.clone());
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Puts `context` before the reason (`import: group 'acme'`), or makes it the reason.
    pub fn in_context(mut self, context: &str) -> Self {
        self.reason = Some(match self.reason {
            Some(reason) => format!("{context}: {reason}"),
            None => context.to_owned(),
        });
        self
    }

    pub fn count(mut self, count: u64) -> Self {
        self.session_count = Some(count);
        self
    }
}

/// Which audit events a listing wants.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    pub kind: Option<AuditKind>,
}
