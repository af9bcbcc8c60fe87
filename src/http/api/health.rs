//! Liveness and readiness, for orchestrators and load balancers.

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::openapi::Unavailable;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    status: String,
}

#[utoipa::path(
    get, path = "/healthz", tag = "health",
    summary = "Liveness",
    responses(
        (status = 200, body = Status, description = "The process serves requests",
         example = json!({"status": "ok"})),
    )
)]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

#[utoipa::path(
    get, path = "/readyz", tag = "health",
    summary = "Readiness: both stores answer",
    responses(
        (status = 200, body = Status, description = "Both stores answer",
         example = json!({"status": "ready"})),
        Unavailable,
    )
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    state.service.ready().await?;
    Ok(Json(Status {
        status: "ready".into(),
    }))
}
