//! The self-service API: the caller's sessions, and revoking them. Rules live in the service.

use crate::domain::session::ClientInfo;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiSession, Checked};
use crate::http::openapi::{BadRequest, CrossOrigin, SignedInErrors, examples};
use crate::views::{ErrorBody, OwnSessions, Revoked, SessionView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, revoke_others))
        .routes(routes!(revoke_one))
}

#[utoipa::path(
    get, path = "/api/user/sessions", tag = "self-service",
    summary = "The caller's active sessions",
    responses(
        (status = 200, body = OwnSessions, description = "The caller's sessions, the current one marked",
         example = json!(examples::own_sessions())),
        SignedInErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
) -> Result<Json<OwnSessions>, ApiError> {
    let sessions = state
        .service
        .own_sessions(&auth.session)
        .await?
        .iter()
        .map(|own| SessionView::new(&own.session, Some(own.current)))
        .collect();
    Ok(Json(OwnSessions { sessions }))
}

#[utoipa::path(
    delete, path = "/api/user/sessions/{id}", tag = "self-service",
    summary = "Revoke one of the caller's other sessions",
    params(("id" = String, Path, description = "The session's public id", example = "k3Jd9sQx2LmA0pVz")),
    responses(
        (status = 204, description = "Revoked; that device is signed out"),
        BadRequest, SignedInErrors, CrossOrigin,
        (status = 404, body = ErrorBody, description = "Not one of the caller's sessions"),
        (status = 409, body = ErrorBody, description = "The current session: log out instead",
         example = json!(examples::current_session())),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn revoke_one(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
    client: ClientInfo,
    Checked(Path(id)): Checked<Path<String>>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .revoke_own_session(&auth.session, &id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/api/user/sessions", tag = "self-service",
    summary = "Revoke all of the caller's sessions but the current one",
    responses(
        (status = 200, body = Revoked, description = "How many sessions ended",
         example = json!(Revoked { revoked: 2 })),
        SignedInErrors, CrossOrigin,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn revoke_others(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
    client: ClientInfo,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = state
        .service
        .revoke_other_own_sessions(&auth.session, &client)
        .await?;
    Ok(Json(Revoked { revoked }))
}
