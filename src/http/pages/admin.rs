//! The admin console: Sessions, Users, Auth Audit and Alarms. Plain forms with CSRF tokens
//! and POST-redirect-GET; the outcome of an action comes back in the query for the banner.

use super::times::TimeView;
use super::{FormBody, Nav, message_page, redirect, refused_form, render_with_token};
use crate::domain::audit::{Actor, AuditFilter, AuditKind};
use crate::domain::user::{User, Username};
use crate::http::AppState;
use crate::http::admin_api::{DEFAULT_PAGE, parse_alarm_state, parse_audit_kind};
use crate::http::csrf::{form_token, form_token_valid};
use crate::http::error::ApiError;
use crate::http::extract::{PageUser, query_value};
use crate::service::ServiceError;
use crate::store::SessionFilter;
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { redirect("/admin/sessions") }))
        .route("/admin/sessions", get(sessions_page))
        .route("/admin/sessions/{id}/terminate", post(terminate))
        .route("/admin/users", get(users_page))
        .route("/admin/users/{id}/{action}", post(user_action))
        .route("/admin/audit", get(audit_page))
        .route("/admin/alarms", get(alarms_page))
        .route("/admin/alarms/{id}/acknowledge", post(acknowledge))
}

/// A signed-in administrator on a page, with how the audit trail names them and where from;
/// others get a readable 403, strangers the sign-in page.
pub struct AdminPage(pub Arc<crate::service::auth::Authenticated>, pub Actor);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let PageUser(auth) = PageUser::from_request_parts(parts, state).await?;
        if !auth.user.is_admin {
            return Err(message_page(
                StatusCode::FORBIDDEN,
                "Administrators only",
                "This page is for administrators. Ask one if you need something done here.",
            ));
        }
        let actor = Actor::from_client(
            format!("user:{}", auth.user.username),
            &crate::http::extract::client_info(state, parts),
        );
        Ok(AdminPage(auth, actor))
    }
}

/// "Showing 51–100 of 121" with links that keep the filters.
struct Pager {
    first: u64,
    last: u64,
    total: u64,
    previous: Option<String>,
    next: Option<String>,
}

impl Pager {
    /// `base` is the page's URL with its filters and a trailing `?` or `&`.
    fn new(base: &str, offset: u64, shown: usize, total: u64) -> Pager {
        let page = u64::from(DEFAULT_PAGE);
        let last = offset + shown as u64;
        Pager {
            first: if shown == 0 { 0 } else { offset + 1 },
            last,
            total,
            previous: (offset > 0).then(|| format!("{base}offset={}", offset.saturating_sub(page))),
            next: (last < total).then(|| format!("{base}offset={last}")),
        }
    }
}

/// Where a listing starts (`offset`), and the outcome of the last action as it redirected
/// back: `?done=KIND&who=NAME&count=N` or
/// `?error=CODE`. Only known codes and valid usernames are shown, never free text.
// Every field is text: `serde(flatten)` in a query loses the type hints numbers need.
#[derive(Deserialize, Default)]
struct PageState {
    done: Option<String>,
    who: Option<String>,
    count: Option<String>,
    error: Option<String>,
    offset: Option<String>,
}

impl PageState {
    fn notice(&self) -> Option<String> {
        let who = self.who.as_deref().and_then(|w| Username::parse(w).ok())?;
        let count: u64 = self
            .count
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let sessions = |n: u64| format!("{n} session{}", if n == 1 { "" } else { "s" });
        Some(match self.done.as_deref()? {
            "terminated" => format!("Terminated {} of {who}.", sessions(count)),
            "logout_all" => format!(
                "Signed {who} out of all devices: terminated {}.",
                sessions(count)
            ),
            "block" => format!("Blocked {who}; terminated {}.", sessions(count)),
            "unblock" => format!("Unblocked {who}. They can sign in again."),
            "unlock" => format!("Unlocked {who}. They can sign in again."),
            "acknowledged" => format!("Acknowledged the alarm about {who}."),
            _ => return None,
        })
    }

