//! The admin API's group revocation: every session of a group's members.

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, examples};
use crate::service::NoProgress;
use crate::views::{ErrorBody, RevocationReportView, parse_dry_run};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(revoke_group_sessions))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// `true` (the default) only reports what would be revoked; `false` revokes.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

#[utoipa::path(
    post, path = "/api/admin/groups/{group}/revoke-sessions", tag = "admin",
    summary = "Revoke every session of a group's members (sub-groups and shares included)",
    description = "A dry run unless `dry_run=false`. A missing group is 404 and revokes nothing.",
    params(
        ("group" = String, Path, description = "Full path (URL-encoded, e.g. `acme%2Fplatform`), else numeric id",
         example = "acme/platform"),
        DryRunQuery,
    ),
    responses(
        (status = 200, body = RevocationReportView, description = "What was revoked, or would be in a dry run",
         example = json!(examples::revocation_report())),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such group"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn revoke_group_sessions(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(group)): Checked<Path<String>>,
    Checked(Query(query)): Checked<Query<DryRunQuery>>,
) -> Result<Json<RevocationReportView>, ApiError> {
    let dry_run = parse_dry_run(query.dry_run.as_deref())?;
    let report = state
        .service
        .revoke_group_sessions(&group, dry_run, &admin.actor, &NoProgress)
        .await?;
    RevocationReportView::new(&report)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such group"))
}
