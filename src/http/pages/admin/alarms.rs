//! The admin console's Alarms page: IP-spread alarms, open ones or all, with **Acknowledge**.

use super::{ActionForm, AdminPage, Listing, PageState, Pager, banner, show};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::flash::{self, Flash};
use crate::http::pages::times::TimeView;
use crate::http::pages::{FormBody, check_form};
use crate::http::respond::{Nav, redirect};
use crate::i18n::Localized as _;
use crate::views::{DEFAULT_PAGE, parse_alarm_state};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

struct AlarmRow {
    id: i64,
    username: String,
    addresses: Vec<String>,
    first_seen: TimeView,
    last_seen: TimeView,
    /// The user's active sessions now; none left says so on the alarm.
    sessions_left: u64,
    /// Who acknowledged it and when; `None` while it is open.
    acknowledged: Option<Acknowledged>,
}

struct Acknowledged {
    by: String,
    at: TimeView,
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
pub(super) struct AlarmsQuery {
    state: Option<String>,
    #[serde(flatten)]
    page: PageState,
}

pub(super) async fn page(
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
    let base = if open_only {
        "/admin/alarms?"
    } else {
        "/admin/alarms?state=all&"
    };
    let fetch = async |offset| {
        state
            .service
            .list_alarms_with_sessions(open_only, DEFAULT_PAGE, offset)
            .await
            .map_err(banner)
    };
    let outcome = flash::take(&state, &headers, &auth).await;
    let listing = Listing::load(&query.page, outcome, base, fetch, |(a, sessions)| {
        AlarmRow {
            sessions_left: *sessions,
            id: a.id,
            username: a.username.clone(),
            addresses: a.ip_addresses.clone(),
            first_seen: TimeView::new(a.first_seen_at, now),
            last_seen: TimeView::new(a.last_seen_at, now),
            acknowledged: a.acknowledged_at.map(|at| Acknowledged {
                by: a.acknowledged_by.clone().unwrap_or_default(),
                at: TimeView::new(at, now),
            }),
        }
    })
    .await;
    show(
        &state,
        &headers,
        &auth,
        "admin-alarms",
        |nav, csrf_token| AlarmsPage {
            nav: Some(nav),
            csrf_token,
            notice: listing.notice,
            problem: listing.problem,
            threshold: state.service.policy.ip_spread_threshold,
            show_all: !open_only,
            pager: listing.pager,
            rows: listing.rows,
        },
    )
    .await
}

pub(super) async fn acknowledge(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let result = state.service.acknowledge_alarm(id, &actor).await;
    let outcome = result
        .map(|a| Flash::done("acknowledged", &a.username, 0))
        .map_err(ApiError::from);
    flash::back(&state, &auth, "/admin/alarms", outcome).await
}
