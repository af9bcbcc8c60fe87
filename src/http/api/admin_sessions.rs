//! The admin API's sessions: every active session, and terminating one or all of a user's.

use crate::http::AppState;
use crate::http::api::PageQuery;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, examples};
use crate::store::SessionFilter;
use crate::views::{ErrorBody, Revoked, SessionPage, parse_address_filter, parse_user_id};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, terminate_user_sessions))
        .routes(routes!(terminate_session))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Only this user's sessions (numeric id).
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = Option<i64>)]
    user_id: Option<String>,
    /// Only the sessions of the users whose username begins with this, whatever its case
    /// (`ali` finds alice), or of the user with this numeric id or e-mail address. Not with
    /// `userId`.
    #[param(example = "ali")]
    user: Option<String>,
    /// Only sessions created from, or last used from, this address (`203.0.113.7`), an
    /// address beginning with this (`10.1.`, `2001:db8:`) or one in this network
    /// (`10.0.0.0/8`, `2001:db8::/32`).
    #[param(example = "10.0.0.0/8")]
    ip: Option<String>,
}

#[utoipa::path(
    get, path = "/api/admin/sessions", tag = "admin",
    summary = "All active sessions, most recently active first",
    params(PageQuery, SessionQuery),
    responses(
        (status = 200, body = SessionPage, description = "One page of sessions and how many match",
         example = json!(examples::session_page())),
        BadRequest, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_sessions(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(page)): Checked<Query<PageQuery>>,
    Checked(Query(query)): Checked<Query<SessionQuery>>,
) -> Result<Json<SessionPage>, ApiError> {
    let paging = page.paging()?;
    let user = query
        .user
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let users = match (parse_user_id(query.user_id.as_deref())?, user) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give userId or user, not both"));
        }
        (Some(id), None) => Some(vec![id]),
        (None, Some(text)) => {
            let found = state.service.users_matching(text).await?;
            Some(found.iter().map(|u| u.id).collect())
        }
        (None, None) => None,
    };
    let filter = SessionFilter {
        users,
        address: parse_address_filter(query.ip.as_deref())?,
    };
    let page = state
        .service
        .list_sessions(&filter, paging.limit, paging.offset)
        .await?;
    Ok(Json(SessionPage::new(&page, paging)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserIdQuery {
    /// The user whose sessions all end (numeric id). Required.
    #[serde(rename = "userId")]
    #[param(rename = "userId", value_type = i64)]
    user_id: Option<String>,
}

#[utoipa::path(
    delete, path = "/api/admin/sessions", tag = "admin",
    summary = "Terminate every session of one user (Logout all devices)",
    params(UserIdQuery),
    responses(
        (status = 200, body = Revoked, description = "How many sessions ended",
         example = json!(Revoked { revoked: 3 })),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such user"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn terminate_user_sessions(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Query(query)): Checked<Query<UserIdQuery>>,
) -> Result<Json<Revoked>, ApiError> {
    let user_id = parse_user_id(query.user_id.as_deref())?.ok_or_else(|| {
        ApiError::bad_request("userId is required to terminate a user's sessions")
    })?;
    let user = state.service.user(user_id).await?;
    let revoked = state
        .service
        .terminate_user_sessions(&user, &admin.actor)
        .await?;
    Ok(Json(Revoked { revoked }))
}

#[utoipa::path(
    delete, path = "/api/admin/sessions/{id}", tag = "admin",
    summary = "Terminate one session",
    params(("id" = String, Path, description = "The session's public id", example = "k3Jd9sQx2LmA0pVz")),
    responses(
        (status = 204, description = "Terminated; that device is signed out"),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such active session"),
        (status = 409, body = ErrorBody, description = "The caller's own current session: log out instead",
         example = json!(examples::current_session())),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn terminate_session(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(id)): Checked<Path<String>>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .terminate_session(&id, &admin.actor, admin.session_id.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
