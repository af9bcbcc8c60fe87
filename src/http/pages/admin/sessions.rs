//! The admin console's Sessions page: every active session, filtered by user or address,
//! with **Terminate** on each.

use super::{ActionForm, AdminPage, Listing, PageState, Pager, admin_return_to, banner, show};
use crate::domain::address_filter::AddressFilter;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::query_value;
use crate::http::flash::{self, Flash};
use crate::http::pages::session_details::SessionDetails;
use crate::http::pages::{FormBody, check_form};
use crate::http::respond::{Nav, redirect};
use crate::store::SessionFilter;
use crate::views::DEFAULT_PAGE;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

/// Most usernames the user filter suggests.
const SUGGESTED_USERS: usize = 100;

struct SessionRow {
    id: String,
    username: String,
    remember_me: bool,
    /// The administrator's own current session: marked, with Log out instead of Terminate.
    is_yours: bool,
    details: SessionDetails,
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
    /// Usernames the user filter offers as the administrator types.
    suggestions: Vec<String>,
    return_to: String,
    rows: Vec<SessionRow>,
    pager: Pager,
}

#[derive(Deserialize)]
pub(super) struct SessionsQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    ip: String,
    #[serde(flatten)]
    page: PageState,
}

pub(super) async fn page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<SessionsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/sessions");
    };
    let now = state.service.now();
    let base = format!(
        "/admin/sessions?user={}&ip={}&",
        query_value(query.user.trim()),
        query_value(query.ip.trim())
    );
    let user_text = query.user.trim();
    // The users the filter names, which are also the suggestions; with no filter, everybody.
    let users = match user_text {
        "" => state.service.list_users().await,
        text => state.service.users_matching(text).await,
    };
    let suggestions = users.as_ref().map_or_else(
        |_| Vec::new(),
        |users| {
            let mut names: Vec<String> = users.iter().map(|u| u.username.to_string()).collect();
            names.sort();
            names.truncate(SUGGESTED_USERS);
            names
        },
    );
    let fetch = async |offset| {
        let address = match query.ip.trim() {
            "" => None,
            text => Some(
                AddressFilter::parse(text)
                    .map_err(|e| format!("The IP address filter must be {e}."))?,
            ),
        };
        let users = match (user_text, users) {
            ("", _) => None,
            (_, Err(error)) => return Err(banner(error)),
            (text, Ok(users)) if users.is_empty() => {
                return Err(format!("No user matches {text:?}."));
            }
            (_, Ok(users)) => Some(users.iter().map(|u| u.id).collect()),
        };
        let filter = SessionFilter { users, address };
        state
            .service
            .list_sessions(&filter, DEFAULT_PAGE, offset)
            .await
            .map_err(banner)
    };
    let outcome = flash::take(&state, &headers, &auth).await;
    let listing = Listing::load(&query.page, outcome, &base, fetch, |s| SessionRow {
        id: s.id.clone(),
        username: s.username.clone(),
        remember_me: s.remember_me,
        is_yours: s.id == auth.session.id,
        details: SessionDetails::new(s, now),
    })
    .await;
    show(
        &state,
        &headers,
        &auth,
        "admin-sessions",
        |nav, csrf_token| SessionsPage {
            nav: Some(nav),
            csrf_token,
            notice: listing.notice,
            problem: listing.problem,
            return_to: format!("{base}offset={}", query.page.offset()),
            pager: listing.pager,
            rows: listing.rows,
            filter_user: query.user,
            filter_ip: query.ip,
            suggestions,
        },
    )
    .await
}

pub(super) async fn terminate(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path(id): Path<String>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    // The administrator's own current session is refused, as by the API: Log out ends it.
    let result = state
        .service
        .terminate_session(&id, &actor, Some(&auth.session.id))
        .await;
    let return_to = admin_return_to(form.return_to.as_deref(), "/admin/sessions");
    let outcome = result
        .map(|s| Flash::done("terminated", &s.username, 1))
        .map_err(ApiError::from);
    flash::back(&state, &auth, &return_to, outcome).await
}
