//! The self-service API: the caller's sessions, and revoking them. Rules live in the service.

use super::SessionView;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiSession;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/user/sessions", get(list).delete(revoke_others))
        .route("/api/user/sessions/{id}", delete(revoke_one))
}

async fn list(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let sessions: Vec<SessionView> = state
        .service
        .own_sessions(&auth.session)
        .await?
        .iter()
        .map(|own| SessionView::new(&own.session, Some(own.current)))
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

async fn revoke_one(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_own_session(&auth.session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_others(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let revoked = state
        .service
        .revoke_other_own_sessions(&auth.session)
        .await?;
    Ok(Json(json!({ "revoked": revoked })))
}