    /// Where the page starts; anything unreadable starts at the top.
    fn offset(&self) -> u64 {
        self.offset
            .as_deref()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0)
    }

    fn problem(&self) -> Option<String> {
        Some(
            match self.error.as_deref()? {
                "not_found" => "That no longer exists; it may have ended or been handled already.",
                _ => "That action could not be done.",
            }
            .to_owned(),
        )
    }
}

/// Where to go after an action: back to the page (keeping its filters) with the outcome.
fn back(return_to: &str, outcome: Result<String, ApiError>) -> Response {
    let separator = if return_to.contains('?') { '&' } else { '?' };
    match outcome {
        Ok(query) => redirect(&format!("{return_to}{separator}{query}")),
        Err(error) if error.status.is_client_error() => {
            redirect(&format!("{return_to}{separator}error={}", error.code))
        }
        Err(error) => message_page(error.status, "Something went wrong", &error.message),
    }
}

/// Admin pages only come back to admin pages.
fn admin_return_to(candidate: Option<&str>, default: &'static str) -> String {
    match candidate {
        Some(path) if path.starts_with("/admin/") && !path.contains("//") => {
            // Drop a previous outcome so banners do not pile up.
            let (page, query) = path.split_once('?').unwrap_or((path, ""));
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .filter(|p| {
                    !["done=", "who=", "count=", "error="]
                        .iter()
                        .any(|k| p.starts_with(k))
                })
                .collect();
            if kept.is_empty() {
                page.to_owned()
            } else {
                format!("{page}?{}", kept.join("&"))
            }
        }
        _ => default.to_owned(),
    }
}

/// A user filter typed as username, id or e-mail; `Err` carries the banner text.
async fn resolve_user(state: &AppState, text: &str) -> Result<Option<User>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    match state.service.find_user(text).await {
        Ok(user) => Ok(Some(user)),
        Err(ServiceError::NotFound(_)) => Err(format!("No user {text:?}.")),
        Err(other) => Err(ApiError::from(other).message),
    }
}

struct SessionRow {
    id: String,
    username: String,
    ip_address: String,
    device: String,
    user_agent: String,
    remember_me: bool,
    created: TimeView,
    last_active: TimeView,
    expires: TimeView,
}

#[derive(Template)]
#[template(path = "admin/sessions.html")]
struct SessionsPage {
    nav: Option<Nav>,
    csrf_token: String,
    notice: Option<String>,
    problem: Option<String>,
    filter_user: String,
    filter_ip: String,
    return_to: String,
    rows: Vec<SessionRow>,
    pager: Pager,
}

#[derive(Deserialize)]
struct SessionsQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    ip: String,
    #[serde(flatten)]
    page: PageState,
}

async fn sessions_page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<SessionsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/sessions");
    };
    let now = state.service.now();
    let mut problem = query.page.problem();
    let mut rows = Vec::new();
    let mut total = 0;
    match resolve_user(&state, &query.user).await {
        Err(message) => problem = Some(message),
        Ok(user) => {
            let filter = SessionFilter {
                user_id: user.map(|u| u.id),
                ip_address: Some(query.ip.trim().to_owned()).filter(|ip| !ip.is_empty()),
            };
            match state
                .service
                .list_sessions(&filter, DEFAULT_PAGE, query.page.offset())
                .await
            {
                Ok(page) => {
                    total = page.total;
                    rows = page
                        .items
                        .iter()
                        .map(|s| SessionRow {
                            id: s.id.clone(),
                            username: s.username.clone(),
                            ip_address: s.ip_address.clone(),
                            device: super::user_sessions::device_name(&s.browser, &s.os),
                            user_agent: s.user_agent.clone(),
                            remember_me: s.remember_me,
                            created: TimeView::new(s.created_at, now),
                            last_active: TimeView::new(s.last_active_at, now),
                            expires: TimeView::new(s.expires_at, now),
                        })
                        .collect();
                }
                Err(error) => problem = Some(ApiError::from(error).message),
            }
        }
    }
    let base = format!(
        "/admin/sessions?user={}&ip={}&",
        query_value(query.user.trim()),
        query_value(query.ip.trim())
    );
    let csrf = form_token(&state, &headers);
    let page = SessionsPage {
        nav: Some(Nav::new(&auth.user, &csrf.token, "admin-sessions")),
        csrf_token: csrf.token,
        notice: query.page.notice(),
        problem,
        return_to: format!("{base}offset={}", query.page.offset()),
        pager: Pager::new(&base, query.page.offset(), rows.len(), total),
        rows,
        filter_user: query.user,
        filter_ip: query.ip,
    };
    render_with_token(StatusCode::OK, csrf.set_cookie, &page)
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    return_to: Option<String>,
}

