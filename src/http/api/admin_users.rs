//! The admin API's users: a listing with session counts and a search; creating, editing,
//! deleting; blocking, unblocking, unlocking; resetting a password.

use crate::domain::password::Password;
use crate::domain::user::{Email, UserUpdate};
use crate::http::AppState;
use crate::http::api::{JsonBody, PageQuery};
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, JsonBodyErrors, examples};
use crate::service::users::CreateUser;
use crate::views::{
    AdminUserView, CreatedUserView, ErrorBody, PasswordResetView, RecordId, Revoked, UserPage,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user, delete_user))
        .routes(routes!(reset_password))
        .routes(routes!(block_user))
        .routes(routes!(unblock_user))
        .routes(routes!(unlock_user))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Only users whose username, e-mail address or name starts with this, in any case.
    search: Option<String>,
}

#[utoipa::path(
    get, path = "/api/admin/users", tag = "admin",
    summary = "Users with their active-session count and last activity",
    params(PageQuery, UserSearch),
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
    Checked(Query(query)): Checked<Query<UserSearch>>,
) -> Result<Json<UserPage>, ApiError> {
    let paging = page.paging()?;
    let page = state
        .service
        .list_user_overviews(query.search.as_deref(), paging.limit, paging.offset)
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    /// 1 to 64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    username: String,
    email: String,
    /// Display name (default: the username).
    name: Option<String>,
    #[serde(default)]
    admin: bool,
    /// The first password, which the user must change at their first sign-in; absent: a
    /// random one is generated and answered once.
    password: Option<String>,
    /// Give the username of a deleted user to this new one (else 409 `username_was_deleted`).
    #[serde(default)]
    reuse_deleted_username: bool,
}

#[utoipa::path(
    post, path = "/api/admin/users", tag = "admin",
    summary = "Create a user, who must change the password at the first sign-in",
    request_body(content = NewUserBody, example = json!({
        "username": "carol", "email": "carol@example.com", "name": "Carol", "admin": false
    })),
    responses(
        (status = 201, body = CreatedUserView,
         description = "Created; `password` is the generated one (null when one was given), shown only here",
         example = json!(examples::created_user())),
        JsonBodyErrors,
        (status = 400, body = ErrorBody,
         description = "Bad JSON, a bad username or e-mail address, or a password against the policy"),
        AdminErrors,
        (status = 409, body = ErrorBody,
         description = "The username or e-mail address is taken (`conflict`), or was a deleted \
                        user's username (`username_was_deleted`: send `reuse_deleted_username`)"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn create_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<(StatusCode, Json<CreatedUserView>), ApiError> {
    let request = CreateUser {
        username: body.username,
        email: body.email,
        name: body.name,
        is_admin: body.admin,
        is_bot: false,
        password: body.password.map(Password::new),
        must_change_password: true,
        reuse_deleted_username: body.reuse_deleted_username,
    };
    let created = state.service.create_user(request, &admin.actor).await?;
    let overview = state.service.user_overview(created.user).await?;
    let view = CreatedUserView {
        user: AdminUserView::new(&overview, state.service.now()),
        password: created.generated_password.map(|p| p.expose().to_owned()),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserUpdateBody {
    email: Option<String>,
    name: Option<String>,
    /// The owner cannot be demoted (409 `owner_protected`).
    admin: Option<bool>,
}

#[utoipa::path(
    patch, path = "/api/admin/users/{id}", tag = "admin",
    summary = "Change a user's e-mail address, name or admin flag",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    request_body(content = UserUpdateBody, example = json!({"name": "Carol Example", "admin": true})),
    responses(
        (status = 200, body = AdminUserView, description = "The user as changed",
         example = json!(examples::admin_user())),
        JsonBodyErrors,
        (status = 400, body = ErrorBody, description = "Bad JSON, a bad e-mail address or name"),
        AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 409, body = ErrorBody,
         description = "The e-mail address is another user's (`conflict`), or the owner would be \
                        demoted (`owner_protected`)"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn update_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
    JsonBody(body): JsonBody<UserUpdateBody>,
) -> Result<Json<AdminUserView>, ApiError> {
    let user = state.service.user(id).await?;
    let email = match body.email.as_deref() {
        Some(email) => Some(Email::parse(email).map_err(ApiError::bad_request)?),
        None => None,
    };
    let update = UserUpdate {
        email,
        name: body.name,
        is_admin: body.admin,
    };
    let updated = state
        .service
        .update_user(&user, update, &admin.actor)
        .await?;
    let overview = state.service.user_overview(updated).await?;
    Ok(Json(AdminUserView::new(&overview, state.service.now())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PasswordResetBody {
    /// The new password; absent: a random one is generated and answered once.
    password: Option<String>,
}

#[utoipa::path(
    post, path = "/api/admin/users/{id}/reset-password", tag = "admin",
    summary = "Reset a password: every session ends, and the user must choose a new password at the next sign-in",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    request_body(content = PasswordResetBody, example = json!({})),
    responses(
        (status = 200, body = PasswordResetView,
         description = "Reset; `password` is the generated one (null when one was given), shown only here",
         example = json!(PasswordResetView { password: Some("Xq3v9LbT0mR2sW8yK1pN4dF6hJ7gC5aE".into()), revoked: 2 })),
        JsonBodyErrors,
        (status = 400, body = ErrorBody, description = "Bad JSON, or a password against the policy"),
        AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn reset_password(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
    JsonBody(body): JsonBody<PasswordResetBody>,
) -> Result<Json<PasswordResetView>, ApiError> {
    let user = state.service.user(id).await?;
    let reset = state
        .service
        .reset_password(&user, body.password.map(Password::new), &admin.actor)
        .await?;
    Ok(Json(PasswordResetView {
        password: reset.generated_password.map(|p| p.expose().to_owned()),
        revoked: reset.revoked,
    }))
}

#[utoipa::path(
    delete, path = "/api/admin/users/{id}", tag = "admin",
    summary = "Delete a user: every session ends; the audit trail keeps their events and username",
    params(("id" = i64, Path, minimum = 1, description = "The user's numeric id", example = 7)),
    responses(
        (status = 200, body = Revoked, description = "Deleted; how many sessions ended",
         example = json!(Revoked { revoked: 1 })),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 409, body = ErrorBody,
         description = "Refused: the user is the owner (`owner_protected`) or the caller \
                        (`cannot_delete_self`)"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn delete_user(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
) -> Result<Json<Revoked>, ApiError> {
    let user = state.service.user(id).await?;
    let revoked = state.service.delete_user(&user, &admin.actor).await?;
    Ok(Json(Revoked { revoked }))
}
