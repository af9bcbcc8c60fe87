//! The admin console's Auth Audit page: the audit trail, filtered by user or event kind.

use super::{AdminPage, Listing, PageState, Pager, banner, resolve_user, show};
use crate::domain::audit::{AuditFilter, AuditKind, Outcome};
use crate::http::AppState;
use crate::http::extract::query_value;
use crate::http::flash;
use crate::http::pages::times::TimeView;
use crate::http::pages::words;
use crate::http::respond::{Nav, redirect};
use crate::i18n::Localized as _;
use crate::views::{DEFAULT_PAGE, parse_audit_kind};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

/// An event kind as the filter offers it: `login_failure` shown as "login failure", in the
/// request's language.
struct KindOption {
    value: &'static str,
    label: String,
    selected: bool,
}

struct AuditRow {
    at: TimeView,
    /// "login failure", in the request's language.
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
pub(super) struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    kind: String,
    #[serde(flatten)]
    page: PageState,
}

pub(super) async fn page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    query: Result<Query<AuditQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(query)) = query else {
        return redirect("/admin/audit");
    };
    let now = state.service.now();
    let base = format!(
        "/admin/audit?user={}&kind={}&",
        query_value(query.user.trim()),
        query_value(&query.kind)
    );
    let fetch = async |offset| {
        let user = resolve_user(&state, &query.user).await?;
        let filter = AuditFilter {
            user_id: user.map(|u| u.id),
            kind: parse_audit_kind(Some(&query.kind)).map_err(|e| e.0)?,
        };
        state
            .service
            .list_audit(&filter, DEFAULT_PAGE, offset)
            .await
            .map_err(banner)
    };
    let outcome = flash::take(&state, &headers, &auth).await;
    let listing = Listing::load(&query.page, outcome, &base, fetch, |e| AuditRow {
        at: TimeView::new(e.at, now),
        kind: words::audit_kind(e.kind),
        failure: e.outcome == Outcome::Failure,
        actor: e.actor.clone(),
        subject: e.subject_username.clone(),
        session_count: e.session_count,
        ip_address: e.ip_address.clone().filter(|ip| !ip.is_empty()),
        user_agent: e.user_agent.clone().unwrap_or_default(),
        reason: e.reason.clone(),
    })
    .await;
    show(&state, &headers, &auth, "admin-audit", |nav, _| AuditPage {
        nav: Some(nav),
        notice: listing.notice,
        problem: listing.problem,
        kinds: AuditKind::ALL
            .iter()
            .map(|k| KindOption {
                value: k.as_str(),
                label: words::audit_kind(*k),
                selected: k.as_str() == query.kind,
            })
            .collect(),
        pager: listing.pager,
        rows: listing.rows,
        filter_user: query.user,
        filter_kind: query.kind,
    })
    .await
}
