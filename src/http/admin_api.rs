//! The admin REST API: every session, users, the audit trail, alarms. Callers are
//! administrators, by session or by admin API token.

use super::AppState;
use super::api::{ErrorBody, Revoked, SessionView};
use super::error::ApiError;
use super::extract::{AdminCaller, Checked, authenticate};
use crate::domain::alarm::Alarm;
use crate::domain::audit::{AuditEvent, AuditFilter, AuditKind};
use crate::domain::time::Timestamp;
use crate::service::NoProgress;
use crate::service::admin::{MAX_PAGE, UserOverview};
use crate::store::SessionFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Json, middleware};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, terminate_user_sessions))
        .routes(routes!(terminate_session))
        .routes(routes!(list_users))
        .routes(routes!(block_user))
        .routes(routes!(unblock_user))
        .routes(routes!(unlock_user))
        .routes(routes!(list_audit))
        .routes(routes!(list_alarms))
        .routes(routes!(acknowledge_alarm))
        .routes(routes!(revoke_group_sessions))
        .route_layer(middleware::from_fn_with_state(state, authenticate))
}

/// `limit` (default 50, 1 to 500) and `offset` (default 0), checked.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Paging {
    pub limit: u32,
    pub offset: u64,
}

/// The default page size of every admin listing.
pub const DEFAULT_PAGE: u32 = 50;

impl Paging {
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Paging, ApiError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}, not {text:?}"
                    ))
                })?,
        };
        let offset = match offset {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "offset must be a whole number from 0, not {text:?}"
                ))
            })?,
        };
        Ok(Paging { limit, offset })
    }
}

fn parse_user_id(text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        t.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("userId must be a numeric user id, not {t:?}"))
        })
    })
    .transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// How many to skip (default 0).
    #[param(value_type = Option<u64>)]
    offset: Option<String>,
    /// Only this user's sessions (numeric id).
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = Option<i64>)]
    user_id: Option<String>,
    /// Only sessions from this IP address.
    ip: Option<String>,
}

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    sessions: Vec<SessionView>,
    total: u64,
    limit: u32,
    offset: u64,
}

