//! The admin console: Sessions, Users, Groups, Auth Audit and Alarms. Plain forms with CSRF tokens
//! and POST-redirect-GET; the outcome of an action comes back as a one-time flash for the
//! banner.
//! The four listings share [`Listing`] and [`show`].

mod alarms;
mod audit;
mod groups;
mod revocations;
mod sessions;
mod user_forms;
mod users;

use super::{is_site_path, render_with_token};
use crate::domain::audit::Actor;
use crate::domain::user::User;
use crate::http::AppState;
use crate::http::csrf::form_token;
use crate::http::error::ApiError;
use crate::http::extract::{PageUser, client_info};
use crate::http::flash::{self, Flash};
use crate::http::respond::{MessagePage, Nav, failure_page, redirect};
use crate::i18n::{msg, t};
use crate::service::ServiceError;
use crate::service::authenticated::Authenticated;
use crate::store::Page;
use crate::views::{DEFAULT_PAGE, Paging};
use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { redirect("/admin/sessions") }))
        .route("/admin/sessions", get(sessions::page))
        .route("/admin/sessions/{id}/terminate", post(sessions::terminate))
        .route("/admin/users", get(users::page))
        .route(
            "/admin/users/new",
            get(user_forms::new_user).post(user_forms::create),
        )
        .route(
            "/admin/users/{id}/edit",
            get(user_forms::edit).post(user_forms::update),
        )
        .route(
            "/admin/users/{id}/reset-password",
            post(user_forms::reset_password),
        )
        .route("/admin/users/{id}/{action}", post(users::action))
        .route("/admin/groups", get(groups::page).post(groups::create))
        .route(
            "/admin/groups/{id}/revoke",
            get(groups::preview).post(groups::confirm),
        )
        .route("/admin/groups/{id}/{action}", post(groups::action))
        .route("/admin/groups/revocations/{job}", get(revocations::page))
        .route(
            "/admin/groups/revocations/{job}/status",
            get(revocations::status),
        )
        .route("/admin/audit", get(audit::page))
        .route("/admin/alarms", get(alarms::page))
        .route("/admin/alarms/{id}/acknowledge", post(alarms::acknowledge))
}

/// A signed-in administrator on a page, with how the audit trail names them and where from;
/// others get a readable 403, strangers the sign-in page.
pub struct AdminPage(pub Arc<Authenticated>, pub Actor);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let PageUser(auth) = PageUser::from_request_parts(parts, state).await?;
        if !auth.user.is_admin {
            // Under the header, so the way on (Active sessions, Log out) stays in view.
            let refusal = |nav, _| MessagePage {
                nav: Some(nav),
                heading: t("page-admin-only-heading"),
                message: t("page-admin-only-message"),
            };
            let status = StatusCode::FORBIDDEN;
            return Err(show_as(status, state, &parts.headers, &auth, "", refusal).await);
        }
        let actor = Actor::user(&auth.user, &client_info(state, parts));
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

/// Where a listing starts (`offset`).
// Text rather than a number: `serde(flatten)` in a query loses the type hints numbers need.
#[derive(Deserialize, Default)]
struct PageState {
    offset: Option<String>,
}

impl PageState {
    /// Where the page starts; anything unreadable or beyond what the stores count starts at
    /// the top.
    fn offset(&self) -> u64 {
        Paging::parse(None, self.offset.as_deref()).map_or(0, |paging| paging.offset)
    }
}

/// The banner for an action done; only known kinds are shown.
fn notice(outcome: &Flash) -> Option<String> {
    let Flash::Done { kind, who, count } = outcome else {
        return None;
    };
    let message = match kind.as_str() {
        "terminated" => msg("admin-notice-terminated"),
        "logout_all" => msg("admin-notice-logout-all"),
        "block" => msg("admin-notice-block"),
        "unblock" => msg("admin-notice-unblock"),
        "unlock" => msg("admin-notice-unlock"),
        "delete" => msg("admin-notice-delete"),
        "updated" => msg("admin-notice-updated"),
        "acknowledged" => msg("admin-notice-acknowledged"),
        _ => return None,
    };
    Some(message.arg("user", who).arg("count", count).to_string())
}

