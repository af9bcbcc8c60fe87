//! A sign-in held back at the session limit (`409 session_limit` with a `limit_token`):
//! list your sessions, end one, then complete the sign-in. The token is good for nothing
//! else, for minutes, and completing uses it up.

use super::session::signed_in;
use crate::domain::session::ClientInfo;
use crate::domain::token::SecretToken;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Checked;
use crate::http::openapi::{CrossOrigin, Unavailable, examples};
use crate::views::{ErrorBody, LimitSessions, LoginResponse};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(limit_sessions, complete_sign_in))
        .routes(routes!(end_session))
}

/// The `limit_token` a request carries as `Authorization: Bearer`.
pub struct LimitToken(SecretToken);

impl<S: Send + Sync> FromRequestParts<S> for LimitToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|v| SecretToken::parse(v.trim()))
            .map(LimitToken)
            .ok_or_else(ApiError::unauthorized)
    }
}

#[utoipa::path(
    get, path = "/api/login/limit", tag = "session",
    summary = "The sessions of a sign-in held at the session limit",
    responses(
        (status = 200, body = LimitSessions, description = "Your sessions, most recently active first",
         example = json!(examples::limit_sessions())),
        (status = 401, body = ErrorBody,
         description = "No `limit_token`, or it expired or was used (`pending_sign_in_gone`)"),
        (status = 403, body = ErrorBody, description = "The account was blocked meanwhile"),
        Unavailable,
    ),
    security(("bearer" = []))
)]
async fn limit_sessions(
    State(state): State<AppState>,
    LimitToken(token): LimitToken,
) -> Result<Json<LimitSessions>, ApiError> {
    let (_, sessions) = state.service.sessions_at_limit(&token).await?;
    Ok(Json(LimitSessions::new(&sessions)))
}

#[utoipa::path(
    delete, path = "/api/login/limit/sessions/{id}", tag = "session",
    summary = "End one of your sessions to make room for a held sign-in",
    params(("id" = String, Path, description = "The session's public id", example = "ses_Yh2k9QmZ3xV1cT8bN4wR5s")),
    responses(
        (status = 204, description = "Ended; complete the sign-in with `POST /api/login/limit`"),
        (status = 401, body = ErrorBody,
         description = "No `limit_token`, or it expired or was used (`pending_sign_in_gone`)"),
        (status = 403, body = ErrorBody,
         description = "The account was blocked meanwhile, or a browser sent the request from another origin"),
        (status = 404, body = ErrorBody, description = "Not one of your sessions"),
        Unavailable,
    ),
    security(("bearer" = []))
)]
async fn end_session(
    State(state): State<AppState>,
    LimitToken(token): LimitToken,
    client: ClientInfo,
    Checked(Path(id)): Checked<Path<String>>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .end_session_at_limit(&token, &id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/api/login/limit", tag = "session",
    summary = "Complete a held sign-in once there is room; uses the `limit_token` up",
    responses(
        (status = 201, body = LoginResponse, description = "Signed in, as `POST /api/login` answers",
         example = json!(examples::login())),
        (status = 401, body = ErrorBody,
         description = "No `limit_token`, or it expired or was used (`pending_sign_in_gone`)"),
        (status = 403, body = ErrorBody, description = "The account was blocked meanwhile"),
        (status = 409, body = ErrorBody,
         description = "Still at the limit (`session_limit`): end a session first; the token stays good"),
        (status = 423, body = ErrorBody, description = "The account was locked meanwhile"),
        CrossOrigin, Unavailable,
    ),
    security(("bearer" = []))
)]
async fn complete_sign_in(
    State(state): State<AppState>,
    LimitToken(token): LimitToken,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let new = state.service.complete_sign_in(&token, &client).await?;
    Ok(signed_in(&state, &new))
}