async fn terminate(
    State(state): State<AppState>,
    AdminPage(_, actor): AdminPage,
    Path(id): Path<String>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if !form_token_valid(&state, &headers, &form.csrf_token) {
        return refused_form();
    }
    let result = state.service.terminate_session(&id, &actor).await;
    let return_to = admin_return_to(form.return_to.as_deref(), "/admin/sessions");
    back(
        &return_to,
        result
            .map(|s| format!("done=terminated&who={}&count=1", query_value(&s.username)))
            .map_err(ApiError::from),
    )
}

struct UserRow {
    id: i64,
    username: String,
    name: String,
    email: String,
    is_admin: bool,
    is_owner: bool,
    is_bot: bool,
    blocked: bool,
    locked_until: Option<TimeView>,
    active_sessions: u64,
    last_active: Option<TimeView>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    nav: Option<Nav>,
    csrf_token: String,
    notice: Option<String>,
    problem: Option<String>,
    rows: Vec<UserRow>,
    pager: Pager,
}

async fn users_page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<PageState>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/users");
    };
    let now = state.service.now();
    let mut problem = query.problem();
    let (rows, total) = match state
        .service
        .list_user_overviews(DEFAULT_PAGE, query.offset())
        .await
    {
        Ok(page) => (
            page.items
                .iter()
                .map(|o| UserRow {
                    id: o.user.id,
                    username: o.user.username.to_string(),
                    name: o.user.name.clone(),
                    email: o.user.email.as_str().to_owned(),
                    is_admin: o.user.is_admin,
                    is_owner: o.user.is_owner,
                    is_bot: o.user.kind == crate::domain::user::UserKind::Bot,
                    blocked: o.user.state == crate::domain::user::UserState::Blocked,
                    locked_until: o
                        .user
                        .locked_until
                        .filter(|_| o.user.is_locked(now))
                        .map(|t| TimeView::new(t, now)),
                    active_sessions: o.active_sessions,
                    last_active: o.last_active_at.map(|t| TimeView::new(t, now)),
                })
                .collect::<Vec<_>>(),
            page.total,
        ),
        Err(error) => {
            problem = Some(ApiError::from(error).message);
            (Vec::new(), 0)
        }
    };
    let csrf = form_token(&state, &headers);
    let page = UsersPage {
        nav: Some(Nav::new(&auth.user, &csrf.token, "admin-users")),
        csrf_token: csrf.token,
        notice: query.notice(),
        problem,
        pager: Pager::new("/admin/users?", query.offset(), rows.len(), total),
        rows,
    };
    render_with_token(StatusCode::OK, csrf.set_cookie, &page)
}