/// The banner for an action refused.
fn problem(outcome: &Flash) -> Option<String> {
    let Flash::Refused { code, .. } = outcome else {
        return None;
    };
    Some(match code.as_str() {
        "not_found" => t("admin-problem-not-found"),
        "owner_protected" => t("admin-problem-owner-protected"),
        "cannot_block_self" => t("admin-problem-cannot-block-self"),
        "cannot_delete_self" => t("admin-problem-cannot-delete-self"),
        "current_session" => t("admin-problem-current-session"),
        _ => t("admin-problem-other"),
    })
}

/// Admin pages only come back to admin pages; anything else comes back to `default`.
fn admin_return_to(candidate: Option<&str>, default: &'static str) -> String {
    match candidate {
        Some(path) if path.starts_with("/admin/") && !path.contains("//") && is_site_path(path) => {
            // Drop the outcome parameters of older links: they no longer carry banners.
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
        Err(ServiceError::NotFound(_)) => {
            Err(msg("admin-no-such-user").arg("name", text).to_string())
        }
        Err(other) => Err(ApiError::from(other).message),
    }
}

/// What every admin listing shows: one page of rows, the pager, and the banners.
struct Listing<R> {
    rows: Vec<R>,
    pager: Pager,
    notice: Option<String>,
    problem: Option<String>,
}

impl<R> Listing<R> {
    /// The page `state` asks for, with the banners of the last action's `outcome`: `fetch`
    /// loads it from an offset (its error is the banner text), `row` makes a row of each
    /// item, and the pager's links start from `base`.
    async fn load<T>(
        state: &PageState,
        outcome: Option<Flash>,
        base: &str,
        fetch: impl AsyncFnOnce(u64) -> Result<Page<T>, String>,
        row: impl FnMut(&T) -> R,
    ) -> Listing<R> {
        let offset = state.offset();
        let (rows, total, problem) = match fetch(offset).await {
            Ok(page) => (
                page.items.iter().map(row).collect(),
                page.total,
                outcome.as_ref().and_then(problem),
            ),
            Err(message) => (Vec::new(), 0, Some(message)),
        };
        Listing {
            pager: Pager::new(base, offset, rows.len(), total),
            rows,
            notice: outcome.as_ref().and_then(notice),
            problem,
        }
    }
}

/// The banner text for a failed service call.
fn banner(error: ServiceError) -> String {
    ApiError::from(error).message
}

/// Renders an admin page for `auth`'s user: `page` gets the header for `section` and the
/// form token, whose cookie is set when the browser has none; a flash shown is cleared.
async fn show<P: Template>(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    section: &'static str,
    page: impl FnOnce(Nav, String) -> P,
) -> Response {
    show_as(StatusCode::OK, state, headers, auth, section, page).await
}

/// [`show`] with another status than 200.
async fn show_as<P: Template>(
    status: StatusCode,
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    section: &'static str,
    page: impl FnOnce(Nav, String) -> P,
) -> Response {
    let csrf = match form_token(state, headers, Some(auth)).await {
        Ok(csrf) => csrf,
        Err(error) => return failure_page(&error),
    };
    let nav = Nav::new(state, &auth.user, &csrf.token, section).await;
    let page = page(nav, csrf.token);
    let mut response = render_with_token(status, csrf.set_cookie, &page);
    flash::clear_taken(state, headers, &mut response);
    response
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    return_to: Option<String>,
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
    fn banners_show_only_known_outcomes() {
        let done = Flash::done("terminated", "alice", 1);
        assert_eq!(notice(&done).unwrap(), "Terminated 1 session of alice.");
        assert_eq!(problem(&done), None);
        assert_eq!(notice(&Flash::done("pwned", "alice", 1)), None);
        let refused = Flash::Refused {
            code: "not_found".into(),
            message: String::new(),
        };
        assert_eq!(notice(&refused), None);
        let own = Flash::Refused {
            code: "current_session".into(),
            message: String::new(),
        };
        assert!(problem(&own).unwrap().contains("use Log out"));
        assert!(
            problem(&refused)
                .unwrap()
                .starts_with("That no longer exists")
        );
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
        for control in ["\r\nSet-Cookie: x=1", "\n", "\0"] {
            let path = format!("/admin/sessions{control}");
            assert_eq!(admin_return_to(Some(&path), "/d"), "/d", "{path:?}");
        }
    }
}
