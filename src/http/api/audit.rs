//! The admin API's audit trail.

use crate::domain::audit::AuditFilter;
use crate::http::AppState;
use crate::http::api::PageQuery;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, examples};
use crate::views::{AuditPage, audit_kinds, parse_audit_kind, parse_user_id};
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this user (numeric id).
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = Option<i64>)]
    user_id: Option<String>,
    /// Only this kind of event.
    #[param(schema_with = audit_kinds)]
    kind: Option<String>,
}

#[utoipa::path(
    get, path = "/api/admin/audit", tag = "admin",
    summary = "The audit trail, newest first",
    params(PageQuery, AuditQuery),
    responses(
        (status = 200, body = AuditPage, description = "One page of events and how many match",
         example = json!(examples::audit_page())),
        BadRequest, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_audit(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(page)): Checked<Query<PageQuery>>,
    Checked(Query(query)): Checked<Query<AuditQuery>>,
) -> Result<Json<AuditPage>, ApiError> {
    let paging = page.paging()?;
    let filter = AuditFilter {
        user_id: parse_user_id(query.user_id.as_deref())?,
        kind: parse_audit_kind(query.kind.as_deref())?,
    };
    let page = state
        .service
        .list_audit(&filter, paging.limit, paging.offset)
        .await?;
    Ok(Json(AuditPage::new(&page, paging)))
}
