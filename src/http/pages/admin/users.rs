//! The admin console's Users page: every user with their sessions, a search, and in each
//! row's actions menu **Edit**, **Reset password**, **Logout all devices**, **Block** or
//! **Unblock**, **Unlock** and **Delete**. Creating, editing and resetting are in
//! `user_forms`.

use super::{ActionForm, AdminPage, Listing, PageState, Pager, banner, show};
use crate::domain::user::{UserKind, UserState};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::query_value;
use crate::http::flash::{self, Flash};
use crate::http::pages::times::TimeView;
use crate::http::pages::{FormBody, check_form};
use crate::http::respond::{Nav, redirect};
use crate::service::ServiceError;
use crate::views::DEFAULT_PAGE;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

struct UserRow {
    id: i64,
    username: String,
    name: String,
    email: String,
    is_admin: bool,
    is_owner: bool,
    is_bot: bool,
    /// The administrator's own account: marked, and Logout All Devices warns.
    is_you: bool,
    blocked: bool,
    /// A reset password not yet changed.
    must_change_password: bool,
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
    search: String,
}

#[derive(Deserialize)]
pub(super) struct UsersQuery {
    #[serde(default)]
    search: String,
    #[serde(flatten)]
    page: PageState,
}

pub(super) async fn page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<UsersQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/users");
    };
    let now = state.service.now();
    let search = query.search.trim();
    let base = format!("/admin/users?search={}&", query_value(search));
    let fetch = async |offset| {
        state
            .service
            .list_user_overviews(Some(search), DEFAULT_PAGE, offset)
            .await
            .map_err(banner)
    };
    let outcome = flash::take(&state, &headers, &auth).await;
    let listing = Listing::load(&query.page, outcome, &base, fetch, |o| UserRow {
        id: o.user.id,
        username: o.user.username.to_string(),
        name: o.user.name.clone(),
        email: o.user.email.as_str().to_owned(),
        is_admin: o.user.is_admin,
        is_owner: o.user.is_owner,
        is_bot: o.user.kind == UserKind::Bot,
        is_you: o.user.id == auth.user.id,
        blocked: o.user.state == UserState::Blocked,
        must_change_password: o.user.must_change_password,
        locked_until: o
            .user
            .locked_until
            .filter(|_| o.user.is_locked(now))
            .map(|t| TimeView::new(t, now)),
        active_sessions: o.active_sessions,
        last_active: o.last_active_at.map(|t| TimeView::new(t, now)),
    })
    .await;
    show(&state, &headers, &auth, "admin-users", |nav, csrf_token| {
        UsersPage {
            nav: Some(nav),
            csrf_token,
            notice: listing.notice,
            problem: listing.problem,
            pager: listing.pager,
            rows: listing.rows,
            search: search.to_owned(),
        }
    })
    .await
}

pub(super) async fn action(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let service = &state.service;
    let outcome = async {
        let user = service.user(id).await?;
        let count = match action.as_str() {
            "logout-all" => service.terminate_user_sessions(&user, &actor).await?,
            "block" => service.block_user(&user, &actor).await?,
            "unblock" => service.unblock_user(&user, &actor).await.map(|()| 0)?,
            "unlock" => service.unlock_user(&user, &actor).await.map(|()| 0)?,
            "delete" => service.delete_user(&user, &actor).await?,
            _ => return Err(ServiceError::NotFound(format!("no action {action:?}"))),
        };
        let kind = action.replace('-', "_");
        Ok(Flash::done(&kind, user.username.as_str(), count))
    }
    .await;
    flash::back(
        &state,
        &auth,
        "/admin/users",
        outcome.map_err(ApiError::from),
    )
    .await
}