async fn user_action(
    State(state): State<AppState>,
    AdminPage(_, actor): AdminPage,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if !form_token_valid(&state, &headers, &form.csrf_token) {
        return refused_form();
    }
    let service = &state.service;
    let outcome = async {
        let user = service.user(id).await?;
        let count = match action.as_str() {
            "logout-all" => service.terminate_user_sessions(&user, &actor).await?,
            "block" => service.block_user(&user, &actor).await?,
            "unblock" => service.unblock_user(&user, &actor).await.map(|()| 0)?,
            "unlock" => service.unlock_user(&user, &actor).await.map(|()| 0)?,
            _ => return Err(ServiceError::NotFound(format!("no action {action:?}"))),
        };
        let done = action.replace('-', "_");
        Ok(format!(
            "done={done}&who={}&count={count}",
            query_value(user.username.as_str())
        ))
    }
    .await;
    back("/admin/users", outcome.map_err(ApiError::from))
}

/// An event kind as the filter offers it: `login_failure` shown as "login failure".
struct KindOption {
    value: &'static str,
    label: String,
    selected: bool,
}

struct AuditRow {
    at: TimeView,
    /// "login failure".
    kind: String,
    failure: bool,
    actor: String,
    subject: Option<String>,
    session_count: Option<u64>,
    ip_address: Option<String>,
    user_agent: String,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    notice: Option<String>,
    problem: Option<String>,
    filter_user: String,
    filter_kind: String,
    kinds: Vec<KindOption>,
    rows: Vec<AuditRow>,
    pager: Pager,
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    kind: String,
    #[serde(flatten)]
    page: PageState,
}

async fn audit_page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<AuditQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/audit");
    };
    let now = state.service.now();
    let mut problem = query.page.problem();
    let mut rows = Vec::new();
    let mut total = 0;
    let filter = async {
        let user = resolve_user(&state, &query.user).await?;
        let kind = parse_audit_kind(Some(&query.kind)).map_err(|e| e.message)?;
        Ok::<_, String>(AuditFilter {
            user_id: user.map(|u| u.id),
            kind,
        })
    }
    .await;
    match filter {
        Err(message) => problem = Some(message),
        Ok(filter) => match state
            .service
            .list_audit(&filter, DEFAULT_PAGE, query.page.offset())
            .await
        {
            Ok(page) => {
                total = page.total;
                rows = page
                    .items
                    .iter()
                    .map(|e| AuditRow {
                        at: TimeView::new(e.at, now),
                        kind: e.kind.as_str().replace('_', " "),
                        failure: e.outcome == crate::domain::audit::Outcome::Failure,
                        actor: e.actor.clone(),
                        subject: e.subject_username.clone(),
                        session_count: e.session_count,
                        ip_address: e.ip_address.clone().filter(|ip| !ip.is_empty()),
                        user_agent: e.user_agent.clone().unwrap_or_default(),
                        reason: e.reason.clone(),
                    })
                    .collect();
            }
            Err(error) => problem = Some(ApiError::from(error).message),
        },
    }
    let base = format!(
        "/admin/audit?user={}&kind={}&",
        query_value(query.user.trim()),
        query_value(&query.kind)
    );
    let csrf = form_token(&state, &headers);
    let page = AuditPage {
        nav: Some(Nav::new(&auth.user, &csrf.token, "admin-audit")),
        notice: query.page.notice(),
        problem,
        kinds: AuditKind::ALL
            .iter()
            .map(|k| KindOption {
                value: k.as_str(),
                label: k.as_str().replace('_', " "),
                selected: k.as_str() == query.kind,
            })
            .collect(),
        pager: Pager::new(&base, query.page.offset(), rows.len(), total),
        rows,
        filter_user: query.user,
        filter_kind: query.kind,
    };
    render_with_token(StatusCode::OK, csrf.set_cookie, &page)
}

