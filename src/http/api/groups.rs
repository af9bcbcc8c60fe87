//! The admin API's groups: the tree, creating groups, members and shares, and revoking
//! every session of a group's members with a dry run first.

use crate::http::AppState;
use crate::http::api::JsonBody;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, JsonBodyErrors, examples};
use crate::service::{NoProgress, ServiceError};
use crate::views::{
    CreatedGroups, ErrorBody, GroupTree, MemberBody, NewGroupBody, RevocationReportView, ShareBody,
    parse_dry_run,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(group_tree, create_group))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(share_group))
        .routes(routes!(unshare_group))
        .routes(routes!(preview_revocation, revoke_group_sessions))
}

#[utoipa::path(
    get, path = "/api/admin/groups", tag = "admin",
    summary = "Every group in tree order, with members, shares and active sessions",
    responses(
        (status = 200, body = GroupTree, description = "The groups, parents before their sub-groups",
         example = json!(examples::group_tree())),
        AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn group_tree(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<GroupTree>, ApiError> {
    let tree = state.service.group_tree().await?;
    Ok(Json(GroupTree::new(&tree)))
}

#[utoipa::path(
    post, path = "/api/admin/groups", tag = "admin",
    summary = "Create a group (with `parents`, its missing ancestors too)",
    request_body = NewGroupBody,
    responses(
        (status = 201, body = CreatedGroups, description = "The groups created, outermost first",
         example = json!(examples::created_groups())),
        (status = 400, body = ErrorBody, description = "Not a valid group path"),
        (status = 404, body = ErrorBody, description = "The parent group does not exist and `parents` is not set"),
        (status = 409, body = ErrorBody, description = "The group exists already"),
        JsonBodyErrors, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn create_group(
    State(state): State<AppState>,
    admin: AdminCaller,
    JsonBody(body): JsonBody<NewGroupBody>,
) -> Result<(StatusCode, Json<CreatedGroups>), ApiError> {
    let created = state
        .service
        .create_group(&body.path, body.name, body.parents, &admin.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedGroups::new(&created))))
}

/// Names a group in a path: full path (URL-encoded), else numeric id.
const GROUP_PARAM: &str = "Full path (URL-encoded, e.g. `acme%2Fplatform`), else numeric id";

#[utoipa::path(
    post, path = "/api/admin/groups/{group}/members", tag = "admin",
    summary = "Make a user a direct member of a group",
    params(("group" = String, Path, description = GROUP_PARAM, example = "acme/platform")),
    request_body = MemberBody,
    responses(
        (status = 204, description = "Added"),
        BadRequest,
        (status = 404, body = ErrorBody, description = "No such group or user"),
        (status = 409, body = ErrorBody, description = "Already a direct member"),
        JsonBodyErrors, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn add_member(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(group)): Checked<Path<String>>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<StatusCode, ApiError> {
    let group = state.service.find_group(&group).await?;
    let user = state.service.find_user(&body.user).await?;
    if !state
        .service
        .add_group_member(&group, &user, &admin.actor)
        .await?
    {
        let message = format!("{} is already a member of {}", user.username, group.path);
        return Err(ServiceError::Conflict(message).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/api/admin/groups/{group}/members/{user}", tag = "admin",
    summary = "End a user's direct membership of a group",
    description = "Memberships by nesting or shares are not direct and stay.",
    params(
        ("group" = String, Path, description = GROUP_PARAM, example = "acme/platform"),
        ("user" = String, Path, description = "Username, numeric id or e-mail address", example = "alice"),
    ),
    responses(
        (status = 204, description = "Removed"),
        BadRequest,
        (status = 404, body = ErrorBody, description = "No such group or user, or not a direct member"),
        AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn remove_member(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path((group, user))): Checked<Path<(String, String)>>,
) -> Result<StatusCode, ApiError> {
    let group = state.service.find_group(&group).await?;
    let user = state.service.find_user(&user).await?;
    if !state
        .service
        .remove_group_member(&group, &user, &admin.actor)
        .await?
    {
        let message = format!("{} is not a direct member of {}", user.username, group.path);
        return Err(ServiceError::NotFound(message).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/api/admin/groups/{group}/shares", tag = "admin",
    summary = "Share a group with another: the other's members become its members",
    params(("group" = String, Path, description = GROUP_PARAM, example = "acme/platform")),
    request_body = ShareBody,
    responses(
        (status = 204, description = "Shared"),
        (status = 400, body = ErrorBody,
         description = "A share with itself, or back with a group shared with it (a cycle)"),
        (status = 404, body = ErrorBody, description = "No such group"),
        (status = 409, body = ErrorBody, description = "Already shared"),
        JsonBodyErrors, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn share_group(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(group)): Checked<Path<String>>,
    JsonBody(body): JsonBody<ShareBody>,
) -> Result<StatusCode, ApiError> {
    let group = state.service.find_group(&group).await?;
    let with = state.service.find_group(&body.with).await?;
    if !state
        .service
        .share_group(&group, &with, &admin.actor)
        .await?
    {
        let message = format!("{} is already shared with {}", group.path, with.path);
        return Err(ServiceError::Conflict(message).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/api/admin/groups/{group}/shares/{other}", tag = "admin",
    summary = "End the share of a group with another",
    params(
        ("group" = String, Path, description = GROUP_PARAM, example = "acme/platform"),
        ("other" = String, Path, description = GROUP_PARAM, example = "partners"),
    ),
    responses(
        (status = 204, description = "Unshared"),
        BadRequest,
        (status = 404, body = ErrorBody, description = "No such group, or no such share"),
        AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn unshare_group(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path((group, other))): Checked<Path<(String, String)>>,
) -> Result<StatusCode, ApiError> {
    let group = state.service.find_group(&group).await?;
    let with = state.service.find_group(&other).await?;
    if !state
        .service
        .unshare_group(&group, &with, &admin.actor)
        .await?
    {
        let message = format!("{} is not shared with {}", group.path, with.path);
        return Err(ServiceError::NotFound(message).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// `true` (the default) only reports what would be revoked; `false` revokes.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

#[utoipa::path(
    get, path = "/api/admin/groups/{group}/revoke-sessions", tag = "admin",
    summary = "Preview a group revocation: what `POST` would end, ending nothing",
    params(("group" = String, Path, description = GROUP_PARAM, example = "acme/platform")),
    responses(
        (status = 200, body = RevocationReportView, description = "What a revocation would end",
         example = json!(examples::revocation_report())),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such group"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn preview_revocation(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(group)): Checked<Path<String>>,
) -> Result<Json<RevocationReportView>, ApiError> {
    revocation(&state, &admin, &group, true).await
}

#[utoipa::path(
    post, path = "/api/admin/groups/{group}/revoke-sessions", tag = "admin",
    summary = "Revoke every session of a group's members (sub-groups and shares included)",
    description = "A dry run unless `dry_run=false`. A missing group is 404 and revokes nothing.",
    params(
        ("group" = String, Path, description = GROUP_PARAM, example = "acme/platform"),
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
    revocation(&state, &admin, &group, dry_run).await
}

async fn revocation(
    state: &AppState,
    admin: &AdminCaller,
    group: &str,
    dry_run: bool,
) -> Result<Json<RevocationReportView>, ApiError> {
    let report = state
        .service
        .revoke_group_sessions(group, dry_run, &admin.actor, &NoProgress)
        .await?;
    RevocationReportView::new(&report)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such group"))
}