#[utoipa::path(
    get, path = "/api/admin/sessions", tag = "admin",
    summary = "All active sessions, most recently active first",
    params(SessionQuery),
    responses(
        (status = 200, body = SessionPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_sessions(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(query)): Checked<Query<SessionQuery>>,
) -> Result<Json<SessionPage>, ApiError> {
    let paging = Paging::parse(query.limit.as_deref(), query.offset.as_deref())?;
    let filter = SessionFilter {
        user_id: parse_user_id(query.user_id.as_deref())?,
        ip_address: query.ip.filter(|ip| !ip.is_empty()),
    };
    let page = state
        .service
        .list_sessions(&filter, paging.limit, paging.offset)
        .await?;
    Ok(Json(SessionPage {
        sessions: page
            .items
            .iter()
            .map(|s| SessionView::new(s, None))
            .collect(),
        total: page.total,
        limit: paging.limit,
        offset: paging.offset,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserIdQuery {
    /// The user whose sessions all end (numeric id). Required.
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = i64)]
    user_id: Option<String>,
}

#[utoipa::path(
    delete, path = "/api/admin/sessions", tag = "admin",
    summary = "Terminate every session of one user (Logout all devices)",
    params(UserIdQuery),
    responses(
        (status = 200, body = Revoked),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn terminate_user_sessions(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Query(query)): Checked<Query<UserIdQuery>>,
) -> Result<Json<Revoked>, ApiError> {
    let user_id = parse_user_id(query.user_id.as_deref())?.ok_or_else(|| {
        ApiError::bad_request("userId is required to terminate a user's sessions")
    })?;
    let user = state.service.user(user_id).await?;
    let revoked = state
        .service
        .terminate_user_sessions(&user, &admin.actor)
        .await?;
    Ok(Json(Revoked { revoked }))
}

#[utoipa::path(
    delete, path = "/api/admin/sessions/{id}", tag = "admin",
    summary = "Terminate one session",
    params(("id" = String, Path, description = "The session's public id")),
    responses(
        (status = 204, description = "Terminated"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn terminate_session(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<String>>,
) -> Result<StatusCode, ApiError> {
    state.service.terminate_session(&id, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// How many to skip (default 0).
    #[param(value_type = Option<u64>)]
    offset: Option<String>,
}

/// A user as the admin console shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserView {
    id: i64,
    username: String,
    name: String,
    email: String,
    /// `active` or `blocked`.
    state: String,
    /// `human` or `bot`.
    kind: String,
    is_admin: bool,
    is_owner: bool,
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
            state: user.state.as_str().to_owned(),
            kind: user.kind.as_str().to_owned(),
            is_admin: user.is_admin,
            is_owner: user.is_owner,
            locked_until: user.locked_until.filter(|_| user.is_locked(now)),
            active_sessions: overview.active_sessions,
            last_active_at: overview.last_active_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    users: Vec<AdminUserView>,
    total: u64,
    limit: u32,
    offset: u64,
}

#[utoipa::path(
    get, path = "/api/admin/users", tag = "admin",
    summary = "Users with their active-session count and last activity",
    params(PageQuery),
    responses(
        (status = 200, body = UserPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_users(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(query)): Checked<Query<PageQuery>>,
) -> Result<Json<UserPage>, ApiError> {
    let paging = Paging::parse(query.limit.as_deref(), query.offset.as_deref())?;
    let page = state
        .service
        .list_user_overviews(paging.limit, paging.offset)
        .await?;
    let now = state.service.now();
    Ok(Json(UserPage {
        users: page
            .items
            .iter()
            .map(|o| AdminUserView::new(o, now))
            .collect(),
        total: page.total,
        limit: paging.limit,
        offset: paging.offset,
    }))
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/block", tag = "admin",
    summary = "Block a user: no more logins, every session ends now",
    params(("id" = i64, Path, description = "The user's numeric id")),
    responses(
        (status = 200, body = Revoked),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn block_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<i64>>,
) -> Result<Json<Revoked>, ApiError> {
    let user = state.service.user(id).await?;
    let revoked = state.service.block_user(&user, &admin.actor).await?;
    Ok(Json(Revoked { revoked }))
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/unblock", tag = "admin",
    summary = "Let a blocked user sign in again",
    params(("id" = i64, Path, description = "The user's numeric id")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn unblock_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<i64>>,
) -> Result<StatusCode, ApiError> {
    let user = state.service.user(id).await?;
    state.service.unblock_user(&user, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/unlock", tag = "admin",
    summary = "Lift a lockout after failed logins",
    params(("id" = i64, Path, description = "The user's numeric id")),
    responses(
        (status = 204, description = "Unlocked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn unlock_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<i64>>,
) -> Result<StatusCode, ApiError> {
    let user = state.service.user(id).await?;
    state.service.unlock_user(&user, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// How many to skip (default 0).
    #[param(value_type = Option<u64>)]
    offset: Option<String>,
    /// Only events about this user (numeric id).
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = Option<i64>)]
    user_id: Option<String>,
    /// Only this kind of event, e.g. `login_failure`.
    kind: Option<String>,
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    id: i64,
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// e.g. `login_success`, `login_failure`, `lockout`, `logout`, `session_revoked`.
    kind: String,
    /// Who acted: `user:NAME`, `token:NAME`, `cli:NAME`, `system` or `anonymous`.
    actor: String,
    subject_user_id: Option<i64>,
    subject_username: Option<String>,
    session_id: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    /// `success` or `failure`.
    outcome: String,
    reason: Option<String>,
    session_count: Option<u64>,
}

impl From<&AuditEvent> for AuditView {
    fn from(event: &AuditEvent) -> Self {
        AuditView {
            id: event.id,
            at: event.at,
            kind: event.kind.as_str().to_owned(),
            actor: event.actor.clone(),
            subject_user_id: event.subject_user_id,
            subject_username: event.subject_username.clone(),
            session_id: event.session_id.clone(),
            ip_address: event.ip_address.clone(),
            user_agent: event.user_agent.clone(),
            outcome: event.outcome.as_str().to_owned(),
            reason: event.reason.clone(),
            session_count: event.session_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    events: Vec<AuditView>,
    total: u64,
    limit: u32,
    offset: u64,
}

/// Parses an audit kind filter; an unknown kind is a 400 naming the valid ones.
pub fn parse_audit_kind(text: Option<&str>) -> Result<Option<AuditKind>, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => AuditKind::parse(text).map(Some).ok_or_else(|| {
            let known: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::bad_request(format!(
                "unknown event kind {text:?}; use one of {}",
                known.join(", ")
            ))
        }),
    }
}

#[utoipa::path(
    get, path = "/api/admin/audit", tag = "admin",
    summary = "The audit trail, newest first",
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_audit(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(query)): Checked<Query<AuditQuery>>,
) -> Result<Json<AuditPage>, ApiError> {
    let paging = Paging::parse(query.limit.as_deref(), query.offset.as_deref())?;
    let filter = AuditFilter {
        user_id: parse_user_id(query.user_id.as_deref())?,
        kind: parse_audit_kind(query.kind.as_deref())?,
    };
    let page = state
        .service
        .list_audit(&filter, paging.limit, paging.offset)
        .await?;
    Ok(Json(AuditPage {
        events: page.items.iter().map(AuditView::from).collect(),
        total: page.total,
        limit: paging.limit,
        offset: paging.offset,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlarmQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// How many to skip (default 0).
    #[param(value_type = Option<u64>)]
    offset: Option<String>,
    /// `open` (default) or `all`.
    state: Option<String>,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmPage {
    alarms: Vec<AlarmView>,
    total: u64,
    limit: u32,
    offset: u64,
}

/// Whether an alarm listing wants open alarms only (`open`, the default) or all of them.
pub fn parse_alarm_state(text: Option<&str>) -> Result<bool, ApiError> {
    match text.unwrap_or("open") {
        "open" | "" => Ok(true),
        "all" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "state must be open or all, not {other:?}"
        ))),
    }
}

#[utoipa::path(
    get, path = "/api/admin/alarms", tag = "admin",
    summary = "IP-spread alarms, newest first",
    params(AlarmQuery),
    responses(
        (status = 200, body = AlarmPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_alarms(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(query)): Checked<Query<AlarmQuery>>,
) -> Result<Json<AlarmPage>, ApiError> {
    let paging = Paging::parse(query.limit.as_deref(), query.offset.as_deref())?;
    let open_only = parse_alarm_state(query.state.as_deref())?;
    let page = state
        .service
        .list_alarms(open_only, paging.limit, paging.offset)
        .await?;
    Ok(Json(AlarmPage {
        alarms: page.items.iter().map(AlarmView::from).collect(),
        total: page.total,
        limit: paging.limit,
        offset: paging.offset,
    }))
}

#[utoipa::path(
    post, path = "/api/admin/alarms/{id}/acknowledge", tag = "admin",
    summary = "Acknowledge (close) an open alarm",
    params(("id" = i64, Path, description = "The alarm's id")),
    responses(
        (status = 200, body = AlarmView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn acknowledge_alarm(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<i64>>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = state.service.acknowledge_alarm(id, &admin.actor).await?;
    Ok(Json(AlarmView::from(&alarm)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// `true` (the default) only reports what would be revoked; `false` revokes.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// The group a revocation was about.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRef {
    id: i64,
    path: String,
}

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

#[utoipa::path(
    post, path = "/api/admin/groups/{group}/revoke-sessions", tag = "admin",
    summary = "Revoke every session of a group's members (sub-groups and shares included)",
    description = "A dry run unless `dry_run=false`. A missing group is 404 and revokes nothing.",
    params(
        ("group" = String, Path, description = "Full path (URL-encoded, e.g. `acme%2Fplatform`), else numeric id"),
        DryRunQuery,
    ),
    responses(
        (status = 200, body = RevocationReportView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn revoke_group_sessions(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(group)): Checked<Path<String>>,
    Checked(Query(query)): Checked<Query<DryRunQuery>>,
) -> Result<Json<RevocationReportView>, ApiError> {
    let dry_run = match query.dry_run.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dry_run must be true or false, not {other:?}"
            )));
        }
    };
    let report = state
        .service
        .revoke_group_sessions(&group, dry_run, &admin.actor, &NoProgress)
        .await?;
    let text = report.to_string();
    let group = report
        .group
        .as_ref()
        .map(|g| GroupRef {
            id: g.id,
            path: g.path.to_string(),
        })
        .ok_or_else(|| ApiError::not_found("no such group"))?;
    Ok(Json(RevocationReportView {
        group,
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
        report: text,
    }))
}