struct AlarmRow {
    id: i64,
    username: String,
    addresses: Vec<String>,
    first_seen: TimeView,
    last_seen: TimeView,
    open: bool,
    acknowledged_by: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/alarms.html")]
struct AlarmsPage {
    nav: Option<Nav>,
    csrf_token: String,
    notice: Option<String>,
    problem: Option<String>,
    threshold: u32,
    show_all: bool,
    rows: Vec<AlarmRow>,
    pager: Pager,
}

#[derive(Deserialize)]
struct AlarmsQuery {
    state: Option<String>,
    #[serde(flatten)]
    page: PageState,
}

async fn alarms_page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<AlarmsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/alarms");
    };
    let now = state.service.now();
    let open_only = parse_alarm_state(query.state.as_deref()).unwrap_or(true);
    let mut problem = query.page.problem();
    let (rows, total) = match state
        .service
        .list_alarms(open_only, DEFAULT_PAGE, query.page.offset())
        .await
    {
        Ok(page) => (
            page.items
                .iter()
                .map(|a| AlarmRow {
                    id: a.id,
                    username: a.username.clone(),
                    addresses: a.ip_addresses.clone(),
                    first_seen: TimeView::new(a.first_seen_at, now),
                    last_seen: TimeView::new(a.last_seen_at, now),
                    open: a.is_open(),
                    acknowledged_by: a.acknowledged_by.clone(),
                })
                .collect::<Vec<_>>(),
            page.total,
        ),
        Err(error) => {
            problem = Some(ApiError::from(error).message);
            (Vec::new(), 0)
        }
    };
    let base = if open_only {
        "/admin/alarms?"
    } else {
        "/admin/alarms?state=all&"
    };
    let csrf = form_token(&state, &headers);
    let page = AlarmsPage {
        nav: Some(Nav::new(&auth.user, &csrf.token, "admin-alarms")),
        csrf_token: csrf.token,
        notice: query.page.notice(),
        problem,
        threshold: state.service.policy.ip_spread_threshold,
        show_all: !open_only,
        pager: Pager::new(base, query.page.offset(), rows.len(), total),
        rows,
    };
    render_with_token(StatusCode::OK, csrf.set_cookie, &page)
}

async fn acknowledge(
    State(state): State<AppState>,
    AdminPage(_, actor): AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if !form_token_valid(&state, &headers, &form.csrf_token) {
        return refused_form();
    }
    let result = state.service.acknowledge_alarm(id, &actor).await;
    back(
        "/admin/alarms",
        result
            .map(|a| format!("done=acknowledged&who={}", query_value(&a.username)))
            .map_err(ApiError::from),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_filters() {
        let pager = Pager::new("/admin/sessions?user=al&", 50, 50, 121);
        assert_eq!((pager.first, pager.last, pager.total), (51, 100, 121));
        assert_eq!(
            pager.previous.as_deref(),
            Some("/admin/sessions?user=al&offset=0")
        );
        assert_eq!(
            pager.next.as_deref(),
            Some("/admin/sessions?user=al&offset=100")
        );
        let last = Pager::new("/x?", 100, 21, 121);
        assert_eq!(last.next, None);
    }

    #[test]
    fn banners_show_only_known_outcomes_and_real_usernames() {
        let outcome = PageState {
            done: Some("terminated".into()),
            who: Some("alice".into()),
            count: Some("1".into()),
            ..PageState::default()
        };
        assert_eq!(outcome.notice().unwrap(), "Terminated 1 session of alice.");
        let forged = PageState {
            done: Some("terminated".into()),
            who: Some("Call +1 555 to restore access".into()),
            ..PageState::default()
        };
        assert_eq!(forged.notice(), None);
    }

    #[test]
    fn actions_return_only_to_admin_pages_without_old_banners() {
        assert_eq!(
            admin_return_to(
                Some("/admin/sessions?user=al&done=terminated&who=x&offset=50"),
                "/d"
            ),
            "/admin/sessions?user=al&offset=50"
        );
        assert_eq!(
            admin_return_to(Some("https://evil.example/admin/"), "/d"),
            "/d"
        );
        assert_eq!(admin_return_to(Some("/-/user/sessions"), "/d"), "/d");
    }
}
