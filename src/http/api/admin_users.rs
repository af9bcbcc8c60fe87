//! The admin API's users: a listing with session counts, and blocking, unblocking, unlocking.

use crate::http::AppState;
use crate::http::api::PageQuery;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, examples};
use crate::views::{ErrorBody, RecordId, Revoked, UserPage};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(block_user))
        .routes(routes!(unblock_user))
        .routes(routes!(unlock_user))
}

#[utoipa::path(
    get, path = "/api/admin/users", tag = "admin",
    summary = "Users with their active-session count and last activity",
    params(PageQuery),
    responses(
        (status = 200, body = UserPage, description = "One page of users and how many there are",
         example = json!(examples::user_page())),
        BadRequest, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_users(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(page)): Checked<Query<PageQuery>>,
) -> Result<Json<UserPage>, ApiError> {
    let paging = page.paging()?;
    let page = state
        .service
        .list_user_overviews(paging.limit, paging.offset)
        .await?;
    Ok(Json(UserPage::new(&page, paging, state.service.now())))
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/block", tag = "admin",
    summary = "Block a user: no more logins, every session ends now",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    responses(
        (status = 200, body = Revoked, description = "Blocked; how many sessions ended",
         example = json!(Revoked { revoked: 2 })),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 409, body = ErrorBody,
         description = "Refused: the user is the owner (`owner_protected`) or the caller \
                        (`cannot_block_self`)"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn block_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
) -> Result<Json<Revoked>, ApiError> {
    let user = state.service.user(id).await?;
    let revoked = state.service.block_user(&user, &admin.actor).await?;
    Ok(Json(Revoked { revoked }))
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/unblock", tag = "admin",
    summary = "Let a blocked user sign in again",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    responses(
        (status = 204, description = "Unblocked"),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn unblock_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
) -> Result<StatusCode, ApiError> {
    let user = state.service.user(id).await?;
    state.service.unblock_user(&user, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/unlock", tag = "admin",
    summary = "Lift a lockout after failed logins",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    responses(
        (status = 204, description = "Unlocked"),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn unlock_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
) -> Result<StatusCode, ApiError> {
    let user = state.service.user(id).await?;
    state.service.unlock_user(&user, &admin.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
