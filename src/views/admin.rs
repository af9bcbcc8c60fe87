//! What the admin API shows: pages of sessions, users, audit events and alarms, and the report
//! of a group's revocation.

use super::query::Paging;
use super::{SessionView, audit_kinds, outcomes, user_kinds, user_states};
use crate::domain::alarm::Alarm;
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::user::{UserKind, UserState};
use crate::service::admin::UserOverview;
use crate::service::groups::RevocationReport;
use crate::store::Page;
use serde::Serialize;
use utoipa::ToSchema;

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    sessions: Vec<SessionView>,
    total: u64,
    limit: u32,
    offset: u64,
}

impl SessionPage {
    pub fn new(page: &Page<Session>, paging: Paging) -> Self {
        SessionPage {
            sessions: page
                .items
                .iter()
                .map(|s| SessionView::new(s, None))
                .collect(),
            total: page.total,
            limit: paging.limit,
            offset: paging.offset,
        }
    }
}

/// A user as the admin console shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserView {
    id: i64,
    username: String,
    name: String,
    email: String,
    #[schema(schema_with = user_states)]
    state: UserState,
    #[schema(schema_with = user_kinds)]
    kind: UserKind,
    is_admin: bool,
    is_owner: bool,
    /// Set after a password reset until the user has chosen a new password.
    must_change_password: bool,
    /// Set while the account is locked after failed logins.
    #[schema(value_type = Option<String>, format = DateTime)]
    locked_until: Option<Timestamp>,
    active_sessions: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_active_at: Option<Timestamp>,
}

impl AdminUserView {
    pub fn new(overview: &UserOverview, now: Timestamp) -> Self {
        let user = &overview.user;
        AdminUserView {
            id: user.id,
            username: user.username.to_string(),
            name: user.name.clone(),
            email: user.email.as_str().to_owned(),
            state: user.state,
            kind: user.kind,
            is_admin: user.is_admin,
            is_owner: user.is_owner,
            must_change_password: user.must_change_password,
            locked_until: user.locked_until.filter(|_| user.is_locked(now)),
            active_sessions: overview.active_sessions,
            last_active_at: overview.last_active_at,
        }
    }
}

/// A user just created, and their password when it was generated: shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    pub user: AdminUserView,
    pub password: Option<String>,
}

/// A password reset: the new password when it was generated (shown only here), and how
/// many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetView {
    pub password: Option<String>,
    pub revoked: u64,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    users: Vec<AdminUserView>,
    total: u64,
    limit: u32,
    offset: u64,
}

impl UserPage {
    pub fn new(page: &Page<UserOverview>, paging: Paging, now: Timestamp) -> Self {
        UserPage {
            users: page
                .items
                .iter()
                .map(|o| AdminUserView::new(o, now))
                .collect(),
            total: page.total,
            limit: paging.limit,
            offset: paging.offset,
        }
    }
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    id: i64,
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    #[schema(schema_with = audit_kinds)]
    kind: AuditKind,
    /// Who acted: `user:NAME`, `token:NAME`, `cli:NAME`, `system` or `anonymous`.
    actor: String,
    subject_user_id: Option<i64>,
    subject_username: Option<String>,
    session_id: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    #[schema(schema_with = outcomes)]
    outcome: Outcome,
    reason: Option<String>,
    session_count: Option<u64>,
}

impl From<&AuditEvent> for AuditView {
    fn from(event: &AuditEvent) -> Self {
        AuditView {
            id: event.id,
            at: event.at,
            kind: event.kind,
            actor: event.actor.clone(),
            subject_user_id: event.subject_user_id,
            subject_username: event.subject_username.clone(),
            session_id: event.session_id.clone(),
            ip_address: event.ip_address.clone(),
            user_agent: event.user_agent.clone(),
            outcome: event.outcome,
            reason: event.reason.clone(),
            session_count: event.session_count,
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    events: Vec<AuditView>,
    total: u64,
    limit: u32,
    offset: u64,
}

impl AuditPage {
    pub fn new(page: &Page<AuditEvent>, paging: Paging) -> Self {
        AuditPage {
            events: page.items.iter().map(AuditView::from).collect(),
            total: page.total,
            limit: paging.limit,
            offset: paging.offset,
        }
    }
}

/// An IP-spread alarm.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmView {
    id: i64,
    user_id: i64,
    username: String,
    ip_addresses: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    first_seen_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    last_seen_at: Timestamp,
    open: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    acknowledged_at: Option<Timestamp>,
    acknowledged_by: Option<String>,
}

impl From<&Alarm> for AlarmView {
    fn from(alarm: &Alarm) -> Self {
        AlarmView {
            id: alarm.id,
            user_id: alarm.user_id,
            username: alarm.username.clone(),
            ip_addresses: alarm.ip_addresses.clone(),
            first_seen_at: alarm.first_seen_at,
            last_seen_at: alarm.last_seen_at,
            open: alarm.is_open(),
            acknowledged_at: alarm.acknowledged_at,
            acknowledged_by: alarm.acknowledged_by.clone(),
        }
    }
}

/// A page of alarms.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmPage {
    alarms: Vec<AlarmView>,
    total: u64,
    limit: u32,
    offset: u64,
}

impl AlarmPage {
    pub fn new(page: &Page<Alarm>, paging: Paging) -> Self {
        AlarmPage {
            alarms: page.items.iter().map(AlarmView::from).collect(),
            total: page.total,
            limit: paging.limit,
            offset: paging.offset,
        }
    }
}

/// The group a revocation was about.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRef {
    id: i64,
    path: String,
}

/// A member whose sessions a revocation ended (or would).
#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedUserView {
    id: i64,
    username: String,
    sessions: u64,
}

/// The CLI's group revocation report, as JSON; `report` is the same text line for line.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationReportView {
    group: GroupRef,
    dry_run: bool,
    /// Unique active human members of the group, sub-groups and shares included.
    members: u64,
    /// Sessions revoked, or that would be in a dry run.
    sessions: u64,
    users_affected: Vec<AffectedUserView>,
    /// Members without active sessions.
    users_skipped: u64,
    report: String,
}

impl RevocationReportView {
    /// The view of a group's report; `None` when the report is about everybody.
    pub fn new(report: &RevocationReport) -> Option<Self> {
        let group = report.group.as_ref()?;
        Some(RevocationReportView {
            group: GroupRef {
                id: group.id,
                path: group.path.to_string(),
            },
            dry_run: report.dry_run,
            members: report.members,
            sessions: report.sessions,
            users_affected: report
                .users_affected
                .iter()
                .map(|u| AffectedUserView {
                    id: u.id,
                    username: u.username.clone(),
                    sessions: u.sessions,
                })
                .collect(),
            users_skipped: report.users_skipped,
            report: report.to_string(),
        })
    }
}
