//! The admin console: Sessions, Users, Auth Audit and Alarms. Plain forms with CSRF tokens
//! and POST-redirect-GET; the outcome of an action comes back in the query for the banner.
//! The four listings share [`Listing`] and [`show`].

mod alarms;
mod audit;
mod sessions;
mod users;

use super::{is_site_path, render_with_token};
use crate::domain::audit::Actor;
use crate::domain::user::{User, Username};
use crate::http::AppState;
use crate::http::csrf::form_token;
use crate::http::error::ApiError;
use crate::http::extract::{PageUser, client_info};
use crate::http::respond::{Nav, failure_page, message_page, redirect};
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
        .route("/admin/users/{id}/{action}", post(users::action))
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
            return Err(message_page(
                StatusCode::FORBIDDEN,
                "Administrators only",
                "This page is for administrators. Ask one if you need something done here.",
            ));
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

    /// Where the page starts; anything unreadable or beyond what the stores count starts at
    /// the top.
    fn offset(&self) -> u64 {
        Paging::parse(None, self.offset.as_deref()).map_or(0, |paging| paging.offset)
    }

    fn problem(&self) -> Option<String> {
        Some(
            match self.error.as_deref()? {
                "not_found" => "That no longer exists; it may have ended or been handled already.",
                "owner_protected" => "The owner account cannot be blocked.",
                "cannot_block_self" => "You cannot block yourself.",
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
        Err(error) => failure_page(&error),
    }
}

/// Admin pages only come back to admin pages; anything else comes back to `default`.
fn admin_return_to(candidate: Option<&str>, default: &'static str) -> String {
    match candidate {
        Some(path) if path.starts_with("/admin/") && !path.contains("//") && is_site_path(path) => {
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

/// What every admin listing shows: one page of rows, the pager, and the banners.
struct Listing<R> {
    rows: Vec<R>,
    pager: Pager,
    notice: Option<String>,
    problem: Option<String>,
}

impl<R> Listing<R> {
    /// The page `state` asks for: `fetch` loads it from an offset (its error is the banner
    /// text), `row` makes a row of each item, and the pager's links start from `base`.
    async fn load<T>(
        state: &PageState,
        base: &str,
        fetch: impl AsyncFnOnce(u64) -> Result<Page<T>, String>,
        row: impl FnMut(&T) -> R,
    ) -> Listing<R> {
        let offset = state.offset();
        let (rows, total, problem) = match fetch(offset).await {
            Ok(page) => (
                page.items.iter().map(row).collect(),
                page.total,
                state.problem(),
            ),
            Err(message) => (Vec::new(), 0, Some(message)),
        };
        Listing {
            pager: Pager::new(base, offset, rows.len(), total),
            rows,
            notice: state.notice(),
            problem,
        }
    }
}

/// The banner text for a failed service call.
fn banner(error: ServiceError) -> String {
    ApiError::from(error).message
}

/// Renders an admin page for `auth`'s user: `page` gets the header for `section` and the
/// form token, whose cookie is set when the browser has none.
async fn show<P: Template>(
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
    let page = page(Nav::new(&auth.user, &csrf.token, section), csrf.token);
    render_with_token(StatusCode::OK, csrf.set_cookie, &page)
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
        for control in ["\r\nSet-Cookie: x=1", "\n", "\0"] {
            let path = format!("/admin/sessions{control}");
            assert_eq!(admin_return_to(Some(&path), "/d"), "/d", "{path:?}");
        }
    }
}
